#!/usr/bin/env node
// `npx scalelab …` from a checkout: the compiled CLI when `npm run build` has run since the last
// edit of any source it is built from, else the TypeScript source through tsx, so no build step
// is needed first and a stale build never runs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/electron/cli.js`;
const source = `${root}electron/cli.ts`;

/** The newest modification time of the .ts files under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(file));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

if (existsSync(built) && statSync(built).mtimeMs >= Math.max(newestSource(`${root}electron`), newestSource(`${root}backend`))) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source);
}
