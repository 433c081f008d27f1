import type {
  AutoscalerConfig,
  AutoscalerConfigureInput,
  AutoscalerDecision,
  AutoscalerPreset,
  AutoscalerStatus,
  MetricKind,
  ScalableService,
  ServiceAutoscalerStatus,
  WireError,
} from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/** The metrics the dashboard offers per service (the api's in the order its picker lists them). */
export const SERVICE_METRICS: Record<ScalableService, readonly MetricKind[]> = { api: ['cpu', 'rps', 'p95'], worker: ['queue'] };
/** Decisions kept per service in the renderer (the control plane keeps the same number). */
export const MAX_DECISIONS = 100;
/** The contract's MAX_REPLICAS (the renderer imports the contract's types only). */
export const MAX_AUTOSCALE_REPLICAS = 20;

/**
 * A service's autoscaler form. Every metric keeps its own target, so switching the picker back
 * and forth loses nothing; {@link configureInputOf} turns it into an `autoscaler:configure` payload.
 */
export interface AutoscalerDraft {
  preset: AutoscalerPreset;
  metric: MetricKind;
  targets: Record<MetricKind, number>;
  min: number;
  max: number;
}

/** The control plane's defaults (autoscaler.ts); the other metrics' targets are starting points. */
const DEFAULT_TARGETS: Record<MetricKind, number> = { cpu: 50, rps: 50, p95: 200, queue: 20 };

/** The form for a service, following its applied settings (or the defaults when it never ran). */
export function draftOf(service: ScalableService, config: AutoscalerConfig | null | undefined): AutoscalerDraft {
  const first = config?.metrics.find((m) => SERVICE_METRICS[service].includes(m.kind));
  const targets = { ...DEFAULT_TARGETS };
  for (const m of config?.metrics ?? []) targets[m.kind] = m.target;
  return {
    preset: config?.preset ?? 'default',
    metric: first?.kind ?? SERVICE_METRICS[service][0]!,
    targets,
    min: config?.minReplicas ?? 1,
    max: config?.maxReplicas ?? 10,
  };
}

/** What stops the draft from being applied, phrased for the person filling it in; null when nothing does. */
export function autoscalerDraftProblem(service: ScalableService, draft: AutoscalerDraft): string | null {
  if (service === 'api' && draft.min < 1) return 'api needs at least 1 replica: min must be 1 or more';
  if (draft.min > draft.max) return `min (${draft.min}) is above max (${draft.max})`;
  if (!(draft.targets[draft.metric] > 0)) return 'the target must be above 0';
  return null;
}

const METRIC_FIELD: Record<MetricKind, 'cpu' | 'rps' | 'p95Ms' | 'queuePerWorker'> = {
  cpu: 'cpu',
  rps: 'rps',
  p95: 'p95Ms',
  queue: 'queuePerWorker',
};

/**
 * The `autoscaler:configure` payload for the draft. Against settings already applied it sends only
 * what changed, so whatever the form does not show (a second metric or a behavior set from the
 * CLI) is kept; the preset, when sent, resets sync period and behavior to the preset's.
 */
export function configureInputOf(
  service: ScalableService,
  draft: AutoscalerDraft,
  config: AutoscalerConfig | null | undefined,
): AutoscalerConfigureInput {
  const input: AutoscalerConfigureInput = { service, enabled: true };
  const primary = config?.metrics.find((m) => SERVICE_METRICS[service].includes(m.kind));
  if (!config || draft.preset !== config.preset) input.preset = draft.preset;
  if (!config || draft.min !== config.minReplicas) input.minReplicas = draft.min;
  if (!config || draft.max !== config.maxReplicas) input.maxReplicas = draft.max;
  if (!primary || primary.kind !== draft.metric || primary.target !== draft.targets[draft.metric])
    input.metrics = { [METRIC_FIELD[draft.metric]]: draft.targets[draft.metric] };
  return input;
}

/** Whether the form says something other than the applied settings (Apply has work to do). */
export function draftChanged(service: ScalableService, draft: AutoscalerDraft, config: AutoscalerConfig | null | undefined): boolean {
  return Object.keys(configureInputOf(service, draft, config)).some((key) => key !== 'service' && key !== 'enabled');
}

export interface AutoscalerSlice {
  /** `autoscaler:status`, kept current by the `decision` stream; null until loaded. */
  autoscaler: AutoscalerStatus | null;
  autoscalerDrafts: Record<ScalableService, AutoscalerDraft>;
  /** Services whose form was edited since it last followed the applied settings. */
  autoscalerEdited: Record<ScalableService, boolean>;
  /** The service whose `autoscaler:configure` is in flight, if any. */
  autoscalerBusy: ScalableService | null;
  refreshAutoscaler(): Promise<void>;
  /** Sends `autoscaler:configure`; the answer (the new status) replaces the old. Returns whether it worked. */
  configureAutoscaler(input: AutoscalerConfigureInput): Promise<boolean>;
  editAutoscaler(service: ScalableService, patch: Partial<AutoscalerDraft>): void;
  /** Applies the form's changes to a running autoscaler. */
  applyAutoscaler(service: ScalableService): Promise<void>;
  /** The on/off switch: on applies the form as it stands; off keeps every setting. */
  setAutoscalerEnabled(service: ScalableService, enabled: boolean): Promise<void>;
  /** One decision from the stream. */
  addDecision(event: AutoscalerDecision): void;
}

/** The autoscalers' settings and decisions, their forms, and the commands that change them. */
export function createAutoscalerSlice(bridge: Bridge) {
  return (set: SetState, get: GetState): AutoscalerSlice => {
    const fail = (error: WireError) => set({ error });
    /** A new status: the forms nobody is editing follow it. */
    const take = (status: AutoscalerStatus, reset: ScalableService[] = []) =>
      set((state) => {
        const drafts = { ...state.autoscalerDrafts };
        const edited = { ...state.autoscalerEdited };
        for (const service of ['api', 'worker'] as const) {
          if (reset.includes(service)) edited[service] = false;
          if (!edited[service]) drafts[service] = draftOf(service, status[service]?.config);
        }
        return { autoscaler: status, autoscalerDrafts: drafts, autoscalerEdited: edited };
      });
    const configure = async (input: AutoscalerConfigureInput): Promise<boolean> => {
      set({ autoscalerBusy: input.service });
      try {
        const result = await bridge.invoke('autoscaler:configure', input);
        if (!result.ok) {
          fail(result.error);
          return false;
        }
        take(result.value, [input.service]);
        return true;
      } finally {
        set({ autoscalerBusy: null });
      }
    };

    return {
      autoscaler: null,
      autoscalerDrafts: { api: draftOf('api', null), worker: draftOf('worker', null) },
      autoscalerEdited: { api: false, worker: false },
      autoscalerBusy: null,
      async refreshAutoscaler() {
        const result = await bridge.invoke('autoscaler:status', {});
        if (result.ok) take(result.value);
        else fail(result.error);
      },
      configureAutoscaler: configure,
      editAutoscaler(service, patch) {
        set((state) => ({
          autoscalerDrafts: { ...state.autoscalerDrafts, [service]: { ...state.autoscalerDrafts[service], ...patch } },
          autoscalerEdited: { ...state.autoscalerEdited, [service]: true },
        }));
      },
      async applyAutoscaler(service) {
        const draft = get().autoscalerDrafts[service];
        const problem = autoscalerDraftProblem(service, draft);
        if (problem) return fail({ name: 'AutoscalerConfigError', message: problem });
        const current = get().autoscaler?.[service] ?? null;
        await configure(configureInputOf(service, draft, current?.config));
      },
      async setAutoscalerEnabled(service, enabled) {
        if (!enabled) {
          await configure({ service, enabled: false });
          return;
        }
        await get().applyAutoscaler(service);
      },
      addDecision({ service, decision }) {
        const status = get().autoscaler;
        const one = status?.[service];
        // A decision of an autoscaler this page has not seen (turned on elsewhere): load its settings.
        if (!status || !one) {
          void get().refreshAutoscaler();
          return;
        }
        if (one.decisions.at(-1)?.t === decision.t) return;
        const decisions = [...one.decisions, decision].slice(-MAX_DECISIONS);
        const next: ServiceAutoscalerStatus = {
          ...one,
          decisions,
          desired: decision.desired,
          lastSyncAt: decision.t,
          current: decision.currentReplicas,
        };
        set({ autoscaler: { ...status, [service]: next } });
      },
    };
  };
}
