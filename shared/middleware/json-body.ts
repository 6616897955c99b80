import type { MiddlewareObj } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { PayloadTooLargeError } from '../errors';
import type { BankContext } from './context';

export interface JsonBodyOptions {
  /** Our largest valid body is under 1 KiB; 16 KiB leaves room and refuses abuse early. */
  readonly bodyBytesMax?: number;
}

/**
 * @middy/http-json-body-parser, with what it lacks for us: a size limit checked before parsing,
 * and an absent body read as `{}` so that a missing field is a clear 400, not a 415.
 */
export function jsonBody(
  options: JsonBodyOptions = {},
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, BankContext> {
  const bodyBytesMax = options.bodyBytesMax ?? 16 * 1024;
  const parser = httpJsonBodyParser();
  return {
    before: async (request) => {
      const { event } = request;
      const raw = event.body ?? '';
      const bytes = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, 'utf8');
      if (bytes > bodyBytesMax) throw new PayloadTooLargeError(bodyBytesMax);
      if (raw.trim() === '' && event.headers?.['content-type'] === undefined) {
        (event as { body: unknown }).body = {};
        return;
      }
      await parser.before?.(request as Parameters<NonNullable<typeof parser.before>>[0]);
    },
  };
}
