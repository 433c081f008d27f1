/**
 * The shapes of a test run's summary files under test-results/, shared by the Vitest reporter,
 * the suite runner (test/run-suite.ts) and the README's figures script.
 */

/** A part of the suite that did not run here, how many tests it holds, and why. */
export interface SkippedPart {
  part: string;
  tests: number;
  reason: string;
}

/** What test/summary-reporter.ts writes to test-results/vitest-summary.json. */
export interface VitestSummary {
  passed: number;
  failed: number;
  skipped: number;
  skippedParts: SkippedPart[];
}

/** The parts a skip can belong to, told by the file it is in or the reason it printed. */
const PARTS: { part: string; file?: RegExp; reason: RegExp }[] = [
  { part: 'docker', file: /[\\/]test[\\/]docker[\\/]/, reason: /docker/i },
  { part: 'electron', reason: /electron/i },
  { part: 'helm', reason: /\bhelm\b/i },
  { part: 'kubectl', reason: /\bkubectl\b/i },
];

/** The part (docker, electron, helm, kubectl) a printed skip reason names, if any. */
export function partOfSkip(reason: string, moduleId: string): string | undefined {
  return PARTS.find((p) => p.reason.test(reason) || p.file?.test(moduleId))?.part;
}

/** Of the reasons a file printed, the one a skipped test's name points at (its part's name in it). */
export function reasonFor(testName: string, reasons: string[], moduleId: string): string | undefined {
  return (
    reasons.find((r) => {
      const part = partOfSkip(r, moduleId);
      return part !== undefined && testName.toLowerCase().includes(part);
    }) ??
    reasons.find((r) => partOfSkip(r, moduleId) !== undefined) ??
    reasons[0]
  );
}
