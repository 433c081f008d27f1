/**
 * One-time login codes for the dashboard: how a browser gets the token's cookie without the token
 * ever being on a command line. Whoever opens the dashboard (`serve --open`, `up --open`) asks the
 * control plane for a code and launches the browser on `/?code=…`; the server trades the code for
 * the HttpOnly cookie once, then forgets it. A process list still shows the browser's argv, but
 * what it shows is used up within seconds and worthless after {@link LOGIN_CODE_TTL_MS} at most.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ControlFile } from './control/control-file.js';

/** Where a client holding the token asks for a one-time login URL (POST, Bearer token). */
export const LOGIN_CODE_PATH = '/login-code';

/** How long an unused code stays valid: long enough for a browser to start. */
export const LOGIN_CODE_TTL_MS = 60_000;
/** Codes outstanding at once; older ones are dropped first (nobody needs more than a few). */
const MAX_CODES = 16;

/** Issues and redeems one-time codes. */
export class LoginCodes {
  private readonly codes = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A fresh code, valid once within {@link LOGIN_CODE_TTL_MS}. */
  issue(): string {
    this.prune();
    while (this.codes.size >= MAX_CODES) this.codes.delete(this.codes.keys().next().value as string);
    const code = randomBytes(18).toString('base64url');
    this.codes.set(code, this.now() + LOGIN_CODE_TTL_MS);
    return code;
  }

  /** True (once) for a code that was issued and has not expired; the code is spent either way. */
  redeem(given: string): boolean {
    this.prune();
    const x = Buffer.from(given);
    for (const [code, expires] of this.codes) {
      const y = Buffer.from(code);
      if (x.length === y.length && timingSafeEqual(x, y)) {
        this.codes.delete(code);
        return expires > this.now();
      }
    }
    return false;
  }

  private prune(): void {
    const now = this.now();
    for (const [code, expires] of this.codes) if (expires <= now) this.codes.delete(code);
  }
}

/**
 * A one-time, token-free dashboard URL (`/?code=…`) from the control plane described by
 * `control`, for a browser's command line (`scalelab up --open`).
 */
export async function requestLoginUrl(control: ControlFile): Promise<string> {
  const res = await fetch(`${control.url}${LOGIN_CODE_PATH}`, { method: 'POST', headers: { authorization: `Bearer ${control.token}` } });
  if (!res.ok) throw new Error(`the control plane at ${control.url} gave no login code (${res.status})`);
  return ((await res.json()) as { url: string }).url;
}
