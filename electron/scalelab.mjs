#!/usr/bin/env node
// `npx scalelab …` from a checkout: the compiled CLI when `npm run build` has run and is current,
// else the TypeScript source through tsx, so no build step is needed first.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/electron/cli.js', import.meta.url));
const source = fileURLToPath(new URL('./cli.ts', import.meta.url));
if (existsSync(built) && statSync(built).mtimeMs >= statSync(source).mtimeMs) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source);
}
