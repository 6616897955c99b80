import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpResult = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
};

/** Responses carry no caching: balances and tokens must never sit in a shared cache. */
export const baseHeaders: Readonly<Record<string, string>> = { 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...baseHeaders, ...headers },
    body: JSON.stringify(body),
  };
}
