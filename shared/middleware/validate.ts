import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { type FieldError, ValidationError } from '../errors';
import { idempotencyKeySchema, type RouteSpec } from '../schemas';
import type * as z from '../zod';
import type { BankContext } from './context';

function fieldErrors(prefix: string, error: z.core.$ZodError): FieldError[] {
  return error.issues.flatMap((issue) =>
    // An unknown member is named by its own path, one error each, not by its parent's.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: [prefix, ...issue.path.map(String), key].join('.'),
          message: 'is not a known field',
        }))
      : [{ path: [prefix, ...issue.path.map(String)].join('.'), message: issue.message }],
  );
}

/** Collects the path of every string in `value` that holds a NUL byte (bounded depth). */
function nulPaths(prefix: string, value: unknown, out: FieldError[], depth = 0): void {
  if (out.length >= nulErrorsMax || depth > nulDepthMax) return;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push({ path: prefix, message: 'must not contain a NUL character' });
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) nulPaths(`${prefix}.${i}`, v, out, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) nulPaths(`${prefix}.${k}`, v, out, depth + 1);
  }
}
const nulErrorsMax = 20;
const nulDepthMax = 8;

/**
 * zod at the edge: path, query, body and the Idempotency-Key header, all or nothing. A NUL byte
 * in any string is refused first, whatever the field: PostgreSQL text cannot hold one, so it
 * would otherwise reach the database and fail there (a 500, and an audit write that fails too).
 */
export function validate(
  spec: RouteSpec,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, BankContext> {
  return {
    before: (request) => {
      const { event, context } = request;
      const errors: FieldError[] = [];
      const check = (prefix: string, schema: z.ZodMiniType | undefined, value: unknown): unknown => {
        if (!schema) return undefined;
        const parsed = schema.safeParse(value ?? {});
        if (parsed.success) return parsed.data;
        errors.push(...fieldErrors(prefix, parsed.error));
        return undefined;
      };
      nulPaths('path', event.pathParameters, errors);
      nulPaths('query', event.queryStringParameters, errors);
      nulPaths('body', event.body, errors);
      if (errors.length > 0) throw new ValidationError('the request does not match the schema', errors);
      const params = check('path', spec.params, event.pathParameters);
      const query = check('query', spec.query, event.queryStringParameters);
      const body = check('body', spec.body, event.body);
      if (spec.idempotent) {
        const key = event.headers?.['idempotency-key'];
        if (key !== undefined) {
          const parsed = idempotencyKeySchema.safeParse(key);
          if (parsed.success) context.bank.idempotencyKey = parsed.data;
          else
            errors.push({
              path: 'header.Idempotency-Key',
              message: parsed.error.issues[0]?.message ?? 'invalid',
            });
        }
      }
      if (errors.length > 0) throw new ValidationError('the request does not match the schema', errors);
      context.bank.input = { body, params, query };
    },
  };
}
