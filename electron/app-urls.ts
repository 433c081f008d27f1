/**
 * Which URLs the desktop window treats as its own pages, and which it may hand to the system
 * browser. Plain functions without an 'electron' import, so they are tested without the binary.
 */

/** Which URLs are the app's own pages; every other URL is refused or handed to the system browser. */
export interface AppPages {
  /** file:// URL of the built renderer's folder, ending in `/` (when this process hosts the control plane). */
  fileBase?: string;
  /** Origin of the control plane's headless server, e.g. `http://127.0.0.1:4750`. */
  origin?: string;
}

/** True when `url` is one of the app's own pages. */
export function isAppUrl(url: string | undefined, pages: AppPages): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // Parsed first, so `file:///…/renderer/../../etc` cannot pass the prefix test.
  if (parsed.protocol === 'file:') return pages.fileBase !== undefined && parsed.href.startsWith(pages.fileBase);
  return pages.origin !== undefined && parsed.origin === pages.origin;
}

/**
 * True for the only links the system browser may be handed: the stack's own pages (its balancer,
 * the dashboard, the API docs), which all live on this machine's loopback over http(s), without
 * credentials in the URL. A compromised or tricked page cannot make the app open anything else.
 */
export function isStackUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const web = parsed.protocol === 'http:' || parsed.protocol === 'https:';
  return web && (parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost') && !parsed.username && !parsed.password;
}
