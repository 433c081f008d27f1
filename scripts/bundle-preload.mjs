// Bundles electron/preload.ts with what it imports from the contract (typebox included) into one
// CommonJS file, dist/electron/preload.cjs: a sandboxed preload may require only 'electron' and a
// few built-ins, never a local module or an ES module. main.ts points the window at this file.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

await build({
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  entryPoints: ['electron/preload.ts'],
  outfile: 'dist/electron/preload.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'es2022',
  external: ['electron'],
  logLevel: 'warning',
});
