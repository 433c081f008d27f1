/** The reason of a failure Status, as the API server names them. */
import { NamedError } from '../../../../backend/named-error.js';
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Expired'
  | 'Gone'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

/** `details` of a failure Status. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message: string; field?: string }[];
}

/** A metav1.Status body. */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

const REASON_OF_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** metav1.CauseType of a validation message's prefix. */
const CAUSE_REASONS: Record<string, string> = {
  'Required value': 'FieldValueRequired',
  'Invalid value': 'FieldValueInvalid',
  Forbidden: 'FieldValueForbidden',
};

/** A request the fake refuses; the HTTP layer answers it as a failure Status. */
export class KubeStatusError extends NamedError {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  /** The Status body the API server would send. */
  toStatus(): StatusBody {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** The reason the API server gives for `code` when nothing more specific applies. */
export function reasonOf(code: number): StatusReason {
  return REASON_OF_CODE[code] ?? (code >= 500 ? 'InternalError' : 'BadRequest');
}

/** `deployments.apps "x" not found` */
export function notFound(groupResource: string, name: string): KubeStatusError {
  const [kind = groupResource, group] = splitGroupResource(groupResource);
  return new KubeStatusError(404, 'NotFound', `${groupResource} "${name}" not found`, { name, ...(group ? { group } : {}), kind });
}

/** The answer to a path no resource lives at. */
export function noSuchPath(): KubeStatusError {
  return new KubeStatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** `deployments.apps "x" already exists` */
export function alreadyExists(groupResource: string, name: string): KubeStatusError {
  const [kind = groupResource, group] = splitGroupResource(groupResource);
  return new KubeStatusError(409, 'AlreadyExists', `${groupResource} "${name}" already exists`, {
    name,
    ...(group ? { group } : {}),
    kind,
  });
}

/** A write based on a stale resourceVersion. */
export function conflict(groupResource: string, name: string): KubeStatusError {
  const [kind = groupResource, group] = splitGroupResource(groupResource);
  return new KubeStatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(group ? { group } : {}), kind },
  );
}

/** `Deployment.apps "x" is invalid: <field>: <problem>` (422). */
export function invalid(kindGroup: string, name: string, causes: { field: string; message: string }[]): KubeStatusError {
  const [kind = kindGroup, group] = splitGroupResource(kindGroup);
  const text = causes.map((c) => `${c.field}: ${c.message}`);
  const message = `${kindGroup} "${name}" is invalid: ${text.length === 1 ? text[0] : `[${text.join(', ')}]`}`;
  return new KubeStatusError(422, 'Invalid', message, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: causes.map((c) => ({
      reason: CAUSE_REASONS[c.message.split(':')[0] ?? ''] ?? 'FieldValueInvalid',
      message: c.message,
      field: c.field,
    })),
  });
}

/** 400 with the API server's message. */
export function badRequest(message: string): KubeStatusError {
  return new KubeStatusError(400, 'BadRequest', message);
}

/** 403 with the API server's message. */
export function forbidden(groupResource: string, name: string, why: string): KubeStatusError {
  const [kind = groupResource, group] = splitGroupResource(groupResource);
  return new KubeStatusError(403, 'Forbidden', `${groupResource} "${name}" is forbidden: ${why}`, {
    name,
    ...(group ? { group } : {}),
    kind,
  });
}

/** 405 for a verb a path does not serve. */
export function methodNotAllowed(method: string): KubeStatusError {
  return new KubeStatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`, {});
}

/** 503, as a Service proxy with no ready endpoint answers. */
export function serviceUnavailable(message: string): KubeStatusError {
  return new KubeStatusError(503, 'ServiceUnavailable', message);
}

/** A Success Status, as DELETE answers for most resources. */
export function success(details: StatusDetails): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

function splitGroupResource(groupResource: string): [string | undefined, string | undefined] {
  const dot = groupResource.indexOf('.');
  return dot < 0 ? [groupResource, undefined] : [groupResource.slice(0, dot), groupResource.slice(dot + 1)];
}

/** A test hook asked for something the fake cluster cannot do (a missing pod, say). */
export class FakeKubeUsageError extends NamedError {
  constructor(message: string) {
    super(`fake Kubernetes API server: ${message}`);
  }
}
