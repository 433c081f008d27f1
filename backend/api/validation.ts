import type { FastifyReply, FastifyRequest } from 'fastify';
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

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What is wrong with a text field that JSON lets through but the database cannot keep as given:
 * a NUL (PostgreSQL's text refuses it, which would be a 500) or a lone UTF-16 surrogate (it has
 * no UTF-8 form and would be stored as U+FFFD, silently changing the text). Undefined when fine.
 */
export function textProblem(path: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.includes('\0')) return `${path} must not contain a NUL character (U+0000)`;
  // With the u flag a well-formed pair is one code point: only an unpaired half matches \p{Cs}.
  if (LONE_SURROGATE.test(value)) return `${path} must be valid Unicode: it holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)`;
  return undefined;
}

/**
 * A route's preValidation hook: answers 400 naming the first text field of the body (`fields`)
 * that {@link textProblem} refuses, before the schema and the database see it.
 */
export function refuseBadText(fields: readonly string[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const body = request.body;
    if (!body || typeof body !== 'object') return undefined;
    for (const field of fields) {
      const problem = textProblem(`body.${field}`, (body as Record<string, unknown>)[field]);
      // Returning the reply after sending ends the hook chain (Fastify's async-hook rule).
      if (problem) return reply.badRequest(problem);
    }
    return undefined;
  };
}
