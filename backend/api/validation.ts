import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

/** Turns the first schema error into a message that names the field, e.g. `body.email is required`. */
export function describeValidationError(error: FastifySchemaValidationError, dataVar: string): string {
  const path = dataVar + error.instancePath.replace(/\//g, '.');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${path}.${String(params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${path}.${String(params.additionalProperty)} is not an allowed field`;
    case 'format':
      return params.format === 'email' ? `${path} must be a valid e-mail address` : `${path} must be a valid ${String(params.format)}`;
    case 'maxLength':
      return `${path} must be at most ${String(params.limit)} characters`;
    case 'minLength':
      return `${path} must be at least ${String(params.limit)} character${params.limit === 1 ? '' : 's'}`;
    case 'pattern':
      if (path === 'params.id') return `${path} must be a positive integer of at most 15 digits`;
      return path.endsWith('.name') ? `${path} must not be blank` : `${path} has an invalid format`;
    case 'minProperties':
      return `${path} must contain at least one field to change`;
    default:
      return `${path} ${error.message ?? 'is invalid'}`;
  }
}

/** Fastify's schemaErrorFormatter: one readable message. */
export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0];
  return new Error(first ? describeValidationError(first, dataVar) : `${dataVar} is invalid`);
}
