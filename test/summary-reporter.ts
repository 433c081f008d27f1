import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

type UserConsoleLog = Parameters<NonNullable<Reporter['onUserConsoleLog']>>[0];
import { partOfSkip, reasonFor, type SkippedPart, type VitestSummary } from './support/suite-summary.js';

/** Where the run's counts and skipped parts go, for test/run-suite.ts and scripts/readme-figures.mjs. */
export const VITEST_SUMMARY_FILE = path.resolve('test-results', 'vitest-summary.json');

/**
 * Prints one plain closing line that any CI log reader understands, after Vitest's own report:
 * `tests: N passed, N failed, N skipped`, then which parts were skipped and why. A skipped test
 * prints `skipped: <why>` from its file (see test/docker/images.ts, test/e2e/electron.test.ts);
 * those lines are what this reporter groups by part.
 */
export default class SummaryReporter implements Reporter {
  private readonly reasons = new Map<string, string[]>();

  onUserConsoleLog(log: UserConsoleLog): void {
    const reason = /^skipped: (.+)$/m.exec(log.content)?.[1]?.trim();
    if (!reason || !log.taskId) return;
    this.reasons.set(log.taskId, [...(this.reasons.get(log.taskId) ?? []), reason]);
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const parts = new Map<string, SkippedPart>();
    for (const module of testModules) {
      const logged = [...this.reasons].filter(([id]) => id === module.id || id.startsWith(`${module.id}_`)).flatMap(([, r]) => r);
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else {
          counts.skipped++;
          const reason = reasonFor(test.fullName, logged, module.moduleId) ?? 'no reason printed';
          const part = partOfSkip(reason, module.moduleId) ?? path.relative(process.cwd(), module.moduleId);
          const entry = parts.get(part) ?? { part, tests: 0, reason };
          entry.tests++;
          parts.set(part, entry);
        }
      }
    }
    const summary: VitestSummary = { ...counts, skippedParts: [...parts.values()] };
    mkdirSync(path.dirname(VITEST_SUMMARY_FILE), { recursive: true });
    writeFileSync(VITEST_SUMMARY_FILE, `${JSON.stringify(summary, null, 2)}\n`);
    const why = summary.skippedParts.map((p) => `${p.part}: skipped ${p.tests} (${p.reason})`).join('; ');
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${why ? ` — ${why}` : ''}\n`);
  }
}
