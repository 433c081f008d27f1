// Bundles the api and the worker (after tsc) into one file each, so a new replica loads one
// module instead of hundreds: on 2 cores a compiled api answers /readyz in about 0.5 s instead
// of 1 s, and nine starting at once in about 4 s instead of 7 (see bench/results/control.md).
// backendCommand runs these bundles when the control plane itself runs from dist/.
// Tracing needs pg and ioredis loaded with require from node_modules: see bundle-externals.mjs.
import { build } from 'esbuild';
import { EXTERNAL, requireInstrumented } from './bundle-externals.mjs';

const entries = { 'backend/api/server': 'dist/backend/api/server.js', 'backend/worker/main': 'dist/backend/worker/main.js' };
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [entry],
      outfile: `dist/${name}.bundle.mjs`,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: EXTERNAL,
      plugins: [requireInstrumented],
      // CommonJS dependencies call require(); give the ES module bundle one.
      banner: { js: "import { createRequire as __scalelabRequire } from 'node:module'; const require = __scalelabRequire(import.meta.url);" },
      logLevel: 'warning',
    }),
  ),
);
