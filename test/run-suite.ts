/**
 * `npm test`'s last step: runs Vitest, then Playwright, then checks that the run left nothing
 * behind, and prints one closing line with all three, written to test-results/summary.json too
 * (scripts/readme-figures.mjs puts its figures in the README).
 *
 * Usage: node --import tsx test/run-suite.ts
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { leftOver, takeSnapshot, type Leftover } from './support/leftovers.js';
import type { SkippedPart, VitestSummary } from './support/suite-summary.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = path.join(root, 'test-results');
const vitestFile = path.join(results, 'vitest-summary.json');
const playwrightFile = path.join(results, 'playwright.json');
const dockerSkipFile = path.join(results, 'docker-skip.txt');

/** What test-results/summary.json holds: one run of the whole suite. */
export interface SuiteSummary {
  date: string;
  commit: string;
  node: string;
  cores: number;
  seconds: number;
  vitest: VitestSummary | undefined;
  playwright: { passed: number; failed: number; flaky: number; skipped: number } | undefined;
  docker: string;
  leftovers: Leftover[];
  ok: boolean;
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
  });
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

interface PlaywrightJson {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
}

const started = Date.now();
mkdirSync(results, { recursive: true });
for (const file of [vitestFile, playwrightFile]) if (existsSync(file)) writeFileSync(file, '');
const before = await takeSnapshot(root);

const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const vitestCode = await run(bin('vitest'), ['run']);
const playwrightCode = await run(bin('playwright'), ['test', '-c', 'test/e2e/playwright.config.ts']);

// Processes stop a moment after their test's last line: give them that moment.
await new Promise((resolve) => setTimeout(resolve, 2_000));
const leftovers = leftOver(before, await takeSnapshot(root));

const vitest = readJson<VitestSummary>(vitestFile);
const pw = readJson<PlaywrightJson>(playwrightFile)?.stats;
const playwright = pw ? { passed: pw.expected, failed: pw.unexpected, flaky: pw.flaky, skipped: pw.skipped } : undefined;
const dockerPart = vitest?.skippedParts.find((p: SkippedPart) => p.part === 'docker');
const docker = dockerPart
  ? `skipped (${existsSync(dockerSkipFile) ? readFileSync(dockerSkipFile, 'utf8').trim() : dockerPart.reason})`
  : 'ran';
const ok = vitestCode === 0 && playwrightCode === 0 && leftovers.length === 0;
const summary: SuiteSummary = {
  date: new Date().toISOString(),
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(),
  node: process.versions.node,
  cores: (await import('node:os')).availableParallelism(),
  seconds: Math.round((Date.now() - started) / 1000),
  vitest,
  playwright,
  docker,
  leftovers,
  ok,
};
writeFileSync(path.join(results, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

if (leftovers.length > 0) {
  console.log(`\nThe run left ${leftovers.length} thing(s) behind (a test's cleanup failed; remove them and fix that test):`);
  for (const l of leftovers) console.log(`  ${l.kind}: ${l.name}`);
}
const minutes = `${Math.floor(summary.seconds / 60)} m ${summary.seconds % 60} s`;
const vitestText = vitest
  ? `vitest ${vitest.passed} passed, ${vitest.failed} failed, ${vitest.skipped} skipped`
  : `vitest exited ${vitestCode} without a summary`;
const pwText = playwright
  ? `playwright ${playwright.passed} passed, ${playwright.failed} failed${playwright.flaky ? `, ${playwright.flaky} flaky` : ''}`
  : `playwright exited ${playwrightCode} without a summary`;
const skipped = (vitest?.skippedParts ?? []).filter((p) => p.part !== 'docker').map((p) => `${p.part}: skipped ${p.tests} (${p.reason})`);
console.log(
  `\nsuite: ${vitestText} · ${pwText} · docker: ${docker}${skipped.length ? ` · ${skipped.join(' · ')}` : ''} · leftovers: ${leftovers.length || 'none'} · ${minutes} · ${ok ? 'ok' : 'FAILED'}`,
);
process.exit(ok ? 0 : 1);
