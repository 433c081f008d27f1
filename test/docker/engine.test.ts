import { describe, expect, it } from 'vitest';
import { candidateSockets, connectDocker, DockerUnavailableError, probeDocker } from '../../electron/control/runtimes/docker/engine.js';
import { dockerAvailable } from './images.js';

describe('docker engine discovery', () => {
  it('looks where Docker Engine, Docker Desktop, rootless Docker and Podman listen', () => {
    const sockets = candidateSockets({ XDG_RUNTIME_DIR: '/run/user/1000' });
    expect(sockets[0]).toBe('/var/run/docker.sock');
    expect(sockets).toContain('/run/user/1000/docker.sock');
    expect(sockets).toContain('/run/user/1000/podman/podman.sock');
    expect(sockets.some((s) => s.endsWith('.docker/run/docker.sock'))).toBe(true);
  });

  it('a DOCKER_HOST with no engine behind it is reported unavailable, with why and what to do', async () => {
    const probe = await probeDocker({ DOCKER_HOST: 'unix:///tmp/scalelab-no-engine.sock' });
    expect(probe).toMatchObject({ runtime: 'docker', available: false });
    expect(probe.reason).toContain('DOCKER_HOST (unix:///tmp/scalelab-no-engine.sock)');
    expect(probe.fix).toMatch(/Start Docker Desktop|docker info/);
    await expect(connectDocker({ DOCKER_HOST: 'unix:///tmp/scalelab-no-engine.sock' })).rejects.toThrow(DockerUnavailableError);
  });

  it('reports the engine and its version when one answers', async (context) => {
    const engine = await dockerAvailable();
    if (!engine.ok) {
      console.log(`skipped: no Docker engine (${engine.reason})`);
      context.skip();
    }
    const probe = await probeDocker();
    expect(probe.available).toBe(true);
    expect(probe.version).toMatch(/^(Docker|Podman) Engine \d+\.\d+/);
  });
});
