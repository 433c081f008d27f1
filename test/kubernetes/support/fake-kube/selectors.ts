import { badRequest } from './status.js';
import type { KubeObject } from './types.js';

/** A metav1.LabelSelector, as Deployments and StatefulSets carry it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

type Labels = Record<string, string> | undefined;
type Requirement = (labels: Labels) => boolean;

/** Splits on commas outside parentheses: `a in (x,y),b=c` → [`a in (x,y)`, `b=c`]. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

function parseRequirement(text: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(text);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in' ? (l) => l?.[key] !== undefined && values.has(l[key]) : (l) => l?.[key] === undefined || !values.has(l[key]);
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(text);
  if (cmp) {
    const [, key = '', op, value = ''] = cmp;
    return op === '!=' ? (l) => l?.[key] !== value : (l) => l?.[key] === value;
  }
  const exists = /^(!?)([A-Za-z0-9][-A-Za-z0-9_./]*)$/.exec(text);
  if (exists) {
    const [, not, key = ''] = exists;
    return not ? (l) => l?.[key] === undefined : (l) => l?.[key] !== undefined;
  }
  throw badRequest(`unable to parse requirement: found '${text}', expected: in, notin, =, ==, !=, gt, lt`);
}

/** Parses a `labelSelector` query value; throws a 400 Status when it does not parse. */
export function parseLabelSelector(text: string | null | undefined): (labels: Labels) => boolean {
  if (!text) return () => true;
  const requirements = splitRequirements(text).map(parseRequirement);
  return (labels) => requirements.every((r) => r(labels));
}

/** Whether `labels` match a LabelSelector object: an empty one matches everything, a missing one nothing. */
export function matchesSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels?.[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = labels?.[e.key] !== undefined;
    const inValues = has && (e.values ?? []).includes(labels?.[e.key] ?? '');
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A LabelSelector in query form (`app=api,tier in (a,b)`), as Scale's status.selector carries it. */
export function selectorString(selector: LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    if (e.operator === 'Exists') parts.push(e.key);
    if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Field selectors the API server supports beyond metadata.name and metadata.namespace, per kind. */
const FIELDS: Record<string, readonly string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
  Node: ['spec.unschedulable'],
};

function fieldValue(object: KubeObject, path: string): string {
  if (path === 'source') return String((object.source as { component?: string } | undefined)?.component ?? '');
  let at: unknown = object;
  for (const key of path.split('.')) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  return at === undefined || at === null ? '' : String(at);
}

/** Parses a `fieldSelector` for `kind`; throws a 400 Status for fields the API server refuses. */
export function parseFieldSelector(text: string | null | undefined, kind: string): (object: KubeObject) => boolean {
  if (!text) return () => true;
  const terms = splitRequirements(text).map((term) => {
    const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field = '', op, value = ''] = match;
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !(FIELDS[kind] ?? []).includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return (object: KubeObject) => (fieldValue(object, field) === value) === (op !== '!=');
  });
  return (object) => terms.every((t) => t(object));
}
