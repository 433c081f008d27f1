import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { APP_CSP } from '../../electron/app-csp.js';
import { isAppUrl, isStackUrl } from '../../electron/app-urls.js';
import { root } from './support/scalelab-cli.js';

// The desktop window's guards that can be checked without the Electron binary (which cannot run
// here: test/e2e/electron.test.ts drives the real window where it can).

const metaCsp = (html: string) => /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];

describe('the Electron window (issue 20)', () => {
  it('one CSP: the <meta> a file:// window applies is the app policy, strict, with no ws://*:* source', () => {
    const source = metaCsp(readFileSync(path.join(root, 'renderer', 'index.html'), 'utf8'));
    expect(source).toBe(APP_CSP);
    expect(APP_CSP).toContain("connect-src 'self';");
    expect(APP_CSP).not.toMatch(/ws:\/\/|unsafe-eval|script-src[^;]*unsafe-inline/);
    const built = path.join(root, 'dist', 'renderer', 'index.html');
    if (existsSync(built)) expect(metaCsp(readFileSync(built, 'utf8'))).toBe(APP_CSP);
    else console.log('skipped the built page: dist/renderer/index.html is missing (npm run build)');
  });

  it("hands the system browser only the stack's own loopback http(s) URLs", () => {
    for (const url of ['http://127.0.0.1:8080/users/1', 'http://localhost:4750/', 'https://127.0.0.1:3000/docs'])
      expect(isStackUrl(url), url).toBe(true);
    for (const url of [
      'https://evil.example/',
      'http://127.0.0.2/',
      'http://user:pw@127.0.0.1/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://127.0.0.1/share',
      'http://127.0.0.1.evil.example/',
      'not a url',
    ]) {
      expect(isStackUrl(url), url).toBe(false);
    }
    const pages = { fileBase: 'file:///opt/scalelab/dist/renderer/', origin: 'http://127.0.0.1:4750' };
    expect(isAppUrl('file:///opt/scalelab/dist/renderer/index.html', pages)).toBe(true);
    expect(isAppUrl('file:///opt/scalelab/dist/renderer/../../../etc/passwd', pages)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:4751/', pages)).toBe(false);
  });

  it('sets the fuses the app can live with, and says why the two left on cannot be turned off', () => {
    const text = readFileSync(path.join(root, 'electron-builder.yml'), 'utf8');
    const fuses = (parse(text) as { electronFuses?: Record<string, boolean> }).electronFuses;
    expect(fuses).toEqual({
      runAsNode: true,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: true,
    });
    expect(text).toMatch(/runAsNode stays on: [^\n]*\n#[^\n]*ELECTRON_RUN_AS_NODE=1/);
    expect(text).toContain('grantFileProtocolExtraPrivileges stays on');
  });
});
