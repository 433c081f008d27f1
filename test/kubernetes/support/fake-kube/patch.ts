import { clone, deepEqual, isJsonObject } from './json.js';
import { badRequest, KubeStatusError } from './status.js';

/**
 * RFC 7386 merge patch: objects merge key by key, `null` removes a key, anything else (lists
 * included) replaces. Strategic merge patches and, simplified, server-side apply use it too.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isJsonObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** One RFC 6902 operation. */
interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/'))
    throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, tokens: string[], path: string): { parent: Record<string, unknown> | unknown[]; key: string } {
  let at: unknown = doc;
  for (const token of tokens.slice(0, -1)) {
    at = Array.isArray(at) ? at[Number(token)] : isJsonObject(at) ? at[token] : undefined;
    if (at === undefined) throw new KubeStatusError(422, 'Invalid', `doc is missing path: "${path}": missing value`);
  }
  if (!Array.isArray(at) && !isJsonObject(at)) throw new KubeStatusError(422, 'Invalid', `doc is missing path: "${path}": missing value`);
  return { parent: at, key: tokens[tokens.length - 1] ?? '' };
}

function read(doc: unknown, path: string): unknown {
  let at: unknown = doc;
  for (const token of pointer(path)) at = Array.isArray(at) ? at[Number(token)] : isJsonObject(at) ? at[token] : undefined;
  if (at === undefined) throw new KubeStatusError(422, 'Invalid', `doc is missing path: "${path}": missing value`);
  return at;
}

function remove(doc: unknown, path: string): unknown {
  const { parent, key } = parentOf(doc, pointer(path), path);
  const value = read(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
  return value;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(index) || index < 0 || index > parent.length)
      throw new KubeStatusError(422, 'Invalid', `add operation does not apply: index out of bounds: "${path}"`);
    parent.splice(index, 0, clone(value));
  } else parent[key] = clone(value);
  return doc;
}

/** Applies an RFC 6902 JSON patch to a copy of `target`. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw badRequest('the server rejected our request due to an error in our request: a JSON patch is a list of operations');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add':
        doc = add(doc, raw.path, raw.value);
        break;
      case 'remove':
        remove(doc, raw.path);
        break;
      case 'replace':
        read(doc, raw.path);
        if (raw.path === '') doc = clone(raw.value);
        else {
          remove(doc, raw.path);
          doc = add(doc, raw.path, raw.value);
        }
        break;
      case 'move':
        doc = add(doc, raw.path, remove(doc, raw.from ?? ''));
        break;
      case 'copy':
        doc = add(doc, raw.path, read(doc, raw.from ?? ''));
        break;
      case 'test':
        if (!deepEqual(read(doc, raw.path), raw.value))
          throw new KubeStatusError(422, 'Invalid', `testing value ${raw.path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${String((raw as { op?: unknown }).op)}`);
    }
  }
  return doc;
}
