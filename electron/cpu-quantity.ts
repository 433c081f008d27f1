/**
 * Kubernetes cpu quantities ("250m", "0.5", "1"): the one parser the contract, the CLI and the
 * dashboard share. Part of the contract (electron/stack-spec.ts re-exports it); a file of its own,
 * free of dependencies, so the renderer can run it to check a field as it is typed.
 */
import { NamedError } from '../backend/named-error.js';

/** Fewest and most millicores a replica's cpu may be set to: a 1 ms quota per 100 ms period, and 64 cores. */
export const CPU_MILLICORES = { min: 10, max: 64_000 } as const;

/** A cpu quantity that is not one, or out of range. The message names what was given and what to write. */
export class CpuQuantityError extends NamedError {}

const CPU_QUANTITY = /^(?:(\d+)m|(\d+(?:\.\d*)?|\.\d+))$/;

/**
 * Millicores of a Kubernetes cpu quantity: `"250m"` → 250, `"0.5"` or `0.5` → 500, `"1"` → 1000.
 * Like Kubernetes, finer than 1m is refused; so is anything outside {@link CPU_MILLICORES}.
 * The one parser of cpu quantities: the schema, the CLI and the dashboard all use it.
 * @throws CpuQuantityError naming the value given
 */
export function parseCpu(value: string | number): number {
  const text = String(value).trim();
  const m = CPU_QUANTITY.exec(text);
  const given = typeof value === 'string' ? `"${value}"` : String(value);
  if (!m) throw new CpuQuantityError(`${given} is not a cpu quantity: write millicores such as "250m" or cores such as "0.5" or "1"`);
  const exact = m[1] !== undefined ? Number(m[1]) : Number(m[2]) * 1000;
  // 0.1 × 1000 is not always exactly 100 in floating point: a millionth of a millicore is noise.
  const millicores = Math.round(exact);
  if (Math.abs(exact - millicores) > 1e-6)
    throw new CpuQuantityError(`${given} is finer than 1m (a thousandth of a core); round it, e.g. "${Math.max(1, millicores)}m"`);
  if (millicores < CPU_MILLICORES.min || millicores > CPU_MILLICORES.max) {
    throw new CpuQuantityError(
      `${given} is out of range: a replica's cpu is from ${CPU_MILLICORES.min}m to ${CPU_MILLICORES.max / 1000} cores`,
    );
  }
  return millicores;
}

/** A quantity as Kubernetes prints it: `250m`, `1`, `1500m`. */
export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}
