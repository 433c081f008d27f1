/** Errors every part of the control plane may answer a command with. */

/** A payload did not match its command's schema, or the command does not exist. */
export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** The command cannot run in the stack's current state (e.g. scale with nothing running). */
export class StackStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}
