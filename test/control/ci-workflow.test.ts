/**
 * .github/workflows/stack.yml, offline: GitHub's own workflow parser (@actions/workflow-parser)
 * finds no error, and the workflow does what the README promises: `npm test` on every push and
 * pull request, the image and the chart built, published only from `v*` tags, to registries named
 * by repository variables, with credentials from secrets that are never printed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const FILE = path.resolve(import.meta.dirname, '../../.github/workflows/stack.yml');
const content = readFileSync(FILE, 'utf8');

type Obj = Record<string, any>;
type Step = { name?: string; uses?: string; run?: string; with?: Obj; env?: Obj; id?: string };

/**
 * The parser's error messages for each workflow text. The parser imports its JSON schema without
 * an import attribute, which Node refuses and tsx allows, and Vitest loads node_modules with Node:
 * so it runs in one `node --import tsx` child for all texts.
 */
function parseErrors(...texts: string[]): string[][] {
  const script = `(async () => {
    const { NoOperationTraceWriter, parseWorkflow } = await import('@actions/workflow-parser');
    const texts = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const out = texts.map((content) => parseWorkflow({ name: 'stack.yml', content }, new NoOperationTraceWriter()).context.errors.getErrors().map((e) => e.message));
    process.stdout.write(JSON.stringify(out));
  })()`;
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=commonjs', '-e', script], {
    input: JSON.stringify(texts),
    cwd: path.resolve(import.meta.dirname, '../..'),
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as string[][];
}

const workflow = YAML.parse(content) as Obj;
const jobs = workflow.jobs as Record<string, Obj>;
const steps = (job: string) => jobs[job]!.steps as Step[];
const runs = (job: string) =>
  steps(job)
    .map((s) => s.run ?? '')
    .join('\n');

describe('.github/workflows/stack.yml', () => {
  it('parses without an error in GitHub’s workflow parser, which reports a misspelt key, an unknown field and a bad expression', () => {
    const [clean, misspelt, unknown, expression] = parseErrors(
      content,
      content.replace('runs-on: ubuntu-24.04', 'run-on: ubuntu-24.04'),
      content.replace('    timeout-minutes: 45\n', '    timeout-minutes: 45\n    stepz: []\n'),
      content.replace('${{ vars.IMAGE_REGISTRY }}/', '${{ vars.IMAGE_REGISTRY ]}/'),
    );
    expect(clean).toEqual([]);
    expect(misspelt!.join('\n')).toMatch(/run-on/);
    expect(unknown!.join('\n')).toMatch(/stepz/);
    expect(expression!.length).toBeGreaterThan(0);
  });

  it('runs on push and pull requests, and on v* tags', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.on.push.tags).toEqual(['v*']);
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('runs the README’s test command, with what scripts/setup.sh needs', () => {
    expect(steps('test').some((s) => s.run?.trim() === 'npm test')).toBe(true);
    expect(readFileSync(path.resolve(import.meta.dirname, '../../.ci/run'), 'utf8')).toMatch(/^npm test$/m);
    const node = steps('test').find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(String(node?.with?.['node-version'])).toMatch(/^20\.(19|[2-9]\d)/);
    expect(runs('test')).toMatch(/apt-get install[^\n]*redis-server/);
    expect(runs('test')).toMatch(/\/usr\/bin\/chromium/);
    expect(jobs.test!.if).toBeUndefined();
  });

  it('builds backend/Dockerfile and lints and packages the chart on every run', () => {
    const build = steps('image').find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({ file: 'backend/Dockerfile', push: false });
    expect(runs('chart')).toMatch(/helm lint charts\/scalelab/);
    expect(runs('chart')).toMatch(/helm package charts\/scalelab/);
    expect(steps('chart').some((s) => s.uses?.startsWith('azure/setup-helm@'))).toBe(true);
    for (const job of ['image', 'chart']) expect(jobs[job]!.if, job).toBeUndefined();
  });

  it('publishes only from tags, after the tests, to registries named by repository variables', () => {
    const publishing = Object.entries(jobs).filter(([, job]) => JSON.stringify(job).match(/"push":true|helm push|docker push/));
    expect(publishing.map(([name]) => name).sort()).toEqual(['publish-chart', 'publish-image']);
    for (const [name, job] of publishing) {
      expect(job.if, name).toBe("startsWith(github.ref, 'refs/tags/v')");
      expect(job.needs, name).toContain('test');
    }
    const image = jobs['publish-image']!;
    expect(image.env.IMAGE).toBe('${{ vars.IMAGE_REGISTRY }}/${{ vars.IMAGE_NAME }}');
    expect(steps('publish-image').find((s) => s.uses?.startsWith('docker/login-action@'))?.with?.registry).toBe(
      '${{ vars.IMAGE_REGISTRY }}',
    );
    expect(steps('publish-image').find((s) => s.uses?.startsWith('docker/build-push-action@'))?.with?.tags).toMatch(
      /\$\{\{ env\.IMAGE \}\}:/,
    );
    expect(jobs['publish-chart']!.env.CHART_REGISTRY).toBe('${{ vars.CHART_REGISTRY }}');
    expect(runs('publish-chart')).toMatch(/helm push [^\n]*"\$CHART_REGISTRY"/);
    // No registry name is written into the workflow: every one comes from vars.*.
    const code = content
      .split('\n')
      .filter((line) => !/^\s*#/.test(line))
      .join('\n');
    expect(code).not.toMatch(/\b(ghcr\.io|docker\.io|quay\.io|gcr\.io|azurecr\.io|amazonaws\.com)\b/);
  });

  it('never echoes a secret: secrets reach only action inputs and env, and shell reads them from stdin', () => {
    for (const [name, job] of Object.entries(jobs)) {
      for (const step of job.steps as Step[]) {
        // `${{ secrets.X }}` inside a run script is pasted into the script (and any trace of it).
        expect(step.run ?? '', `${name}: ${step.name ?? step.uses}`).not.toMatch(/secrets\./);
        if (!step.run) continue;
        for (const line of step.run.split('\n')) {
          if (/\b(echo|printf)\b/.test(line) && /REGISTRY_PASSWORD|PASSWORD|TOKEN/.test(line))
            expect(line, `${name}: ${line}`).toMatch(/\|\s*\S+.*--password-stdin/);
        }
        expect(step.run, `${name}: ${step.name}`).not.toMatch(/set -x|--password[ =]"?\$/);
      }
    }
    expect(content).not.toMatch(/\$\{\{\s*secrets\.[^}]*\}\}[^\n]*\n?[^\n]*>>\s*"?\$GITHUB_(OUTPUT|ENV)/);
  });
});
