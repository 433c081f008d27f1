import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { BUILT_SERVICE_IMAGE } from '../../../contract.js';
import type { OnProgress } from '../runtime.js';
import { NamedError } from '../../../../backend/named-error.js';

/** An image is missing and could not be pulled or built; the message says what to do. */
export class ImageUnavailableError extends NamedError {}

/** The project root (where backend/Dockerfile is), from this module's place in the source or in dist/. */
export function projectRoot(): string {
  const here = fileURLToPath(new URL('../../../../', import.meta.url));
  return path.basename(here) === 'dist' ? path.dirname(here) : here;
}

/** What the service image is built from, relative to the project root (the build context). */
export const SERVICE_CONTEXT = [
  'package.json',
  'package-lock.json',
  'backend',
  'scripts/bundle-service.mjs',
  'scripts/bundle-externals.mjs',
];

async function filesUnder(root: string, entry: string): Promise<string[]> {
  const full = path.join(root, entry);
  const entries = await readdir(full, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return existsSync(full) ? [entry] : [];
  const nested = await Promise.all(entries.map((e) => filesUnder(root, path.join(entry, e.name))));
  return nested.flat();
}

/** A hash of the service image's inputs: the tag changes exactly when a rebuild is due. */
export async function serviceContextHash(root = projectRoot()): Promise<string> {
  const hash = createHash('sha256');
  const files = (await Promise.all(SERVICE_CONTEXT.map((entry) => filesUnder(root, entry)))).flat().sort();
  for (const file of files) {
    hash.update(file);
    hash.update(await readFile(path.join(root, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

/**
 * The image reference to run for the service: `scalelab/service` means "built here from
 * backend/Dockerfile", tagged by the hash of what it is built from.
 */
export async function serviceImageRef(ref: string): Promise<string> {
  return ref === BUILT_SERVICE_IMAGE ? `${BUILT_SERVICE_IMAGE}:${await serviceContextHash()}` : ref;
}

/** Reads a build or pull stream to its end, reporting its lines; rejects on an error line. */
function follow(docker: Docker, stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: Array<{ error?: string }>) => {
        const failed = err ?? output.find((o) => o.error);
        if (failed) reject(new Error(failed instanceof Error ? failed.message : failed.error));
        else resolve();
      },
      (event: { stream?: string; status?: string; progress?: string; id?: string; error?: string }) => {
        const text = (event.stream ?? [event.id, event.status, event.progress].filter(Boolean).join(' ')).trim();
        if (text) onLine(text);
      },
    );
  });
}

/** Options of {@link buildServiceImage}. */
export interface BuildServiceImageOptions {
  /** Build arguments, e.g. NODE_IMAGE for a base image other than the official node one. */
  buildargs?: Record<string, string>;
  /** `host` lets the build reach a registry through the host's network. */
  networkmode?: string;
  /** Project root holding backend/Dockerfile. @defaultValue {@link projectRoot} */
  root?: string;
  /** Labels on the image. */
  labels?: Record<string, string>;
}

/** Builds the service image from backend/Dockerfile as `tag`, reporting each build step. */
export async function buildServiceImage(
  docker: Docker,
  tag: string,
  onProgress: OnProgress,
  options: BuildServiceImageOptions = {},
): Promise<void> {
  const root = options.root ?? projectRoot();
  if (!existsSync(path.join(root, 'backend', 'Dockerfile'))) {
    throw new ImageUnavailableError(
      `cannot build ${tag}: backend/Dockerfile is not in ${root}; name a service image in the spec (--image-service)`,
    );
  }
  // The context is exactly the Dockerfile's inputs: small, and the same files the tag hashes.
  const tar = spawn('tar', ['-c', '-C', root, ...SERVICE_CONTEXT], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarError = '';
  tar.stderr.on('data', (chunk: Buffer) => (tarError += chunk.toString()));
  onProgress(`building ${tag} from backend/Dockerfile (first use only; later starts reuse it)`);
  const stream = await docker.buildImage(tar.stdout, {
    t: tag,
    dockerfile: 'backend/Dockerfile',
    buildargs: options.buildargs,
    networkmode: options.networkmode,
    labels: options.labels,
    rm: true,
    forcerm: true,
  });
  const steps = /^Step (\d+)\/(\d+)/;
  await follow(docker, stream, (line) => {
    const step = steps.exec(line);
    if (step) onProgress(`build: ${line}`, Number(step[1]) / Number(step[2]));
  }).catch((err: Error) => {
    throw new ImageUnavailableError(`building ${tag} failed: ${err.message}${tarError ? ` (${tarError.trim()})` : ''}`);
  });
}

/** Pulls `ref`, reporting layer progress at most every second. */
async function pull(docker: Docker, ref: string, role: string, onProgress: OnProgress): Promise<void> {
  onProgress(`pulling ${ref}`);
  let last = 0;
  try {
    const stream = (await docker.pull(ref)) as NodeJS.ReadableStream;
    await follow(docker, stream, (line) => {
      if (Date.now() - last < 1_000) return;
      last = Date.now();
      onProgress(`pull ${ref}: ${line}`);
    });
  } catch (err) {
    const why = (err as Error).message.replace(/\s+/g, ' ').trim();
    throw new ImageUnavailableError(
      `the ${role} image ${ref} is not here and pulling it failed (${why}). Connect to its registry, or name an image this engine has (\`docker images\`) with --image-${role} (spec images.${role})`,
    );
  }
}

/**
 * Makes sure `ref` is present: nothing to do when it is, else it is built (the ScaleLab service
 * image) or pulled. Resolves to the reference to run.
 */
export async function ensureImage(
  docker: Docker,
  ref: string,
  role: 'service' | 'postgres' | 'redis',
  onProgress: OnProgress,
): Promise<string> {
  const resolved = await serviceImageRef(ref);
  const present = await docker
    .getImage(resolved)
    .inspect()
    .then(() => true)
    .catch(() => false);
  if (present) return resolved;
  if (ref === BUILT_SERVICE_IMAGE) await buildServiceImage(docker, resolved, onProgress);
  else await pull(docker, resolved, role, onProgress);
  return resolved;
}
