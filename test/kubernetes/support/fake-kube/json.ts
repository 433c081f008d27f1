/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of two JSON values, ignoring key order. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined);
    const other = Object.keys(b).filter((k) => b[k] !== undefined);
    return keys.length === other.length && keys.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** A deep copy; stored objects are never handed out, only copies. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** RFC 3339 at second precision, as the API server writes timestamps. */
export function timestamp(at = Date.now()): string {
  return new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

/** `n` characters from the alphabet Kubernetes uses for generated names (no vowels, no 0/1/3). */
export function randomSuffix(n = 5): string {
  let out = '';
  for (let i = 0; i < n; i += 1) out += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return out;
}

/** A short stable hash of JSON, in the same alphabet: what pod-template-hash labels look like. */
export function stableHash(value: unknown, n = 10): string {
  const text = JSON.stringify(value);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i += 1) {
    h1 = Math.imul(h1 ^ text.charCodeAt(i), 0x01000193) >>> 0;
    h2 = Math.imul(h2 + text.charCodeAt(i), 0x85ebca6b) >>> 0;
  }
  let out = '';
  for (let i = 0; i < n; i += 1) {
    const bits = i % 2 === 0 ? h1 : h2;
    out += ALNUM[(bits >>> ((i * 3) % 27)) % ALNUM.length];
  }
  return out;
}
