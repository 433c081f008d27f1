import type { ScaleLabBridge } from '../../electron/contract.js';
import type { AutoscalerSlice } from './autoscaler-slice.js';
import type { CapacitySlice } from './capacity-slice.js';
import type { ChaosSlice } from './chaos-slice.js';
import type { DataSlice } from './data-slice.js';
import type { GuardSlice } from './guard-slice.js';
import type { ScenarioSlice } from './scenario-slice.js';
import type { StackSlice } from './stack-slice.js';
import type { TelemetrySlice } from './telemetry-slice.js';
import type { TrafficSlice } from './traffic-slice.js';
import type { TracesSlice } from './traces-slice.js';
import type { EventsSlice } from './events-slice.js';
import type { UiSlice } from './ui-slice.js';

/** The whole dashboard state: one store combined from slices. */
export type AppState = StackSlice &
  TelemetrySlice &
  EventsSlice &
  TrafficSlice &
  AutoscalerSlice &
  ChaosSlice &
  ScenarioSlice &
  DataSlice &
  TracesSlice &
  CapacitySlice &
  GuardSlice &
  UiSlice;

export type SetState = (partial: Partial<AppState> | ((state: AppState) => Partial<AppState>)) => void;
export type GetState = () => AppState;

/** What slices need from the transport: the bridge's two calls. */
export type Bridge = Pick<ScaleLabBridge, 'invoke' | 'on'>;
