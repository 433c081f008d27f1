import { describe, expect, it } from 'vitest';
import { BUILTIN_IDS } from '../../electron/control/scenarios/builtin.js';
import { runScalelab } from './support/scalelab-cli.js';
import { makeTempHome, removeTempHome } from '../support/temp-home.js';

/** Runs a command that must fail before it reaches a control plane. */
async function usage(args: string[]) {
  const home = await makeTempHome('scalelab-cli-usage-');
  try {
    return await runScalelab(home, args, 90_000);
  } finally {
    await removeTempHome(home);
  }
}

describe.concurrent('scalelab usage errors', () => {
  const cases: [string[], RegExp][] = [
    [
      ['scale', 'api', '-3'],
      /^scalelab: the api replica count must be a whole number from 1 to 20 \(got "-3"\), e\.g\. scalelab scale api 4$/,
    ],
    [['scale', 'api', '--', '-3'], /^scalelab: the api replica count must be a whole number from 1 to 20 \(got "-3"\)/],
    [['scale', 'worker', 'many'], /^scalelab: the worker replica count must be a whole number from 0 to 20 \(got "many"\)/],
    [['scale', 'api'], /^scalelab: usage: scalelab scale api N/],
    [['up', '--api'], /^scalelab: "--api" needs a value after it/],
    [['up', '--bogus'], /^scalelab: unknown option "--bogus" for "up"; see scalelab help/],
    [['up', '--json=yes'], /^scalelab: "--json" is a switch and takes no value/],
    [['traffic', '--rps', '-5'], /^scalelab: "--rps -5": negative numbers are not accepted here/],
    [
      ['up', '--api-cpu', '250x'],
      /^scalelab: --api-cpu "250x" is not a cpu quantity: write millicores such as "250m" or cores such as "0\.5" or "1"$/,
    ],
    [['up', '--worker-cpu', '5m'], /^scalelab: --worker-cpu "5m" is out of range: a replica's cpu is from 10m to 64 cores$/],
  ];
  for (const [args, expected] of cases) {
    it(`\`scalelab ${args.join(' ')}\` prints one line in the user's words and exits 2`, async () => {
      const { code, stderr, stdout } = await usage(args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(expected);
      // Nothing of Node's parseArgs wording, and no flag the user never typed.
      expect(lines[0]).not.toMatch(/positional argument|Unknown option|argument missing|--replicas/);
      expect((lines[0]!.match(/"/g) ?? []).length % 2).toBe(0);
    });
  }

  it('help lists every built-in scenario that `scenario list` knows', async () => {
    const { code, stdout } = await usage(['help']);
    expect(code).toBe(0);
    const builtins = /built-ins: ([\s\S]+?)\n {2}scalelab down/.exec(stdout)?.[1]?.replace(/\s+/g, ' ').trim();
    expect(builtins?.split(', ')).toEqual([...BUILTIN_IDS]);
  });
});
