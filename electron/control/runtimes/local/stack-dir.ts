import path from 'node:path';

/** A stack is already run by another live control plane. */
export class StackOwnedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** The stack's folder under SCALELAB_HOME. */
export function stackDir(home: string, name: string): string {
  return path.join(home, 'stacks', name);
}
