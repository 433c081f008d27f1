import { Agent, request } from 'undici';

/**
 * Keeps `concurrency` loops of GETs and POSTs (one in five) going through `balancer` and counts
 * failures: what scaling and chaos tests run underneath to prove no request is lost.
 */
export function steadyTraffic(balancer: string, concurrency: number) {
  const dispatcher = new Agent({ connections: concurrency });
  const failures: string[] = [];
  let ok = 0;
  let running = true;
  const loop = async (n: number) => {
    for (let i = 0; running; i += 1) {
      const post = i % 5 === 0;
      try {
        const response = await request(post ? `${balancer}/users` : `${balancer}/users/1`, {
          method: post ? 'POST' : 'GET',
          headers: post ? { 'content-type': 'application/json' } : {},
          body: post ? JSON.stringify({ name: 'Load', email: `load-${n}-${i}-${Date.now()}@example.com` }) : undefined,
          dispatcher,
        });
        await response.body.arrayBuffer();
        if (response.statusCode === 200 || response.statusCode === 201) ok += 1;
        else failures.push(`${post ? 'POST' : 'GET'} ${response.statusCode}`);
      } catch (err) {
        failures.push(`${post ? 'POST' : 'GET'} ${(err as Error).message}`);
      }
    }
  };
  const loops = Array.from({ length: concurrency }, (_, n) => loop(n));
  return {
    failures,
    ok: () => ok,
    async stop() {
      running = false;
      await Promise.all(loops);
      await dispatcher.close();
    },
  };
}
