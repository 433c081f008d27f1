/**
 * The desktop window and the guards its pages run under: a sandboxed, context-isolated renderer
 * without Node, a strict CSP, no navigation away from the app, no new windows, no permissions.
 * The renderer talks to the main process only through the preload's `window.scalelab`.
 */
import { BrowserWindow, shell, type Session, type WebContents } from 'electron';

/**
 * The app's Content-Security-Policy: its own scripts only, no inline script, nothing remote.
 * Inline styles stay allowed because the chart library sets `style` attributes.
 */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

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

/** Opens http(s) links in the system browser; any other scheme (file:, javascript:, smb:…) is dropped. */
function openExternal(url: string): void {
  try {
    const { protocol } = new URL(url);
    if (protocol === 'http:' || protocol === 'https:') void shell.openExternal(url);
  } catch {
    // Not a URL: nothing to open.
  }
}

/**
 * Sets the CSP on the app's own documents and denies every permission request (camera, geolocation,
 * notifications…): the dashboard needs none, and a compromised page must not gain any.
 */
export function hardenSession(session: Session, pages: AppPages): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = details.responseHeaders ?? {};
    const isDocument = details.resourceType === 'mainFrame' || details.resourceType === 'subFrame';
    // The headless server sends its own, equally strict CSP (it also allows its WebSocket): keep it.
    const hasCsp = Object.keys(headers).some((name) => name.toLowerCase() === 'content-security-policy');
    if (!isDocument || hasCsp || !isAppUrl(details.url, pages)) return callback({});
    callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [CSP] } });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** Keeps `contents` on the app's pages: other navigations and every new window are refused. */
function guard(contents: WebContents, pages: AppPages): void {
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url, pages)) return;
    event.preventDefault();
    openExternal(event.url);
  });
  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Options of {@link createWindow}. */
export interface WindowOptions {
  pages: AppPages;
  /**
   * The bundled preload (dist/electron/preload.cjs). Left out when the window shows another
   * control plane's dashboard: without `window.scalelab` the renderer uses its WebSocket.
   */
  preload?: string;
}

/** The main window, locked down (see the file comment). */
export function createWindow(options: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: 'ScaleLab',
    // Dark like the dashboard, so the window does not flash white before the first paint.
    backgroundColor: '#0b0f14',
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  guard(win.webContents, options.pages);
  return win;
}
