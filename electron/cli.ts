#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CpuQuantityError, MAX_REPLICAS, parseCpu, RUNTIMES, type Progress } from './contract.js';
import { attachOrStart, ControlClient, RemoteError } from './control/client.js';
import { scalelabHome } from './control/control-file.js';
import { serve } from './cli-serve.js';
import { requestLoginUrl } from './dashboard-login.js';
import { openDashboard } from './open-dashboard.js';
import { runTraffic, TrafficUsageError } from './cli-traffic.js';
import { AutoscaleUsageError, runAutoscale } from './cli-autoscale.js';
import { CHAOS_OPTIONS, ChaosUsageError, runChaos, runVerify } from './cli-chaos.js';
import { runScenario, ScenarioUsageError } from './cli-scenario.js';
import { describeCpuLimits, printStatus, statusJson } from './cli-status.js';
import { usageErrorOf, UsageError, wholeNumber } from './cli-usage.js';
import { HELP } from './cli-help.js';
import { CapacityUsageError, runCapacity } from './cli-capacity.js';
import { GuardUsageError, runGuard } from './cli-guard.js';

const home = scalelabHome();

/** A cpu flag checked by the contract's own parser, so the CLI refuses what the control plane would. */
function cpuOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseCpu(value);
    return value;
  } catch (err) {
    if (err instanceof CpuQuantityError) throw new UsageError(`--${name} ${err.message}`);
    throw err;
  }
}

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  return wholeNumber(`--${name}`, value, min, max);
}

function dockerNetwork(value: string | undefined): 'bridge' | 'host' | undefined {
  if (value === undefined || value === 'bridge' || value === 'host') return value;
  throw new UsageError(`--network must be bridge or host (got "${value}")`);
}

/** Prints progress lines as they arrive (to stderr with --json, so stdout stays JSON). */
function showProgress(client: ControlClient, json: boolean): () => void {
  const started = Date.now();
  return client.on('progress', (p: Progress) => {
    const line = `  [${((p.t - started) / 1000).toFixed(1).padStart(5)} s] ${p.message}`;
    if (json) console.error(line);
    else console.log(line);
  });
}

async function withClient<T>(json: boolean, work: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = await attachOrStart(home, (m) => (json ? console.error(m) : console.log(m)));
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        // The chaos actions' own options (each module declares what it reads).
        ...CHAOS_OPTIONS,
        name: { type: 'string' },
        runtime: { type: 'string' },
        network: { type: 'string' },
        context: { type: 'string' },
        'keep-data': { type: 'boolean', default: false },
        report: { type: 'string' },
        assert: { type: 'string', multiple: true },
        'image-service': { type: 'string' },
        'image-postgres': { type: 'string' },
        'image-redis': { type: 'string' },
        'read-replica': { type: 'boolean' },
        partitions: { type: 'string' },
        'no-events': { type: 'boolean' },
        api: { type: 'string' },
        workers: { type: 'string' },
        'api-cpu': { type: 'string' },
        'worker-cpu': { type: 'string' },
        port: { type: 'string' },
        purge: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        follow: { type: 'boolean', short: 'f', default: false },
        lines: { type: 'string' },
        open: { type: 'boolean', default: false },
        detached: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        profile: { type: 'string' },
        rps: { type: 'string' },
        duration: { type: 'string' },
        mix: { type: 'string' },
        zipf: { type: 'string' },
        uniform: { type: 'boolean' },
        constant: { type: 'boolean' },
        timeout: { type: 'string' },
        period: { type: 'string' },
        steps: { type: 'string' },
        replay: { type: 'string' },
        min: { type: 'string' },
        max: { type: 'string' },
        cpu: { type: 'string' },
        'p95-ms': { type: 'string' },
        'queue-per-worker': { type: 'string' },
        preset: { type: 'string' },
        sync: { type: 'string' },
        'cpu-request': { type: 'string' },
        for: { type: 'string' },
        replicas: { type: 'string' },
        p99: { type: 'string' },
        errors: { type: 'string' },
        step: { type: 'string' },
        'min-rps': { type: 'string' },
        'max-rps': { type: 'string' },
        save: { type: 'string' },
        compare: { type: 'string' },
        baselines: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw usageErrorOf(err, argv);
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseCommandLine(argv);
  const [command = 'help', ...rest] = positionals;
  const json = values.json;
  const out = (value: unknown) => console.log(JSON.stringify(value, null, 2));
  if (values.help || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.name !== undefined && !/^[a-z0-9][a-z0-9-]{0,39}$/.test(values.name))
    throw new UsageError(`--name must be lowercase letters, digits and dashes (got "${values.name}")`);
  if (values.runtime !== undefined && !(RUNTIMES as readonly string[]).includes(values.runtime))
    throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')} (got "${values.runtime}")`);

  switch (command) {
    case 'up': {
      const spec = {
        name: values.name,
        runtime: values.runtime as (typeof RUNTIMES)[number] | undefined,
        replicas: { api: intOption('api', values.api, 1, MAX_REPLICAS), worker: intOption('workers', values.workers, 0, MAX_REPLICAS) },
        port: intOption('port', values.port, 1024, 65_535),
        images: { service: values['image-service'], postgres: values['image-postgres'], redis: values['image-redis'] },
        docker: { network: dockerNetwork(values.network) },
        kubernetes: { context: values.context },
        resources: {
          api: { cpu: cpuOption('api-cpu', values['api-cpu']) },
          worker: { cpu: cpuOption('worker-cpu', values['worker-cpu']) },
        },
        data: {
          readReplica: values['read-replica'],
          partitions: intOption('partitions', values.partitions, 0, 64),
          events: values['no-events'] ? false : undefined,
        },
      };
      const images = values['image-service'] ?? values['image-postgres'] ?? values['image-redis'];
      if (values.network !== undefined && spec.runtime !== 'docker') throw new UsageError('--network applies to --runtime docker');
      if (images !== undefined && spec.runtime !== 'docker' && spec.runtime !== 'kubernetes')
        throw new UsageError('--image-* apply to --runtime docker or kubernetes');
      if (values.context !== undefined && spec.runtime !== 'kubernetes') throw new UsageError('--context applies to --runtime kubernetes');
      const started = Date.now();
      if (!json)
        console.log(
          `ScaleLab: starting stack "${spec.name ?? 'default'}" on ${{ docker: 'Docker', kubernetes: 'Kubernetes', local: 'local processes' }[spec.runtime ?? 'local']}`,
        );
      return withClient(json, async (client) => {
        const stop = showProgress(client, json);
        const status = await client.call('stack:up', JSON.parse(JSON.stringify(spec)) as object);
        stop();
        if (json) return (out(statusJson(status)), 0);
        const api = status.instances.filter((i) => i.service === 'api' && i.phase === 'ready').length;
        console.log(
          `\nStack "${status.spec?.name}" is up in ${((Date.now() - started) / 1000).toFixed(1)} s with ${api} api replica${api === 1 ? '' : 's'} ready.`,
        );
        console.log(`  Balancer   ${status.endpoints?.balancer}`);
        console.log(`  Dashboard  ${status.endpoints?.dashboard}`);
        const cpu = describeCpuLimits(status.cpuLimits);
        if (cpu) console.log(`  CPU        ${cpu}`);
        console.log(
          `\nTry it:\n  curl -s -X POST ${status.endpoints?.balancer}/users -H 'content-type: application/json' -d '{"name":"Ada","email":"ada@example.com"}'`,
        );
        console.log(`  npx scalelab status\n  npx scalelab scale api 4\n  npx scalelab down`);
        if (values.open && status.endpoints?.dashboard) console.log(`\n${openDashboard(await requestLoginUrl(client.control))}`);
        return 0;
      });
    }
    case 'status':
      return withClient(json, async (client) => {
        const status = await client.call('stack:status', {});
        if (json) out(statusJson(status));
        else printStatus(status);
        return 0;
      });
    case 'scale': {
      const [service, count] = rest;
      if (service !== 'api' && service !== 'worker') throw new UsageError('usage: scalelab scale api|worker N');
      if (count === undefined)
        throw new UsageError(`usage: scalelab scale ${service} N (how many ${service} replicas, e.g. scalelab scale ${service} 4)`);
      const replicas = wholeNumber(
        `the ${service} replica count`,
        count,
        service === 'api' ? 1 : 0,
        MAX_REPLICAS,
        `scalelab scale ${service} 4`,
      )!;
      return withClient(json, async (client) => {
        const stop = showProgress(client, json);
        const status = await client.call('stack:scale', { service, replicas });
        stop();
        if (json) out(statusJson(status));
        else
          console.log(
            `${service}: ${status.instances.filter((i) => i.service === service && i.phase === 'ready').length} of ${replicas} ready`,
          );
        return 0;
      });
    }
    case 'logs': {
      const [instance] = rest;
      if (!instance) throw new UsageError('usage: scalelab logs <instance> [-f]; `scalelab status` lists the instances');
      const lines = intOption('lines', values.lines, 1, 10_000) ?? 100;
      const client = await attachOrStart(home);
      const tail = await client.call('logs:tail', { instance, lines });
      for (const line of tail.lines) console.log(json ? JSON.stringify({ instance, line }) : line);
      if (!values.follow) {
        client.close();
        return 0;
      }
      client.on('log', (l) => console.log(json ? JSON.stringify(l) : l.line));
      await client.call('logs:follow', { instance });
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
      client.close();
      return 0;
    }
    case 'down':
      if (values.purge && values['keep-data'])
        throw new UsageError('--purge and --keep-data contradict each other; down keeps the data unless --purge is given');
      return withClient(json, async (client) => {
        const stop = showProgress(client, json);
        await client.call('stack:down', { name: values.name, purge: values.purge });
        stop();
        // A control plane the CLI started goes with its stack; a foreground one stays.
        await client.call('control:shutdown', {}).catch((err: unknown) => {
          if (!(err instanceof RemoteError)) throw err;
        });
        if (json) out({ stopped: true, purged: values.purge });
        else
          console.log(values.purge ? 'Stopped; the data is deleted.' : 'Stopped; the data is kept (`scalelab down --purge` deletes it).');
        return 0;
      });
    case 'traffic':
      return withClient(json, (client) => runTraffic(client, values, json));
    case 'autoscale':
      return withClient(json, (client) => runAutoscale(client, rest, values, json));
    case 'chaos':
      return runChaos((work) => withClient(json, work), rest, values, json);
    case 'scenario':
      return runScenario(() => attachOrStart(home, (m) => (json ? console.error(m) : console.log(m))), rest, values, json);
    case 'verify':
      return withClient(json, (client) => runVerify(client, json));
    case 'reset':
      return withClient(json, async (client) => {
        const reset = await client.call('lab:reset', {});
        console.log(json ? JSON.stringify(reset, null, 2) : `Lab reset:\n${reset.done.map((d) => `  - ${d}`).join('\n')}`);
        return 0;
      });
    case 'capacity':
      return withClient(json, (client) => runCapacity(client, values, json));
    case 'guard':
      return withClient(json, (client) => runGuard(client, rest, values, json));
    case 'serve':
      // The last port for this home, else the default, unless something else has it; --port is taken as asked.
      await serve(home, intOption('port', values.port, 0, 65_535), values.open, values.detached);
      return -1;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    const error = err as Error;
    console.error(`scalelab: ${error.message}`);
    if (error instanceof RemoteError && error.name === 'ContractError') console.error('(run `scalelab help` for usage)');
    process.exit(
      error instanceof UsageError ||
        error instanceof TrafficUsageError ||
        error instanceof AutoscaleUsageError ||
        error instanceof ChaosUsageError ||
        error instanceof ScenarioUsageError ||
        error instanceof CapacityUsageError ||
        error instanceof GuardUsageError
        ? 2
        : 1,
    );
  },
);
