import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { ChaosActionSchema, type ChaosAction } from '../../../electron/contract.js';
import { actionName, ChaosUsageError, msOption, type ChaosActionModule, type ChaosArgs } from '../../../electron/chaos/action-kit.js';
import { CHAOS_ACTIONS } from '../../../electron/chaos/actions/index.js';
import { CHAOS_BUTTONS, buttonAction } from '../../../electron/chaos/buttons.js';
import { CHAOS_OPTIONS, CHAOS_USAGE_LINES, chaosAction } from '../../../electron/cli-chaos.js';
import { HELP } from '../../../electron/cli-help.js';

const modules = CHAOS_ACTIONS as readonly ChaosActionModule[];

/** One command line per action and what it must become: a new module adds its line here. */
const EXAMPLES: Record<string, [target: string | undefined, args: ChaosArgs, action: ChaosAction]> = {
  kill: ['random-api', { graceful: true }, { action: 'kill', target: 'random-api', graceful: true }],
  pause: ['api-2', {}, { action: 'pause', target: 'api-2' }],
  resume: ['api-2', {}, { action: 'resume', target: 'api-2' }],
  'kill-cache': [undefined, { for: '3s' }, { action: 'kill-cache', forSeconds: 3 }],
  'kill-db': [undefined, {}, { action: 'kill-db' }],
  'kill-replica': [undefined, { for: '1500ms' }, { action: 'kill-replica', forSeconds: 1.5 }],
  'replica-delay': [undefined, { ms: '2s', for: '0.2s' }, { action: 'replica-delay', ms: 2000, forSeconds: 1 }],
  'kill-relay': [undefined, { for: '1m' }, { action: 'kill-relay', forSeconds: 60 }],
  'kill-projector': [undefined, {}, { action: 'kill-projector' }],
  latency: ['all', { db: '200ms' }, { action: 'latency', target: 'all', dbMs: 200 }],
  errors: ['api-1', { rate: '0.25' }, { action: 'errors', target: 'api-1', rate: 0.25 }],
  cpu: ['api-1', { seconds: '5', threads: '2' }, { action: 'cpu', target: 'api-1', seconds: 5, threads: 2 }],
  leak: ['api-1', { 'mb-per-second': '20' }, { action: 'leak', target: 'api-1', mbPerSecond: 20 }],
  block: ['api-1', { ms: '1.5s' }, { action: 'block', target: 'api-1', ms: 1500 }],
  monkey: ['on', { interval: '5s', 'max-down': '2' }, { action: 'monkey', enabled: true, intervalSeconds: 5, maxDown: 2 }],
};

describe('chaos action modules', () => {
  it('each has a CLI example here, and its command line becomes a contract-valid action', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(modules.map(actionName).sort());
    for (const [name, [target, args, expected]] of Object.entries(EXAMPLES)) {
      const action = chaosAction(name, target, args);
      expect(action, name).toEqual(expected);
      expect(Value.Check(ChaosActionSchema, action), name).toBe(true);
    }
  });

  it('builds the contract union, the CLI usage, its options and the help from the one list', () => {
    const names = modules.map(actionName);
    expect(new Set(names).size).toBe(names.length);
    // The union has one member per module, in the list's order.
    expect(
      (ChaosActionSchema as unknown as { anyOf: { properties: { action: { const: string } } }[] }).anyOf.map(
        (s) => s.properties.action.const,
      ),
    ).toEqual(names);
    for (const module of modules) {
      expect(module.usage.split(' ')[0]).toBe(actionName(module));
      expect(CHAOS_USAGE_LINES).toContain(`scalelab chaos ${module.usage}`);
      expect(HELP).toContain(`scalelab chaos ${module.usage}`);
      for (const [option, spec] of Object.entries(module.options ?? {})) {
        expect(CHAOS_OPTIONS[option], `${actionName(module)} --${option}`).toEqual(spec);
        expect(module.usage, `${actionName(module)}'s usage names --${option}`).toContain(`--${option}`);
      }
    }
  });

  it('gives every dashboard button a contract-valid action from its defaults', () => {
    for (const button of CHAOS_BUTTONS) {
      const action = buttonAction(button, {}, 'api-1');
      expect(Value.Check(ChaosActionSchema, action), button.id).toBe(true);
      for (const field of button.fields ?? [])
        expect(field.default >= field.min && field.default <= field.max, `${button.id}.${field.key}`).toBe(true);
    }
  });

  it('refuses a malformed command line with a usage error that names the action’s usage', () => {
    const refused = (what: string, target: string | undefined, args: ChaosArgs) => {
      try {
        chaosAction(what, target, args);
      } catch (err) {
        expect(err).toBeInstanceOf(ChaosUsageError);
        return (err as Error).message;
      }
      throw new Error(`${what} was accepted`);
    };
    expect(refused('latency', 'api-1', {})).toMatch(/needs --db 200ms and\/or --cache 50ms\nusage: scalelab chaos latency <instance\|all>/);
    expect(refused('errors', 'all', { rate: '7' })).toMatch(/--rate between 0 and 1 \(got "7"\)/);
    expect(refused('replica-delay', undefined, {})).toMatch(/needs --ms 2s/);
    expect(refused('kill', undefined, {})).toMatch(/needs an instance \(`scalelab status` lists them\)/);
    expect(refused('monkey', 'maybe', {})).toMatch(/needs on or off/);
    expect(refused('monkey', 'on', { 'max-down': '0' })).toMatch(/--max-down must be a whole number from 1 to 10/);
    expect(refused('kill-cache', undefined, { for: 'soon' })).toMatch(/--for must look like 200ms, 2s or 1.5/);
    expect(refused('explode', undefined, {})).toMatch(/unknown chaos action "explode"\nusage:\n {2}scalelab chaos kill /);
    expect(msOption('x', '0.5h')).toBe(1_800_000);
  });
});
