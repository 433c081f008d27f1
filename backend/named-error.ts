/**
 * An Error whose `name` is its class's: logs, the contract's error envelopes and `instanceof`-free
 * checks then say which failure it was. Every error class of ScaleLab extends it; it imports
 * nothing, so the backend, the contract and the control plane can all share it.
 */
export class NamedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
