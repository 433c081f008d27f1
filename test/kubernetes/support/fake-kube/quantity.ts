/** A string that is not a Kubernetes quantity. */
import { NamedError } from '../../../../backend/named-error.js';
export class QuantityError extends NamedError {
  constructor(readonly quantity: string) {
    super(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': "${quantity}"`);
  }
}

const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** The value of a quantity: cores for cpu (`'250m'` → 0.25), bytes for memory (`'1Ki'` → 1024). */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = QUANTITY.exec(quantity.trim());
  if (!match) throw new QuantityError(quantity);
  const [, digits = '0', exponent, suffix = ''] = match;
  return Number(digits) * 10 ** Number(exponent ?? 0) * (SUFFIXES[suffix] ?? 1);
}

/** Cores as the metrics API writes them: whole millicores, or nanocores below one. */
export function formatCpu(cores: number): string {
  const milli = cores * 1000;
  return Number.isInteger(Math.round(milli * 1e6) / 1e6) ? `${Math.round(milli)}m` : `${Math.round(cores * 1e9)}n`;
}

/** Bytes as the metrics API writes them: Ki when whole, else plain bytes. */
export function formatMemory(bytes: number): string {
  const rounded = Math.round(bytes);
  if (rounded % 2 ** 20 === 0 && rounded > 0) return `${rounded / 2 ** 20}Mi`;
  if (rounded % 1024 === 0 && rounded > 0) return `${rounded / 1024}Ki`;
  return String(rounded);
}
