#!/usr/bin/env node
/**
 * Writes the README's figures from the latest results files, so no figure is typed by hand:
 * - the test run: test-results/summary.json (written by `npm test`), kept as docs/results/test-run.json;
 * - each benchmark: the first table of bench/results/<name>.md and its run date.
 * The block between `<!-- figures:start -->` and `<!-- figures:end -->` is replaced.
 *
 * Usage: node scripts/readme-figures.mjs          rewrite the README (and docs/results/test-run.json)
 *        node scripts/readme-figures.mjs --check  exit 1 when the README's block is not what the files say
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readmeFile = path.join(root, 'README.md');
const latestRun = path.join(root, 'test-results', 'summary.json');
const keptRun = path.join(root, 'docs', 'results', 'test-run.json');
const benchDir = path.join(root, 'bench', 'results');
const START = '<!-- figures:start -->';
const END = '<!-- figures:end -->';
const check = process.argv.includes('--check');

/** The test run's paragraph, from the kept summary. */
function testRunFigures() {
  if (!existsSync(keptRun)) return 'No full test run has been recorded yet: run `npm test`, then `npm run docs:figures`.';
  const run = JSON.parse(readFileSync(keptRun, 'utf8'));
  const v = run.vitest;
  const p = run.playwright;
  const minutes = `${Math.floor(run.seconds / 60)} min ${run.seconds % 60} s`;
  const lines = [
    `**Tests** — the last full \`npm test\` recorded (${run.date.slice(0, 10)}, commit \`${run.commit}\`, ${run.cores} cores, Node ${run.node}), ` +
      `from \`docs/results/test-run.json\`: ${minutes} in all; ` +
      `Vitest ${v ? `${v.passed} passed, ${v.failed} failed, ${v.skipped} skipped` : 'no summary'}; ` +
      `Playwright ${p ? `${p.passed} passed, ${p.failed} failed${p.flaky ? `, ${p.flaky} flaky (passed on its retry)` : ''}` : 'no summary'}; ` +
      `Docker tests: ${run.docker}; left behind: ${run.leftovers.length === 0 ? 'nothing' : run.leftovers.map((l) => `${l.kind} ${l.name}`).join(', ')}.`,
  ];
  const skipped = (v?.skippedParts ?? []).filter((s) => s.part !== 'docker');
  if (skipped.length > 0) lines.push(`Skipped there: ${skipped.map((s) => `${s.part} (${s.tests} test${s.tests === 1 ? '' : 's'}: ${s.reason})`).join('; ')}.`);
  return lines.join('\n');
}

/** Each benchmark's title, date and first table, from its markdown result. */
function benchFigures() {
  if (!existsSync(benchDir)) return [];
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(benchDir, file), 'utf8');
      const title = /^# (.+)$/m.exec(text)?.[1] ?? file;
      const date = /(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}/.exec(text)?.[1] ?? 'undated';
      const lines = text.split('\n');
      const first = lines.findIndex((l) => l.startsWith('|'));
      const table = [];
      for (let i = first; first >= 0 && i < lines.length && lines[i].startsWith('|'); i++) table.push(lines[i]);
      return `**${title}** (\`bench/results/${file}\`, run ${date})\n\n${table.join('\n')}`;
    });
}

if (!check && existsSync(latestRun)) {
  const latest = JSON.parse(readFileSync(latestRun, 'utf8'));
  if (latest.ok) {
    mkdirSync(path.dirname(keptRun), { recursive: true });
    copyFileSync(latestRun, keptRun);
  } else console.log(`test-results/summary.json is of a failed run (${latest.date}); the README keeps the last good one`);
}

const block = [START, '', testRunFigures(), '', ...benchFigures().flatMap((b) => [b, '']), END].join('\n');
const readme = readFileSync(readmeFile, 'utf8');
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) {
  console.error(`README.md has no ${START} … ${END} block`);
  process.exit(1);
}
const next = readme.slice(0, from) + block + readme.slice(to + END.length);
if (check) {
  if (next !== readme) {
    console.error('README.md figures differ from the results files: run npm run docs:figures');
    process.exit(1);
  }
  console.log('README.md figures match the results files');
} else {
  writeFileSync(readmeFile, next);
  console.log('README.md figures written from docs/results/test-run.json and bench/results/*.md');
}
