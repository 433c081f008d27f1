#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { LocalStack } from './control/runtimes/local/local-stack.js';

const HELP = `scalelab — start, watch and break a scalable user-management stack

Usage:
  scalelab up [--name NAME] [--port PORT]   start the stack on local processes and stay attached
                                            (Ctrl-C stops it; data is kept)
  scalelab down --purge [--name NAME]       delete a stopped stack's data
  scalelab help                             this text
`;

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

async function up(name: string, port: number): Promise<void> {
  const started = Date.now();
  console.log(`ScaleLab: starting stack "${name}" on local processes`);
  const stack = new LocalStack({ name, apiPort: port, onProgress: (message) => console.log(`  … ${message}`) });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the stack (data is kept)…`);
    await stack.down();
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    const endpoints = await stack.up();
    console.log(`\nStack "${name}" is up in ${elapsed(started)}:`);
    console.log(`  API     ${endpoints.apiUrl}`);
    console.log(`  Docs    ${endpoints.apiUrl}/docs`);
    console.log(`  Metrics ${endpoints.apiUrl}/metrics`);
    console.log(`  State   ${endpoints.stateDir} (logs in logs/)`);
    console.log(`  Data    ${endpoints.dataDir}`);
    console.log(`\nTry it:`);
    console.log(`  curl -s -X POST ${endpoints.apiUrl}/users -H 'content-type: application/json' -d '{"name":"Ada","email":"ada@example.com"}'`);
    console.log(`  curl -s ${endpoints.apiUrl}/users/1`);
    console.log(`\nPress Ctrl-C to stop.`);
  } catch (err) {
    console.error(`\nCould not start the stack: ${(err as Error).message}`);
    await stack.down().catch(() => undefined);
    process.exit(1);
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string', default: 'default' },
      port: { type: 'string', default: '3000' },
      purge: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0] ?? 'help';
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(values.name)) throw new Error(`--name must be lowercase letters, digits and dashes (got "${values.name}")`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a port number (got "${values.port}")`);
  if (values.help || command === 'help') {
    process.stdout.write(HELP);
  } else if (command === 'up') {
    await up(values.name, port);
  } else if (command === 'down') {
    if (!values.purge) throw new Error('a stack started with `scalelab up` stops with Ctrl-C; `down --purge` deletes its data');
    await new LocalStack({ name: values.name }).down({ purge: true });
    console.log(`deleted the data of stack "${values.name}"`);
  } else {
    throw new Error(`unknown command "${command}"\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`scalelab: ${(err as Error).message}`);
  process.exit(2);
});
