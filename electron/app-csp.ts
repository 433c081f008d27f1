/**
 * The app's Content-Security-Policy, one for every way its page is loaded. The desktop window
 * loads renderer/index.html from file://, where no response header exists: the `<meta>` in that
 * file is the policy that applies, and it must be exactly this one (a test compares them). The
 * headless server sends the same policy as a header, plus what only a header can say
 * (frame-ancestors) and its own port for the WebSocket.
 *
 * connect-src is 'self' only: the desktop window talks to the control plane over IPC (the
 * preload's `window.scalelab`), and a browser tab's WebSocket is same-origin
 * (ws://<host:port>/ws), which CSP3's 'self' covers. Inline styles stay allowed because the chart
 * library sets `style` attributes; scripts never run inline.
 */
export const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'";
