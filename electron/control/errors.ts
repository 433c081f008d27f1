/** Errors every part of the control plane may answer a command with. */
import { NamedError } from '../../backend/named-error.js';

/** A payload did not match its command's schema, or the command does not exist. */
export class ContractError extends NamedError {}

/** The command cannot run in the stack's current state (e.g. scale with nothing running). */
export class StackStateError extends NamedError {}
