import { validateHeaderName, validateHeaderValue } from 'node:http';

/**
 * Turns what a handler returned into the HTTP response an HTTP API (payload format 2.0) sends:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response
 */

export interface HttpResponse {
  readonly statusCode: number;
  /** Lower-case names; `set-cookie` may carry several values, each sent as its own header. */
  readonly headers: Map<string, string | string[]>;
  readonly body: Buffer;
}

/** A result API Gateway could not turn into a response; it answers 500 for those. */
export class MalformedResultError extends Error {
  override readonly name = 'MalformedResultError';
}

/**
 * Content framing belongs to the gateway: a function-supplied length or transfer coding would
 * describe a body the gateway re-frames (base64 decoding changes the length), so these are dropped.
 */
const GATEWAY_OWNED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * An HTTP API gives a structured response without a content type `text/plain; charset=utf-8`
 * (observed: fujiwara/ridge#9, aws-powertools/powertools-lambda-python#2464).
 */
const DEFAULT_STRUCTURED_CONTENT_TYPE = 'text/plain; charset=utf-8';

export function toHttpResponse(result: unknown): HttpResponse {
  if (isRecord(result) && result.statusCode !== undefined) return structured(result);
  return inferred(result);
}

/**
 * "If your Lambda function returns valid JSON and doesn't return a statusCode": 200,
 * application/json, body is the function's response. The guide's table shows a string result
 * becoming the body as-is (not re-quoted), and an object becoming its JSON text.
 */
function inferred(result: unknown): HttpResponse {
  // A function that returns nothing still produces the JSON `null` payload in Lambda.
  const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
  return {
    statusCode: 200,
    headers: new Map([['content-type', 'application/json']]),
    body: Buffer.from(body, 'utf8'),
  };
}

function structured(result: Record<string, unknown>): HttpResponse {
  const { statusCode, headers, cookies, body, isBase64Encoded } = result;
  // A 1xx is an interim response and cannot end an exchange, so only final codes are usable.
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 200 ||
    statusCode > 599
  ) {
    throw new MalformedResultError(
      `statusCode must be an integer 200-599, got ${JSON.stringify(statusCode)}`,
    );
  }
  if (body !== undefined && body !== null && typeof body !== 'string') {
    throw new MalformedResultError(`body must be a string, got ${typeof body}`);
  }
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') {
    throw new MalformedResultError('isBase64Encoded must be a boolean');
  }

  const out = new Map<string, string | string[]>();
  // The cookies array comes first, then any set-cookie the function put in headers (observed order).
  const setCookies: string[] = [];
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies) || !cookies.every((c): c is string => typeof c === 'string')) {
      throw new MalformedResultError('cookies must be an array of strings');
    }
    setCookies.push(...cookies);
  }
  if (headers !== undefined && headers !== null) {
    if (!isRecord(headers)) throw new MalformedResultError('headers must be an object');
    for (const [rawName, rawValue] of Object.entries(headers)) {
      if (rawValue === undefined || rawValue === null) continue;
      if (typeof rawValue !== 'string' && typeof rawValue !== 'number' && typeof rawValue !== 'boolean') {
        throw new MalformedResultError(`header '${rawName}' must be a string, number or boolean`);
      }
      const name = rawName.toLowerCase();
      if (GATEWAY_OWNED_HEADERS.has(name)) continue;
      // 2.0 has no multiValueHeaders: each value is sent as one header, commas and all.
      const value = String(rawValue);
      if (name === 'set-cookie') setCookies.push(value);
      else out.set(name, value);
    }
  }
  if (setCookies.length > 0) out.set('set-cookie', setCookies);
  if (!out.has('content-type')) out.set('content-type', DEFAULT_STRUCTURED_CONTENT_TYPE);
  for (const [name, value] of out) assertSendable(name, value);

  const text = typeof body === 'string' ? body : '';
  return {
    statusCode,
    headers: out,
    body: Buffer.from(text, isBase64Encoded === true ? 'base64' : 'utf8'),
  };
}

/** Checked before anything is written, so a bad header becomes a clean 500, not a half-sent response. */
function assertSendable(name: string, value: string | string[]): void {
  try {
    validateHeaderName(name);
    for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, v);
  } catch (error) {
    throw new MalformedResultError(
      `invalid header '${name}': ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
