import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { GatewayRoute } from '../gateway';

/**
 * Builds the API Gateway HTTP API payload-format-2.0 event, field for field as the developer guide
 * documents it (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
 * Behaviour the guide leaves open follows what was observed on real HTTP APIs; each such rule
 * says so where it is applied.
 */

export interface ApiGatewayEventInput {
  readonly method: string;
  /** Request target as sent: path plus optional `?query`. */
  readonly rawUrl: string;
  readonly headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly route: GatewayRoute;
  readonly pathParameters: Record<string, string>;
  readonly requestId: string;
  readonly now: Date;
  readonly stage: string;
  readonly apiId: string;
  readonly domainName: string;
}

/**
 * The account id is not knowable locally; the documented example uses a 12-digit id, and
 * LocalStack's all-zero id is the usual "not a real account" value, so handlers that parse it
 * still see the right shape.
 */
export const LOCAL_ACCOUNT_ID = '000000000000';

export function toApiGatewayEvent(input: ApiGatewayEventInput): APIGatewayProxyEventV2 {
  const queryAt = input.rawUrl.indexOf('?');
  const pathPart = queryAt === -1 ? input.rawUrl : input.rawUrl.slice(0, queryAt);
  // rawQueryString is passed on exactly as sent (still percent-encoded), without the '?'.
  const rawQueryString = queryAt === -1 ? '' : input.rawUrl.slice(queryAt + 1);
  const rawPath = decodeHttpApiPath(pathPart);
  const { headers, cookies } = collectHeaders(input.headers);
  const queryStringParameters = parseQueryString(rawQueryString);
  const routeKey = `${input.route.method} ${input.route.path}`;
  const body = encodeBody(input.body, headers['content-type']);
  const hasPathParameters = Object.keys(input.pathParameters).length > 0;

  // Key order follows the documented example so a logged event reads like the guide's.
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: input.apiId,
      domainName: input.domainName,
      domainPrefix: domainPrefixOf(input.domainName),
      http: {
        method: input.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: input.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: input.requestId,
      routeKey,
      stage: input.stage,
      time: formatRequestTime(input.now),
      timeEpoch: input.now.getTime(),
    },
    ...(body ? { body: body.text } : {}),
    ...(hasPathParameters ? { pathParameters: { ...input.pathParameters } } : {}),
    isBase64Encoded: body?.isBase64Encoded ?? false,
  };
  return event;
}

/**
 * HTTP APIs deliver the path percent-decoded (rawPath and requestContext.http.path alike), except
 * that `%25` stays encoded so a literal '%' cannot be mistaken for the start of an escape. Seen on
 * live HTTP APIs (ministackorg/ministack `decode_http_api_path`, middleapi/standard-server#93).
 */
export function decodeHttpApiPath(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    let out = '';
    const pending: number[] = [];
    for (let i = 0; i < run.length; i += 3) {
      const byte = Number.parseInt(run.slice(i + 1, i + 3), 16);
      if (byte === 0x25) {
        out += Buffer.from(pending).toString('utf8');
        pending.length = 0;
        out += '%25';
      } else {
        pending.push(byte);
      }
    }
    return out + Buffer.from(pending).toString('utf8');
  });
}

/**
 * Header names lower-cased; repeated headers joined with ',' ("Duplicate headers are combined
 * with commas"). Cookies move to the `cookies` array and the `cookie` header is dropped, as the
 * 2.0 format does.
 */
function collectHeaders(source: ApiGatewayEventInput['headers']): {
  headers: Record<string, string>;
  cookies: string[];
} {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [rawName, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (name === 'cookie') {
      for (const line of Array.isArray(value) ? value : [value]) {
        for (const pair of line.split(';')) {
          const cookie = pair.trim();
          if (cookie !== '') cookies.push(cookie);
        }
      }
      continue;
    }
    const joined = Array.isArray(value) ? value.join(',') : value;
    const existing = headers[name];
    headers[name] = existing === undefined ? joined : `${existing},${joined}`;
  }
  return { headers, cookies };
}

/** Decoded parameters, repeated keys joined with ','; undefined when there are none (the field is then omitted). */
function parseQueryString(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  let params: Record<string, string> | undefined;
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = decodeQueryComponent(eq === -1 ? piece : piece.slice(0, eq));
    const value = eq === -1 ? '' : decodeQueryComponent(piece.slice(eq + 1));
    params ??= {};
    const existing = params[key];
    params[key] = existing === undefined ? value : `${existing},${value}`;
  }
  return params;
}

function decodeQueryComponent(component: string): string {
  // '+' is a space in a query string (form encoding); API Gateway decodes it so.
  const spaced = component.includes('+') ? component.replace(/\+/g, ' ') : component;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A malformed escape is passed through rather than failing the whole request.
    return spaced;
  }
}

/**
 * Only these request bodies reach the function as text; everything else, including a request
 * without a content type and `application/x-www-form-urlencoded`, is base64-encoded with
 * isBase64Encoded true. The guide only says "if the content type of the request is binary";
 * this split was verified against a live HTTP API (ministackorg/ministack#766).
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return (
    mediaType.startsWith('text/') ||
    mediaType === 'application/json' ||
    mediaType === 'application/xml' ||
    mediaType === 'application/javascript'
  );
}

function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { text: string; isBase64Encoded: boolean } | undefined {
  // An empty body is omitted from the event rather than sent as "".
  if (body.length === 0) return undefined;
  return isTextContentType(contentType)
    ? { text: body.toString('utf8'), isBase64Encoded: false }
    : { text: body.toString('base64'), isBase64Encoded: true };
}

/**
 * "The first label of the domain name", e.g. `id` for `id.execute-api.us-east-1.amazonaws.com`.
 * An IP address (a local client calling by address) has no labels, so it is its own prefix.
 */
function domainPrefixOf(domainName: string): string {
  if (isIP(domainName.replace(/^\[(.*)\]$/, '$1')) !== 0) return domainName;
  const dot = domainName.indexOf('.');
  return dot === -1 ? domainName : domainName.slice(0, dot);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** CLF time as in the guide's example, always UTC: `12/Mar/2020:19:03:58 +0000`. */
export function formatRequestTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const month = MONTHS[date.getUTCMonth()] ?? 'Jan';
  return (
    `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
