import path from 'node:path';
import { NamedError } from '../../../../backend/named-error.js';

/** A stack is already run by another live control plane. */
export class StackOwnedError extends NamedError {}

/** The stack's folder under SCALELAB_HOME. */
export function stackDir(home: string, name: string): string {
  return path.join(home, 'stacks', name);
}
