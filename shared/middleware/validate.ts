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

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses an unpaired UTF-16 surrogate:
 * such a string anywhere in the input is refused here as invalid (400), before it can reach the
 * database and fail there (500, and no audit event for the request).
 */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const cannotStore = (text: string): boolean => text.includes('\u0000') || loneSurrogate.test(text);

function unstorable(prefix: string, value: unknown, depth = 0): FieldError[] {
  if (typeof value === 'string')
    return cannotStore(value)
      ? [{ path: prefix, message: 'contains a character that cannot be stored' }]
      : [];
  if (typeof value !== 'object' || value === null || depth > 32) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    cannotStore(key)
      ? [{ path: prefix, message: 'has a member name that cannot be stored' }]
      : unstorable(`${prefix}.${key}`, item, depth + 1),
  );
}

/** zod at the edge: path, query, body and the Idempotency-Key header, all or nothing. */
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
      errors.push(
        ...unstorable('path', event.pathParameters),
        ...unstorable('query', event.queryStringParameters),
        ...unstorable('body', event.body),
      );
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
