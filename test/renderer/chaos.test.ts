import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChaosActionSchema,
  type ActiveFault,
  type ChaosStatus,
  type CommandName,
  type Sample,
  type WriteCheck,
} from '../../electron/contract.js';
import { ControlPlane } from '../../electron/control/control-plane.js';
import { faultPlace, faultWhen, lostIdsText, monkeySummary } from '../../renderer/features/chaos/chaos-data.js';
import { createAppStore } from '../../renderer/store/app-store.js';
import {
  ANSWER_GRACE_MS,
  chaosKey,
  DEFAULT_CHAOS_DRAFT,
  faultsOf,
  MONKEY_INTERVAL,
  MONKEY_MAX_DOWN,
  monkeyChanged,
  monkeyOn,
  PANEL_BUTTONS,
  panelActionOf,
  writesView,
} from '../../renderer/store/chaos-slice.js';
import { percentToRate } from '../../electron/chaos/actions/errors.js';
import { buttonAction, buttonsAt, CHAOS_BUTTONS } from '../../electron/chaos/buttons.js';
import type { Bridge } from '../../renderer/store/types.js';
import { removeTempHome } from '../support/temp-home.js';

// Error paths against a real control plane in-process (no stack: it refuses to inject); the
// answers of a running stack from a scripted bridge, since the slice only keeps what comes back.
let home: string;
let controlPlane: ControlPlane;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-chaos-ui-'));
  controlPlane = new ControlPlane({ home });
});
afterAll(async () => {
  await controlPlane.close();
  await removeTempHome(home);
});

const realBridge = (): Bridge => ({
  invoke: (command, payload) => controlPlane.handle(command, payload) as never,
  on: (event, listener) => controlPlane.on(event, listener),
});

function status(faults: ActiveFault[] = [], monkey: Partial<ChaosStatus['monkey']> = {}): ChaosStatus {
  return { faults, monkey: { enabled: false, intervalSeconds: 5, maxDown: 1, kills: 0, lastKillAt: null, ...monkey } };
}
const latency = (target: string, since = 1_000_000): ActiveFault => ({
  action: 'latency',
  target,
  detail: 'db +100 ms, cache +0 ms',
  since,
  until: null,
});

/** A bridge that answers each command from a script and records what it was sent; `hold` keeps the answers back until released. */
function scripted(answers: Partial<Record<CommandName, unknown>>, hold = false) {
  const calls: { command: string; payload: unknown }[] = [];
  let release!: () => void;
  const gate = hold ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  const bridge: Bridge = {
    invoke: async (command, payload) => {
      calls.push({ command, payload });
      await gate;
      const value = answers[command];
      return value === undefined
        ? { ok: false, error: { name: 'ContractError', message: `unscripted ${command}` } }
        : ({ ok: true, value } as never);
    },
    on: () => () => undefined,
  };
  return { bridge, calls, release: () => release?.() };
}

describe('chaos actions the panel sends', () => {
  it('builds a contract-valid chaos:inject payload for every button, with the form’s numbers', () => {
    const draft = {
      ...DEFAULT_CHAOS_DRAFT,
      'kill-cache.forSeconds': 3,
      'latency.dbMs': 100,
      'latency.cacheMs': 0,
      'errors.percent': 7,
      [MONKEY_INTERVAL]: 3,
      [MONKEY_MAX_DOWN]: 2,
    };
    // The panel's buttons, in the modules' order (a new module's buttons may sit between them).
    const ids = PANEL_BUTTONS.map((b) => b.id);
    const known = [
      'kill-api',
      'kill-worker',
      'kill-cache',
      'kill-db',
      'kill-replica',
      'replica-delay',
      'kill-relay',
      'kill-projector',
      'latency',
      'errors',
    ];
    expect(ids.filter((id) => known.includes(id))).toEqual(known);
    for (const button of PANEL_BUTTONS) expect(Value.Check(ChaosActionSchema, panelActionOf(button.id, draft)), button.id).toBe(true);
    expect(panelActionOf('kill-api', draft)).toEqual({ action: 'kill', target: 'random-api' });
    expect(panelActionOf('kill-cache', draft)).toEqual({ action: 'kill-cache', forSeconds: 3 });
    expect(panelActionOf('kill-db', draft)).toEqual({ action: 'kill-db', forSeconds: 5 });
    expect(panelActionOf('latency', draft)).toEqual({ action: 'latency', target: 'all', dbMs: 100, cacheMs: 0 });
    // 7 % is 0.07 exactly, not 0.07000000000000001.
    expect(panelActionOf('errors', draft)).toEqual({ action: 'errors', target: 'all', rate: 0.07 });
    expect(monkeyOn(draft)).toEqual({ action: 'monkey', enabled: true, intervalSeconds: 3, maxDown: 2 });
    expect(() => panelActionOf('kill-everything', draft)).toThrow(/no chaos button/);
    expect(percentToRate(100)).toBe(1);
    expect(percentToRate(12.5)).toBe(0.125);
  });

  it('gives every button of every module its own id and, in the drawer, an action on that replica', () => {
    const ids = CHAOS_BUTTONS.map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
    const drawer = buttonsAt('replica');
    expect(drawer.map((b) => b.label)).toEqual(['Add latency', 'Fail requests', 'Burn CPU', 'Leak memory', 'Block event loop']);
    for (const button of drawer) {
      const action = buttonAction(button, {}, 'api-2');
      expect(Value.Check(ChaosActionSchema, action), button.id).toBe(true);
      expect(action).toMatchObject({ target: 'api-2' });
    }
    // A box's value wins over its default; the drawer's defaults are its own (200 ms, not the panel's 100).
    expect(buttonAction(drawer[0]!, {}, 'api-1')).toEqual({ action: 'latency', target: 'api-1', dbMs: 200, cacheMs: 0 });
    expect(buttonAction(drawer[2]!, { 'replica-cpu.threads': 3 }, 'api-1')).toEqual({
      action: 'cpu',
      target: 'api-1',
      seconds: 30,
      threads: 3,
    });
  });

  it('keys an action by what and where, so only its own button shows it in flight', () => {
    expect(chaosKey({ action: 'kill', target: 'random-api' })).toBe('kill:random-api');
    expect(chaosKey({ action: 'pause', target: 'api-2' })).toBe('pause:api-2');
    expect(chaosKey({ action: 'kill-cache', forSeconds: 3 })).toBe('kill-cache');
    expect(chaosKey('verify')).toBe('verify');
  });
});

describe('chaos data shapes', () => {
  it('says where a fault is and until when, with the seconds left when it ends on its own', () => {
    const t = new Date(2024, 0, 1, 12, 0, 0).getTime();
    expect(faultPlace(latency('all'))).toBe('all api');
    expect(faultPlace(latency('api-2'))).toBe('api-2');
    expect(faultWhen({ ...latency('api-1'), since: t }, t + 5000)).toBe('since 12:00:00 · until cleared');
    expect(faultWhen({ action: 'kill-cache', target: 'redis', detail: 'down for 10 s', since: t, until: t + 10_000 }, t + 2_500)).toBe(
      'since 12:00:00 · until 12:00:10 (8 s left)',
    );
    expect(faultWhen({ action: 'kill-cache', target: 'redis', detail: 'down for 10 s', since: t, until: t + 10_000 }, t + 60_000)).toMatch(
      /\(0 s left\)$/,
    );
  });

  it('lists the faults touching one replica: its own and, for an api replica, those on every api replica', () => {
    const s = status([
      latency('api-1'),
      latency('all'),
      { action: 'kill-cache', target: 'redis', detail: 'down for 3 s', since: 1, until: 2 },
    ]);
    expect(faultsOf(s, 'api-1').map((f) => f.target)).toEqual(['api-1', 'all']);
    expect(faultsOf(s, 'api-2').map((f) => f.target)).toEqual(['all']);
    expect(faultsOf(s, 'worker-1')).toEqual([]);
    expect(faultsOf(null, 'api-1')).toEqual([]);
  });

  it('sums up the monkey, and lists lost ids up to a limit', () => {
    expect(monkeySummary(null)).toMatch(/never the last one/);
    expect(
      monkeySummary(
        status([], { enabled: true, intervalSeconds: 3, maxDown: 2, kills: 1, lastKillAt: new Date(2024, 0, 1, 9, 5, 7).getTime() }).monkey,
      ),
    ).toBe('every ~3 s, ≤ 2 down · 1 kill · last 09:05:07');
    expect(monkeySummary(status([], { kills: 4 }).monkey)).toBe('off · 4 kills');
    expect(lostIdsText([3, 9])).toBe('3, 9');
    expect(
      lostIdsText(
        Array.from({ length: 15 }, (_, i) => i + 1),
        15,
        12,
      ),
    ).toBe('1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 3 more');
    // Fewer ids than lost writes (a capped list): the rest are counted.
    expect(lostIdsText([5, 6], 40)).toBe('5, 6 and 38 more');
  });
});

describe('writes badge', () => {
  const live = (w: Partial<Sample['writes']>): Sample['writes'] => ({
    acknowledged: 0,
    verified: null,
    lost: null,
    lostIds: [],
    checkedAt: null,
    ...w,
  });
  const check = (c: Partial<WriteCheck>): WriteCheck => ({
    acknowledged: 40,
    verified: 40,
    lost: 0,
    duplicated: 0,
    lostIds: [],
    checkedAt: 5000,
    ...c,
  });

  it('counts acknowledged writes live and waits for a check before saying verified or lost', () => {
    expect(writesView(undefined, null)).toMatchObject({ acknowledged: 0, verified: null, lost: null, state: 'unchecked', sinceCheck: 0 });
    expect(writesView(live({ acknowledged: 12 }), null)).toMatchObject({ acknowledged: 12, verified: null, state: 'unchecked' });
  });

  it('shows the Verify answer at once, and the writes acknowledged after it', () => {
    // The answer arrives before any sample carries it.
    expect(writesView(live({ acknowledged: 40 }), check({}))).toMatchObject({
      acknowledged: 40,
      verified: 40,
      lost: 0,
      state: 'ok',
      sinceCheck: 0,
    });
    expect(writesView(live({ acknowledged: 55, verified: 40, lost: 0, checkedAt: 5000 }), check({}))).toMatchObject({
      verified: 40,
      sinceCheck: 15,
      state: 'ok',
    });
    // A newer check made elsewhere (the CLI) wins over this page's older answer.
    expect(writesView(live({ acknowledged: 60, verified: 57, lost: 3, lostIds: [4, 8, 9], checkedAt: 9000 }), check({}))).toMatchObject({
      verified: 57,
      lost: 3,
      lostIds: [4, 8, 9],
      state: 'lost',
      duplicated: null,
      sinceCheck: 0,
    });
  });

  it('turns red with the lost ids when an acknowledged write is gone', () => {
    const view = writesView(live({ acknowledged: 40 }), check({ verified: 38, lost: 2, lostIds: [17, 23], duplicated: 1 }));
    expect(view).toMatchObject({ state: 'lost', lost: 2, lostIds: [17, 23], duplicated: 1 });
  });
});

describe('chaos slice', () => {
  it('shows the control plane’s refusal when no stack runs, clears busy, and loads the monkey’s settings into the form', async () => {
    const { store } = createAppStore(realBridge());
    expect(await store.getState().injectPanel('kill-api')).toBe(false);
    expect(store.getState().error?.message).toMatch(/no stack is running/);
    expect(store.getState().chaosBusy).toBeNull();
    await store.getState().verifyWrites();
    expect(store.getState().error?.message).toMatch(/no stack is running/);
    expect(store.getState().lastWriteCheck).toBeNull();
    await store.getState().refreshChaos();
    const loaded = store.getState().chaos!;
    expect(loaded.faults).toEqual([]);
    expect(loaded.monkey.enabled).toBe(false);
    expect(store.getState().chaosDraft[MONKEY_INTERVAL]).toBe(loaded.monkey.intervalSeconds);
  });

  it('sends the form’s action, marks it busy while in flight, and takes the answer over the samples that were on their way', async () => {
    const { bridge, calls, release } = scripted({ 'chaos:inject': status([latency('api-1')]), 'chaos:clear': status() }, true);
    const { store } = createAppStore(bridge);
    store.getState().editChaos({ 'latency.dbMs': 250 });
    const sent = store.getState().injectPanel('latency');
    await Promise.resolve();
    expect(store.getState().chaosBusy).toBe('latency:all');
    release();
    expect(await sent).toBe(true);
    expect(calls.at(-1)).toEqual({ command: 'chaos:inject', payload: { action: 'latency', target: 'all', dbMs: 250, cacheMs: 0 } });
    expect(store.getState().chaosBusy).toBeNull();
    expect(store.getState().chaos!.faults).toHaveLength(1);
    // A sample taken before the answer must not hide the new fault…
    store.getState().syncChaos(status());
    expect(store.getState().chaos!.faults).toHaveLength(1);
    // …and Clear all's answer empties the list at once.
    await store.getState().clearChaos();
    expect(store.getState().chaos!.faults).toEqual([]);
    expect(calls.at(-1)!.command).toBe('chaos:clear');
  });

  it('follows the samples after the answer’s grace, keeps a monkey form being edited, and knows when Apply has work', async () => {
    const { bridge, calls } = scripted({ 'chaos:inject': status([], { enabled: true, intervalSeconds: 3, maxDown: 1 }) });
    const { store } = createAppStore(bridge);
    store.getState().syncChaos(status([latency('api-1')], { intervalSeconds: 8 }));
    expect(store.getState().chaos!.faults).toHaveLength(1);
    expect(store.getState().chaosDraft[MONKEY_INTERVAL]).toBe(8);
    const draftBefore = store.getState().chaosDraft;
    store.getState().syncChaos(status([latency('api-1')], { intervalSeconds: 8 }));
    // The same form object: a status per second does not re-render the forms.
    expect(store.getState().chaosDraft).toBe(draftBefore);

    store.getState().editChaos({ [MONKEY_INTERVAL]: 3 });
    store.getState().syncChaos(status([], { intervalSeconds: 8 }));
    expect(store.getState().chaosDraft[MONKEY_INTERVAL]).toBe(3);
    await store.getState().inject(monkeyOn(store.getState().chaosDraft));
    expect(calls.at(-1)!.payload).toEqual({ action: 'monkey', enabled: true, intervalSeconds: 3, maxDown: 1 });
    expect(store.getState().monkeyEdited).toBe(false);
    expect(monkeyChanged(store.getState().chaosDraft, store.getState().chaos)).toBe(false);
    store.getState().editChaos({ [MONKEY_MAX_DOWN]: 2 });
    expect(monkeyChanged(store.getState().chaosDraft, store.getState().chaos)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, ANSWER_GRACE_MS + 50));
    store.getState().syncChaos(status([latency('api-2')], { enabled: true, intervalSeconds: 3, kills: 2 }));
    expect(store.getState().chaos!.monkey.kills).toBe(2);
    expect(store.getState().chaos!.faults[0]!.target).toBe('api-2');
    // A sample without chaos (an older control plane) keeps what is known.
    store.getState().syncChaos(null);
    expect(store.getState().chaos!.monkey.kills).toBe(2);
  });

  it('keeps the last Verify answer for the badge', async () => {
    const answer: WriteCheck = { acknowledged: 12, verified: 12, lost: 0, duplicated: 0, lostIds: [], checkedAt: 42 };
    const { bridge } = scripted({ 'writes:verify': answer });
    const { store } = createAppStore(bridge);
    await store.getState().verifyWrites();
    expect(store.getState().lastWriteCheck).toEqual(answer);
    expect(store.getState().chaosBusy).toBeNull();
    expect(store.getState().error).toBeNull();
  });
});
