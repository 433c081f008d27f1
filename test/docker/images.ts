/**
 * Builds the images the Docker tests run, offline (no registry is needed): a Debian bookworm base
 * from debootstrap with the host's Node.js, then PostgreSQL and Redis images that keep the
 * official images' contracts, and the service image from the real backend/Dockerfile.
 *
 * Every tag carries a hash of its inputs; an existing tag is not built again, so a second run
 * takes seconds. The debootstrap root file system is also kept as a tarball under
 * /var/cache/scalelab-test, so rebuilding the base after the images were removed is quick.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { buildServiceImage, serviceContextHash } from '../../electron/control/runtimes/docker/images.js';

/** The tags of the test images, e.g. `scalelab-test/service:0123456789ab`. */
export interface TestImages {
  service: string;
  postgres: string;
  redis: string;
}

/** Receives one line of progress at a time. */
export type ProgressListener = (line: string) => void;

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMAGES_DIR = join(REPO, 'test/docker/images');
/** Written by scripts/setup.sh when it could not get a Docker engine going: the reason. */
const DOCKER_SKIP_FILE = join(REPO, 'test-results/docker-skip.txt');
/** Where the debootstrap tarball, a build lock and temporary build folders live. */
const CACHE_DIR = process.env.SCALELAB_TEST_CACHE ?? '/var/cache/scalelab-test';
/** Label on every image built here: `docker image prune -a --filter label=scalelab.test=images`. */
const IMAGE_LABELS = { 'scalelab.test': 'images' };

/** The root file systems: change any field and both are bootstrapped anew. */
const ROOTFS = {
  /** Bump when the steps in bootstrapRootfs change. */
  recipe: 2,
  suite: 'bookworm',
  variant: 'minbase',
  mirror: 'http://deb.debian.org/debian',
  /** In both: "base" (under the service image) and "stores" (under postgres and redis). */
  packages: ['ca-certificates'],
  /** Only in "stores", which the service image does not carry. */
  storePackages: ['postgresql', 'redis-server'],
};
type Flavour = 'base' | 'stores';
/** The host's bundle of trusted certificates: it holds the CA of any HTTPS proxy in the way. */
const HOST_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';

/** Whether a Docker engine answers (DOCKER_HOST or /var/run/docker.sock), and if not, why. */
export async function dockerAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const docker = new Docker();
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5_000).unref()),
    ]);
    return { ok: true };
  } catch (err) {
    const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    // scripts/setup.sh tried to install and start an engine; when it could not, it wrote why.
    const setupSaid = existsSync(DOCKER_SKIP_FILE) ? readFileSync(DOCKER_SKIP_FILE, 'utf8').trim() : undefined;
    const fix = setupSaid ? `setup said: ${setupSaid}` : 'scripts/setup.sh test installs and starts one on Debian/Ubuntu';
    return { ok: false, reason: `${where}: ${(err as Error).message}; ${fix}` };
  }
}

/**
 * Builds what is missing of the test images and returns their tags. Concurrent callers (test
 * files running in parallel) take turns through a lock file, so each image is built once.
 */
export async function ensureTestImages(onProgress: ProgressListener = () => undefined): Promise<TestImages> {
  const docker = new Docker();
  mkdirSync(CACHE_DIR, { recursive: true });
  const release = await lock(join(CACHE_DIR, 'build.lock'), onProgress);
  try {
    const started = Date.now();
    const rootfsHash = sha(JSON.stringify(ROOTFS));
    const base = await ensureBase(docker, rootfsHash, onProgress);
    const stores = await ensureRootfs(docker, rootfsHash, 'stores', onProgress);
    const folder = (name: string) => join(IMAGES_DIR, name);
    const postgresTag = `scalelab-test/postgres:${hashFiles(listFiles(folder('postgres')), folder('postgres'), stores)}`;
    const redisTag = `scalelab-test/redis:${hashFiles(listFiles(folder('redis')), folder('redis'), stores)}`;
    const serviceTag = `scalelab-test/service:${sha(await serviceContextHash(REPO), base)}`;

    for (const [tag, name] of [
      [postgresTag, 'postgres'],
      [redisTag, 'redis'],
    ] as const) {
      await ensureImage(docker, tag, onProgress, () =>
        build(docker, tag, tarStream(folder(name), listFiles(folder(name))), { buildargs: { BASE: stores } }, onProgress),
      );
    }
    // Host networking: npm ci inside the build reaches the registry the way the host does.
    // Built the way the product builds scalelab/service (same context, same Dockerfile), on the offline base.
    await ensureImage(docker, serviceTag, onProgress, () =>
      buildServiceImage(docker, serviceTag, (line) => onProgress(`[service] ${line}`), {
        buildargs: { NODE_IMAGE: base },
        networkmode: 'host',
        labels: IMAGE_LABELS,
        root: REPO,
      }),
    );
    onProgress(`[images] ready in ${seconds(started)}: ${serviceTag}, ${postgresTag}, ${redisTag}`);
    return { service: serviceTag, postgres: postgresTag, redis: redisTag };
  } finally {
    release();
  }
}

/**
 * The base of the service image, standing in for node:20-bookworm-slim: the "base" root file
 * system plus the host's node, npm and CA bundle.
 */
async function ensureBase(docker: Docker, rootfsHash: string, onProgress: ProgressListener): Promise<string> {
  const nodeBinary = realpathSync(process.execPath);
  const npmDir = findNpm(nodeBinary);
  const npmVersion = (JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')) as { version: string }).version;
  const baseTag = `scalelab-test/base:${sha(rootfsHash, process.version, npmVersion, readFileSync(HOST_CA_FILE))}`;
  if (await imageExists(docker, baseTag)) {
    onProgress(`[images] ${baseTag} exists`);
    return baseTag;
  }
  const rootfsTag = await ensureRootfs(docker, rootfsHash, 'base', onProgress);
  await ensureImage(docker, baseTag, onProgress, async () => {
    const stage = mkdtempSync(join(CACHE_DIR, 'base-context-'));
    try {
      cpSync(nodeBinary, join(stage, 'node'));
      cpSync(npmDir, join(stage, 'npm'), { recursive: true, dereference: true });
      cpSync(HOST_CA_FILE, join(stage, 'ca-certificates.crt'), { dereference: true });
      writeFileSync(
        join(stage, 'Dockerfile'),
        [
          'ARG ROOTFS',
          'FROM ${ROOTFS}',
          'COPY node /usr/local/bin/node',
          'COPY npm /usr/local/lib/node_modules/npm',
          // Replaces the Debian bundle: npm inside a build must trust the host's HTTPS proxy too.
          'COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt',
          'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\',
          ' && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
          ' && node --version && npm --version',
          'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
          'CMD ["node"]',
          '',
        ].join('\n'),
      );
      await build(docker, baseTag, tarStream(stage, ['.']), { buildargs: { ROOTFS: rootfsTag } }, onProgress);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });
  return baseTag;
}

/** Imports one flavour of the root file system, bootstrapping it first unless its tarball is cached. */
async function ensureRootfs(docker: Docker, rootfsHash: string, flavour: Flavour, onProgress: ProgressListener): Promise<string> {
  const repo = `scalelab-test/rootfs-${flavour}`;
  const tag = `${repo}:${rootfsHash}`;
  await ensureImage(docker, tag, onProgress, async () => {
    const tarball = rootfsTarball(rootfsHash, flavour);
    if (!existsSync(tarball)) await bootstrapRootfs(rootfsHash, onProgress);
    else onProgress(`[images] using the cached root file system ${tarball}`);
    const stream = (await docker.importImage(createReadStream(tarball), {
      repo,
      tag: rootfsHash,
      changes: ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'ENV LANG=C.UTF-8', 'CMD ["bash"]'],
    })) as unknown as Readable;
    await follow(docker, stream, () => undefined);
  });
  return tag;
}

function rootfsTarball(rootfsHash: string, flavour: Flavour): string {
  return join(CACHE_DIR, `rootfs-${rootfsHash}-${flavour}.tar`);
}

/**
 * debootstrap, then apt-get inside a chroot: the "base" tarball is taken after ROOTFS.packages,
 * the "stores" one after ROOTFS.storePackages too (each written atomically).
 */
async function bootstrapRootfs(rootfsHash: string, onProgress: ProgressListener): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('building the base images needs root (debootstrap, chroot); run the tests as root');
  const target = mkdtempSync(join(CACHE_DIR, 'rootfs-'));
  const step = async (label: string, command: string, args: string[]) => {
    const started = Date.now();
    onProgress(`[images] rootfs: ${label}…`);
    await run(command, args, onProgress);
    onProgress(`[images] rootfs: ${label} done in ${seconds(started)}`);
  };
  // The mirror's Release files may be past their Valid-Until for this machine's clock.
  const apt = ['-o', 'Acquire::Check-Valid-Until=false', '-o', 'Acquire::Check-Date=false', '-o', 'Acquire::Languages=none'];
  const install = (packages: string[]) =>
    step(`apt-get install ${packages.join(' ')}`, 'chroot', [
      target,
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      ...apt,
      'install',
      '-y',
      '-qq',
      '--no-install-recommends',
      ...packages,
    ]);
  const pack = async (flavour: Flavour) => {
    await run('chroot', [target, 'apt-get', 'clean'], onProgress);
    // Documentation, translations and locale sources are of no use here (images run as C.UTF-8).
    for (const dir of ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/i18n', 'var/log/apt']) {
      rmSync(join(target, dir), { recursive: true, force: true });
      mkdirSync(join(target, dir), { recursive: true });
    }
    const tarball = rootfsTarball(rootfsHash, flavour);
    const partial = `${tarball}.partial-${process.pid}`;
    const exclude = ['./dev/*', './proc/*', './sys/*', './tmp/*', './var/lib/apt/lists/*', './var/cache/apt/*'].map(
      (p) => `--exclude=${p}`,
    );
    await step(`tar ${tarball}`, 'tar', ['--numeric-owner', ...exclude, '-C', target, '-cf', partial, '.']);
    renameSync(partial, tarball);
  };
  let procMounted = false;
  try {
    await step(`debootstrap --variant=${ROOTFS.variant} ${ROOTFS.suite}`, 'debootstrap', [
      `--variant=${ROOTFS.variant}`,
      ROOTFS.suite,
      target,
      ROOTFS.mirror,
    ]);
    // No service starts inside the chroot; no default PostgreSQL cluster (the entrypoint makes one).
    writeFileSync(join(target, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    mkdirSync(join(target, 'etc/postgresql-common/createcluster.d'), { recursive: true });
    writeFileSync(join(target, 'etc/postgresql-common/createcluster.d/no-main-cluster.conf'), 'create_main_cluster = false\n');
    writeFileSync(
      join(target, 'etc/dpkg/dpkg.cfg.d/scalelab-nodoc'),
      ['doc', 'man', 'info', 'locale'].map((dir) => `path-exclude=/usr/share/${dir}/*\n`).join(''),
    );
    await run('mount', ['-t', 'proc', 'proc', join(target, 'proc')], onProgress);
    procMounted = true;
    await step('apt-get update', 'chroot', [target, 'apt-get', ...apt, 'update', '-qq']);
    await install(ROOTFS.packages);
    await pack('base');
    await install(ROOTFS.storePackages);
    // PostgreSQL's JIT pulls in LLVM (130 MB); without its provider library PostgreSQL runs without JIT.
    for (const file of [
      'usr/lib/postgresql/15/lib/llvmjit.so',
      'usr/lib/postgresql/15/lib/llvmjit_types.bc',
      'usr/lib/postgresql/15/lib/bitcode',
    ]) {
      rmSync(join(target, file), { recursive: true, force: true });
    }
    for (const multiarch of readdirSync(join(target, 'usr/lib')).filter((name) => name.endsWith('-linux-gnu'))) {
      const dir = join(target, 'usr/lib', multiarch);
      for (const lib of readdirSync(dir).filter((name) => /^lib(LLVM-\d+|z3)\.so/.test(name))) rmSync(join(dir, lib), { force: true });
    }
    await run('umount', [join(target, 'proc')], onProgress);
    procMounted = false;
    await pack('stores');
  } finally {
    if (procMounted) await run('umount', ['-l', join(target, 'proc')], () => undefined).catch(() => undefined);
    rmSync(target, { recursive: true, force: true });
  }
}

/** Runs `make` unless `tag` exists, logging the step and its time. */
async function ensureImage(docker: Docker, tag: string, onProgress: ProgressListener, make: () => Promise<void>): Promise<void> {
  if (await imageExists(docker, tag)) {
    onProgress(`[images] ${tag} exists`);
    return;
  }
  const started = Date.now();
  onProgress(`[images] building ${tag}…`);
  await make();
  if (!(await imageExists(docker, tag))) throw new Error(`building ${tag} reported success, but the image is missing`);
  const size = (await docker.getImage(tag).inspect()).Size;
  onProgress(`[images] built ${tag} in ${seconds(started)} (${Math.round(size / 1e6)} MB)`);
}

/** The classic builder (API 1.41 needs no `version`), streaming the build's output lines. */
async function build(
  docker: Docker,
  tag: string,
  context: Readable,
  options: { dockerfile?: string; buildargs: Record<string, string>; networkmode?: string },
  onProgress: ProgressListener,
): Promise<void> {
  const stream = (await docker.buildImage(context, {
    t: tag,
    rm: true,
    forcerm: true,
    labels: IMAGE_LABELS,
    ...options,
  })) as unknown as Readable;
  const name = tag.split(':')[0]!.replace('scalelab-test/', '');
  await follow(docker, stream, (line) => onProgress(`[${name}] ${line}`));
}

interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Follows a build or import stream; an `error` event in it rejects with the last lines. */
function follow(docker: Docker, stream: Readable, onLine: (line: string) => void): Promise<void> {
  const recent: string[] = [];
  return new Promise((resolvePromise, reject) => {
    let failure: string | undefined;
    docker.modem.followProgress(
      stream,
      (err: Error | null) => {
        if (err) reject(err);
        else if (failure) reject(new Error(`${failure}\n--- last output ---\n${recent.join('\n')}`));
        else resolvePromise();
      },
      (event: ProgressEvent) => {
        if (event.error) failure = event.errorDetail?.message ?? event.error;
        for (const line of (event.stream ?? event.status ?? '').split('\n')) {
          const text = line.trimEnd();
          if (!text) continue;
          recent.push(text);
          if (recent.length > 30) recent.shift();
          onLine(text);
        }
      },
    );
  });
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** npm beside the running node (…/bin/node → …/lib/node_modules/npm), or Debian's place. */
function findNpm(nodeBinary: string): string {
  for (const dir of [
    join(dirname(nodeBinary), '../lib/node_modules/npm'),
    '/usr/local/lib/node_modules/npm',
    '/usr/lib/node_modules/npm',
  ]) {
    if (existsSync(join(dir, 'bin/npm-cli.js'))) return realpathSync(dir);
  }
  throw new Error(`npm not found beside ${nodeBinary}; the base image copies the host's node and npm`);
}

/** Files under `path` (or `path` itself), sorted, skipping node_modules folders. */
function listFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.name !== 'node_modules')
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => listFiles(join(path, entry.name)));
}

/** Content hash of files (by path relative to `root`) and extra inputs. */
function hashFiles(files: string[], root: string, ...extra: string[]): string {
  return sha(...extra, ...files.flatMap((file) => [relative(root, file), readFileSync(file)]));
}

function sha(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 12);
}

/** A tar stream of `files` (paths under `root`), made by the tar command. */
function tarStream(root: string, files: string[]): Readable {
  const child = spawn('tar', ['-c', '--numeric-owner', '-C', root, '--null', '-T', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(files.map((file) => `${relative(root, resolve(root, file)) || '.'}\0`).join(''));
  child.on('exit', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`tar exited with ${code} while packing ${root}`));
  });
  return child.stdout;
}

/** Runs a command; its output goes line by line to onLine; a failure carries the last lines. */
function run(command: string, args: string[], onLine: ProgressListener): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const recent: string[] = [];
    const take = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        recent.push(line);
        if (recent.length > 20) recent.shift();
        onLine(`  ${line}`);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (err) =>
      reject(new Error(`${command}: ${err.message}${command === 'debootstrap' ? ' (install it: bash scripts/setup.sh test)' : ''}`)),
    );
    child.on('close', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${recent.join('\n')}`)),
    );
  });
}

/** A lock file holding the owner's pid; a lock whose owner is gone is taken over. */
async function lock(path: string, onProgress: ProgressListener): Promise<() => void> {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // released meanwhile
    }
    // An empty file is a lock being written; give its owner a moment before calling it stale.
    const stale = owner ? !alive(owner) : Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 5_000;
    if (stale) {
      rmSync(path, { force: true });
      continue;
    }
    if (!told) onProgress(`[images] waiting for another build (pid ${owner}) to finish`);
    told = true;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
