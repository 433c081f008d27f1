/**
 * What every group of contract commands is written against: the client a command came from, the
 * shape of a table of handlers, and the payload check the control plane runs before any of them.
 */
import { Value } from 'typebox/value';
import { COMMANDS, type CommandName, type CommandPayload, type CommandResults, type EventName, type Events } from '../contract.js';
import { ContractError } from './errors.js';

/** One connected client (a window, a browser tab, a CLI run). */
export interface ClientContext {
  /** Sends an event to this client only (followed logs). */
  send<E extends EventName>(event: E, data: Events[E]): void;
  /** Registers cleanup for when the client goes. */
  onClose(cleanup: () => void): void;
}

/** Handlers for the commands `C`, each given its checked payload and the client that sent it. */
export type CommandHandlers<C extends CommandName> = {
  [K in C]: (payload: CommandPayload<K>, client?: ClientContext) => Promise<CommandResults[K]>;
};

/** The payload checked against the command's schema; the first error, phrased for a person, is thrown. */
export function validate<C extends CommandName>(command: C, payload: unknown): CommandPayload<C> {
  const schema = COMMANDS[command];
  const value = payload === undefined ? {} : payload;
  const [first] = [...Value.Errors(schema, value)];
  if (first) {
    const where = first.instancePath ? `${first.instancePath.slice(1).replaceAll('/', '.')}` : 'payload';
    throw new ContractError(`${command}: ${where} ${first.message}`);
  }
  return value as CommandPayload<C>;
}
