/**
 * The dashboard's chaos buttons, gathered from the action modules: where each sits, its words,
 * its number boxes and the `chaos:inject` action it sends. Pure: the renderer builds the Chaos
 * panel and the instance drawer's fault rows from this list.
 */
import type { ChaosAction } from '../chaos-spec.js';
import type { ButtonPlace, ChaosActionModule, ChaosButton } from './action-kit.js';
import { CHAOS_ACTIONS } from './actions/index.js';

export type { ButtonField, ButtonPlace } from './action-kit.js';
export type ChaosActionButton = ChaosButton<ChaosAction>;

export const CHAOS_BUTTONS: readonly ChaosActionButton[] = (CHAOS_ACTIONS as readonly ChaosActionModule[]).flatMap(
  (m) => (m.buttons ?? []) as readonly ChaosActionButton[],
);

/** The buttons of one place, in the list's order. */
export function buttonsAt(place: ButtonPlace): ChaosActionButton[] {
  return CHAOS_BUTTONS.filter((b) => b.place === place);
}

/** Where a button's field is kept in a form's values. */
export const fieldKey = (button: ChaosActionButton, field: string) => `${button.id}.${field}`;

/** Every field's default for the buttons given, under {@link fieldKey}. */
export function defaultValues(buttons: readonly ChaosActionButton[]): Record<string, number> {
  return Object.fromEntries(buttons.flatMap((b) => (b.fields ?? []).map((f) => [fieldKey(b, f.key), f.default])));
}

/** The action a button sends with the form's values (each field falls back to its default). */
export function buttonAction(button: ChaosActionButton, values: Readonly<Record<string, number>>, instance?: string): ChaosAction {
  const own = Object.fromEntries((button.fields ?? []).map((f) => [f.key, values[fieldKey(button, f.key)] ?? f.default]));
  return button.action(own, instance);
}
