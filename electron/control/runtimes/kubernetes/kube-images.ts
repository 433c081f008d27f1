import { spawn } from 'node:child_process';
import { BUILT_SERVICE_IMAGE, type StackSpec } from '../../../contract.js';
import type { OnProgress } from '../runtime.js';
import { connectDocker } from '../docker/engine.js';
import { ensureImage, serviceImageRef } from '../docker/images.js';
import { NamedError } from '../../../../backend/named-error.js';

/** The service image cannot reach the cluster. */
export class KubeImageError extends NamedError {}

/** Options of {@link provideServiceImage}. */
export interface ProvideImageOptions {
  minikube: boolean;
  /** The kubeconfig context (Minikube's profile has the same name). */
  context: string;
  /** The `minikube` executable. @defaultValue 'minikube' on PATH */
  minikubeBin?: string;
}

/** Runs `minikube image load`, reporting its output lines as progress. */
export function loadIntoMinikube(bin: string, profile: string, ref: string, onProgress: OnProgress): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['image', 'load', ref, '--profile', profile, '--overwrite=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const report = (chunk: Buffer) => {
      for (const line of chunk
        .toString()
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)) {
        tail = line;
        onProgress(`minikube image load: ${line}`);
      }
    };
    child.stdout.on('data', report);
    child.stderr.on('data', report);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new KubeImageError(
          err.code === 'ENOENT'
            ? `the minikube command is not on PATH, so ${ref} cannot be loaded into the cluster; install Minikube, or push the image to a registry and name it with --image-service`
            : err.message,
        ),
      ),
    );
    // 'close', not 'exit': the last output lines are read by then.
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new KubeImageError(`minikube image load ${ref} failed (exit ${code}): ${tail}`)),
    );
  });
}

/**
 * The service image reference the cluster runs. A registry image named in the spec is used as it
 * is; the built one (`scalelab/service`) is built with the local Docker engine and loaded into
 * Minikube, since no other cluster can see a local image.
 */
export async function provideServiceImage(spec: StackSpec, options: ProvideImageOptions, onProgress: OnProgress): Promise<string> {
  if (spec.images.service !== BUILT_SERVICE_IMAGE) {
    onProgress(`the cluster pulls the service image ${spec.images.service}`);
    return spec.images.service;
  }
  const ref = await serviceImageRef(spec.images.service);
  if (!options.minikube) {
    throw new KubeImageError(
      `the service image ${ref} is built locally, and only Minikube can load a local image; push it to a registry this cluster can pull from and start with --image-service <registry>/scalelab-service:<tag>`,
    );
  }
  onProgress(`building ${ref} with the local Docker engine`);
  const engine = await connectDocker();
  await ensureImage(engine.docker, spec.images.service, 'service', onProgress);
  onProgress(`loading ${ref} into Minikube (profile ${options.context})`);
  await loadIntoMinikube(options.minikubeBin ?? 'minikube', options.context, ref, onProgress);
  onProgress(`${ref} is in Minikube`);
  return ref;
}
