// Builds dist/service/: what the service image (backend/Dockerfile) runs, straight from the
// TypeScript sources (no tsc step, so the image's build stage needs only esbuild).
//   api.mjs, worker.mjs   one bundle each (same esbuild options as scripts/bundle.mjs)
//   node_modules/         the packages the bundles load at run time, with their dependencies:
//                         @fastify/swagger-ui (it serves its static files from its own package
//                         folder), pg and ioredis (loaded with require so that tracing can patch
//                         them) and the OpenTelemetry packages (loaded only when tracing is on);
//                         see bundle-externals.mjs
//   package.json          marks the folder as ES modules
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { EXTERNAL, RUNTIME_PACKAGES, requireInstrumented } from './bundle-externals.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/service');
const COPIED = RUNTIME_PACKAGES;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const entries = { api: 'backend/api/server.ts', worker: 'backend/worker/main.ts' };
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [join(root, entry)],
      outfile: join(out, `${name}.mjs`),
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

/**
 * Finds the folder of package `name` as Node would from `fromDir` (a package folder): its own
 * node_modules first, then each parent's, up to the repository's.
 */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === dirname(dir)) return undefined;
  }
}

// Copy each package of the closure to the same place relative to the root, so npm's flat layout
// and any nested node_modules resolve in dist/service exactly as they do here.
const copied = new Set();
const queue = COPIED.map((name) => ({ name, from: root, optional: false }));
while (queue.length > 0) {
  const { name, from, optional } = queue.shift();
  const dir = resolvePackage(name, from);
  if (!dir) {
    if (optional) continue;
    throw new Error(`bundle-service: ${name} (needed from ${relative(root, from) || '.'}) is not installed; run npm ci`);
  }
  if (copied.has(dir)) continue;
  copied.add(dir);
  // Nested node_modules are copied only for the packages the walk reaches.
  cpSync(dir, join(out, relative(root, dir)), { recursive: true, dereference: true, filter: (src) => !relative(dir, src).split(/[\\/]/).includes('node_modules') });
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false });
  for (const dep of Object.keys(manifest.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
}

writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
process.stdout.write(`bundle-service: dist/service (api.mjs, worker.mjs, ${copied.size} packages in node_modules)\n`);
