/**
 * The desktop window and the guards its pages run under: a sandboxed, context-isolated renderer
 * without Node, the app's one CSP (app-csp.ts: the `<meta>` of the file:// page, the header of the
 * headless server's), no navigation, redirect or frame navigation away from the app, no new
 * windows, no permissions, no DevTools in a packaged build. The renderer talks to the main
 * process only through the preload's `window.scalelab`.
 */
import { app, BrowserWindow, shell, type Session, type WebContents } from 'electron';
import { isAppUrl, isStackUrl, type AppPages } from './app-urls.js';

export { isAppUrl, isStackUrl, type AppPages };

/** Opens one of the stack's own URLs in the system browser; any other is dropped. */
function openExternal(url: string): void {
  if (isStackUrl(url)) void shell.openExternal(url);
}

/**
 * Denies every permission request (camera, geolocation, notifications…): the dashboard needs
 * none, and a compromised page must not gain any. The CSP is the page's own `<meta>` (file://
 * has no headers to inject one into) or the headless server's header; see app-csp.ts.
 */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/**
 * Keeps `contents` on the app's pages: a navigation (of the window or of any frame) or a
 * redirect elsewhere is stopped, and every new window is refused; a stack URL among them opens
 * in the system browser instead.
 */
function guard(contents: WebContents, pages: AppPages): void {
  const stay = (event: { url: string; preventDefault(): void }) => {
    if (isAppUrl(event.url, pages)) return;
    event.preventDefault();
    openExternal(event.url);
  };
  contents.on('will-navigate', stay);
  // Any frame's navigation; the main frame's already went through will-navigate (one browser tab, not two).
  contents.on('will-frame-navigate', (event) => {
    if (event.isMainFrame) return;
    if (!isAppUrl(event.url, pages)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (isAppUrl(event.url, pages)) return;
    // A redirect is the server's choice, not the user's click: stop it and open nothing.
    event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // A packaged build has no DevTools (also off in webPreferences); this catches the shortcut too.
  if (app.isPackaged) contents.on('devtools-opened', () => contents.closeDevTools());
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
      // DevTools are for development: a packaged build has none (no inspecting the token-holding page).
      devTools: !app.isPackaged,
    },
  });
  guard(win.webContents, options.pages);
  return win;
}
