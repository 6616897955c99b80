import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { routes } from '../../functions/routes';
import {
  type Gateway,
  type GatewayRoute,
  type HttpHandler,
  startGateway,
  toApiGatewayEvent,
} from '../../local/gateway';
import documented from '../fixtures/apigw-v2-event.json';
import { type Echo, handlers } from '../fixtures/gateway-handlers';

/*
 * test/fixtures/apigw-v2-event.json is the payload format 2.0 example from the API Gateway
 * developer guide, "Working with AWS Lambda proxy integrations for HTTP APIs":
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * copied from the guide's published source, awsdocs/amazon-api-gateway-developer-guide,
 * doc_source/http-api-develop-integrations-lambda.md (commit 0597a972eb8fdb5732b2d93633e1a3a71b94543a).
 * Only its whitespace was reformatted (Biome).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ONE_MIB = 1_048_576;

describe('toApiGatewayEvent', () => {
  it('builds the documented example event from the request it describes', () => {
    // Prepare: the request behind the guide's example. The example is schematic in three ways a
    // real request cannot be, so the request adds what a real one carries: a user-agent header
    // (the example reports userAgent "agent" but lists no such header) and a text content type
    // (a body without one reaches the function base64-encoded, yet the example's is plain text).
    // The guide's current page lower-cases header names, as API Gateway does; the older source
    // copied here still shows "Header1".
    const requestId = randomUUID();
    const now = new Date('2020-03-12T19:03:58.390Z'); // the example's `time`
    const route: GatewayRoute = { name: 'example', method: 'POST', path: '/my/path', entry: 'example' };

    // Act
    const event = toApiGatewayEvent({
      method: 'POST',
      rawUrl: '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
      headers: {
        header1: 'value1',
        header2: ['value1', 'value2'],
        cookie: 'cookie1; cookie2',
        'user-agent': 'agent',
        'content-type': 'text/plain',
      },
      body: Buffer.from('Hello from Lambda'),
      sourceIp: 'IP',
      route,
      pathParameters: { parameter1: 'value1' },
      requestId,
      now,
      stage: '$default',
      apiId: 'api-id',
      domainName: 'id.execute-api.us-east-1.amazonaws.com',
    });

    // Assess: field by field against the guide.
    expect(event.version).toBe(documented.version);
    // The example uses the `$default` catch-all route; our routes are explicit `METHOD /path` keys.
    expect(event.routeKey).toBe('POST /my/path');
    expect(event.rawPath).toBe(documented.rawPath);
    expect(event.rawQueryString).toBe(documented.rawQueryString);
    expect(event.cookies).toEqual(documented.cookies);
    expect(event.headers).toEqual({
      ...Object.fromEntries(Object.entries(documented.headers).map(([k, v]) => [k.toLowerCase(), v])),
      'user-agent': 'agent',
      'content-type': 'text/plain',
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.queryStringParameters).toEqual(documented.queryStringParameters);
    expect(event.body).toBe(documented.body);
    expect(event.pathParameters).toEqual(documented.pathParameters);
    expect(event.isBase64Encoded).toBe(documented.isBase64Encoded);
    // No stage variables locally, and no mTLS or authorizer in front of our routes.
    expect(event.stageVariables).toBeUndefined();
    expect(Object.keys(event)).toEqual(Object.keys(documented).filter((k) => k !== 'stageVariables'));

    const ctx = event.requestContext;
    const doc = documented.requestContext;
    expect(ctx.accountId).toMatch(/^\d{12}$/);
    expect(ctx.apiId).toBe(doc.apiId);
    expect(ctx.domainName).toBe(doc.domainName);
    expect(ctx.domainPrefix).toBe(doc.domainPrefix);
    expect(ctx.http).toEqual(doc.http);
    expect(ctx.requestId).toBe(requestId);
    expect(ctx.requestId).toMatch(UUID);
    expect(ctx.routeKey).toBe('POST /my/path');
    expect(ctx.stage).toBe(doc.stage);
    expect(ctx.time).toBe(doc.time);
    // The example's timeEpoch is not the instant its `time` names; ours is.
    expect(ctx.timeEpoch).toBe(now.getTime());
    expect(ctx.authentication).toBeUndefined();
    expect(Object.keys(ctx)).toEqual(
      Object.keys(doc).filter((k) => k !== 'authentication' && k !== 'authorizer'),
    );
  });

  it('omits body, cookies, query and path parameters when the request has none', () => {
    // Prepare
    const route: GatewayRoute = { name: 'health', method: 'GET', path: '/health', entry: 'health' };

    // Act
    const event = toApiGatewayEvent({
      method: 'GET',
      rawUrl: '/health',
      headers: { host: 'localhost:3000' },
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
      route,
      pathParameters: {},
      requestId: randomUUID(),
      now: new Date('2024-01-05T03:04:05.006Z'),
      stage: '$default',
      apiId: 'local',
      domainName: 'localhost',
    });

    // Assess
    expect(event).toEqual({
      version: '2.0',
      routeKey: 'GET /health',
      rawPath: '/health',
      rawQueryString: '',
      headers: { host: 'localhost:3000' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: { method: 'GET', path: '/health', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' },
        requestId: event.requestContext.requestId,
        routeKey: 'GET /health',
        stage: '$default',
        time: '05/Jan/2024:03:04:05 +0000',
        timeEpoch: 1704423845006,
      },
      isBase64Encoded: false,
    });
    expect('body' in event).toBe(false);
    expect('cookies' in event).toBe(false);
    expect('queryStringParameters' in event).toBe(false);
    expect('pathParameters' in event).toBe(false);
  });

  it.each([
    ['application/json; charset=utf-8', false],
    ['text/csv', false],
    ['application/xml', false],
    ['application/javascript', false],
    ['application/octet-stream', true],
    ['application/x-www-form-urlencoded', true],
    ['image/png', true],
    [undefined, true],
  ])('body with content type %s is base64-encoded: %s', (contentType, base64) => {
    // Prepare
    const body = Buffer.from('a=1&b=\u00e9');
    const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };

    // Act
    const event = toApiGatewayEvent({
      method: 'POST',
      rawUrl: '/x',
      headers,
      body,
      sourceIp: '127.0.0.1',
      route: { name: 'x', method: 'POST', path: '/x', entry: 'x' },
      pathParameters: {},
      requestId: randomUUID(),
      now: new Date(),
      stage: '$default',
      apiId: 'local',
      domainName: 'localhost',
    });

    // Assess
    expect(event.isBase64Encoded).toBe(base64);
    expect(event.body).toBe(base64 ? body.toString('base64') : 'a=1&b=\u00e9');
  });

  it('decodes the path (keeping %25) and query parameters, and keeps rawQueryString as sent', () => {
    // Act
    const event = toApiGatewayEvent({
      method: 'GET',
      rawUrl: '/files/a%20b%25c?q=hello%20world&plus=a+b&flag&empty=&q=%E2%82%AC',
      headers: {},
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
      route: { name: 'files', method: 'GET', path: '/files/{name}', entry: 'files' },
      pathParameters: { name: 'a b%c' },
      requestId: randomUUID(),
      now: new Date(),
      stage: '$default',
      apiId: 'local',
      domainName: 'localhost',
    });

    // Assess
    expect(event.rawPath).toBe('/files/a b%25c');
    expect(event.requestContext.http.path).toBe('/files/a b%25c');
    expect(event.rawQueryString).toBe('q=hello%20world&plus=a+b&flag&empty=&q=%E2%82%AC');
    expect(event.queryStringParameters).toEqual({
      q: 'hello world,\u20ac',
      plus: 'a b',
      flag: '',
      empty: '',
    });
    expect(event.pathParameters).toEqual({ name: 'a b%c' });
  });
});

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function send(url: string, init?: RequestInit): Promise<Reply> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Sends a chunked body (no content-length) so only counting while streaming can catch its size. */
function sendChunked(url: string, total: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}`,
      { method: 'POST', headers: { 'content-type': 'text/plain' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('startGateway with fixture handlers', () => {
  const testRoutes: readonly GatewayRoute[] = [
    { name: 'echo.get', method: 'GET', path: '/echo', entry: 'echo' },
    { name: 'echo.post', method: 'POST', path: '/echo', entry: 'echo' },
    { name: 'accounts.deposit', method: 'POST', path: '/accounts/{accountNo}/deposit', entry: 'echo' },
    { name: 'binary', method: 'POST', path: '/binary', entry: 'binary' },
    { name: 'cookies', method: 'GET', path: '/cookies', entry: 'cookies' },
    { name: 'throws', method: 'GET', path: '/throws', entry: 'throws' },
    { name: 'plain.object', method: 'GET', path: '/plain-object', entry: 'plainObject' },
    { name: 'plain.string', method: 'GET', path: '/plain-string', entry: 'plainString' },
    { name: 'malformed', method: 'GET', path: '/malformed', entry: 'malformed' },
  ];
  const loads = new Map<string, number>();
  const invocations = new Map<string, number>();
  let gateway: Gateway;

  beforeAll(async () => {
    gateway = await startGateway({
      routes: testRoutes,
      loadHandler: async (route) => {
        loads.set(route.name, (loads.get(route.name) ?? 0) + 1);
        const handler = handlers[route.entry];
        if (!handler) throw new Error(`no fixture handler '${route.entry}'`);
        const counted: HttpHandler = (event, context) => {
          invocations.set(route.name, (invocations.get(route.name) ?? 0) + 1);
          return handler(event, context);
        };
        return counted;
      },
    });
  });

  afterAll(async () => {
    await gateway.close();
  });

  it('routes a templated path with its route key, decoded path parameters and Lambda context', async () => {
    // Prepare
    const payload = JSON.stringify({ amount: '12.50' });

    // Act
    const reply = await send(`${gateway.url}/accounts/ACC%2D001/deposit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'gateway-test' },
      body: payload,
    });

    // Assess
    expect(reply.status).toBe(200);
    const { event, context } = parseJson<Echo>(reply.text);
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /accounts/{accountNo}/deposit');
    expect(event.requestContext.routeKey).toBe('POST /accounts/{accountNo}/deposit');
    expect(event.rawPath).toBe('/accounts/ACC-001/deposit');
    expect(event.pathParameters).toEqual({ accountNo: 'ACC-001' });
    expect(event.body).toBe(payload);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.requestContext.http).toEqual({
      method: 'POST',
      path: '/accounts/ACC-001/deposit',
      protocol: 'HTTP/1.1',
      sourceIp: '127.0.0.1',
      userAgent: 'gateway-test',
    });
    expect(event.requestContext.stage).toBe('$default');
    expect(event.requestContext.apiId).toBe('local');
    expect(event.requestContext.domainName).toBe('127.0.0.1');
    expect(event.requestContext.requestId).toBe(reply.headers.get('x-request-id'));
    expect(event.requestContext.requestId).toBe(reply.headers.get('apigw-requestid'));
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(10_000);
    expect(context.functionName).toBe('bank-accounts-deposit');
    expect(context.functionVersion).toBe('$LATEST');
    expect(context.invokedFunctionArn).toMatch(
      /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:bank-accounts-deposit$/,
    );
    expect(context.memoryLimitInMB).toBe('512');
    expect(context.awsRequestId).toMatch(UUID);
    expect(context.awsRequestId).not.toBe(event.requestContext.requestId);
    expect(context.logGroupName).toBe('/aws/lambda/bank-accounts-deposit');
    expect(context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(context.remainingTimeInMillis).toBeGreaterThan(28_000);
    expect(context.remainingTimeInMillis).toBeLessThanOrEqual(29_000);
    expect(context.callbackWaitsForEmptyEventLoop).toBe(true);
  });

  it('passes repeated query keys joined with commas and the raw query string as sent', async () => {
    // Act
    const reply = await send(`${gateway.url}/echo?tag=a&tag=b&q=hello%20world`);

    // Assess
    expect(reply.status).toBe(200);
    const { event } = parseJson<Echo>(reply.text);
    expect(event.routeKey).toBe('GET /echo');
    expect(event.rawQueryString).toBe('tag=a&tag=b&q=hello%20world');
    expect(event.queryStringParameters).toEqual({ tag: 'a,b', q: 'hello world' });
    expect(event.pathParameters).toBeUndefined();
    expect(event.body).toBeUndefined();
  });

  it('moves request cookies to the cookies array and drops the cookie header', async () => {
    // Act
    const reply = await send(`${gateway.url}/echo`, { headers: { cookie: 'a=1; b=2', 'x-trace': 'abc' } });

    // Assess
    const { event } = parseJson<Echo>(reply.text);
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.headers['x-trace']).toBe('abc');
  });

  it('joins a repeated request header with commas', async () => {
    // Prepare: fetch merges repeated headers itself; node:http sends an array as separate lines.
    const headers = { 'x-multi': ['one', 'two'] };

    // Act
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/echo`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
      req.on('error', reject);
      req.end();
    });

    // Assess
    expect(parseJson<Echo>(body).event.headers['x-multi']).toBe('one,two');
  });

  it('answers an unknown path with 404 problem+json', async () => {
    // Act
    const reply = await send(`${gateway.url}/nope`);

    // Assess
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toBe('application/problem+json');
    const requestId = reply.headers.get('x-request-id');
    expect(requestId).toMatch(UUID);
    expect(parseJson<unknown>(reply.text)).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'No route for GET on this path',
      code: 'NOT_FOUND',
      requestId,
    });
  });

  it('answers a known path with another method with 405 problem+json and allow', async () => {
    // Act
    const reply = await send(`${gateway.url}/echo`, { method: 'DELETE' });

    // Assess
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET, POST');
    expect(reply.headers.get('content-type')).toBe('application/problem+json');
    expect(parseJson<unknown>(reply.text)).toEqual({
      type: 'about:blank',
      title: 'Method Not Allowed',
      status: 405,
      detail: 'DELETE is not allowed on this path; allowed: GET, POST',
      code: 'METHOD_NOT_ALLOWED',
      requestId: reply.headers.get('x-request-id'),
    });
  });

  it('refuses a body of 1 MiB + 1 byte with 413 before the handler runs', async () => {
    // Prepare
    const before = invocations.get('echo.post') ?? 0;

    // Act
    const reply = await send(`${gateway.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'a'.repeat(ONE_MIB + 1),
    });

    // Assess
    expect(reply.status).toBe(413);
    expect(reply.headers.get('content-type')).toBe('application/problem+json');
    expect(parseJson<unknown>(reply.text)).toEqual({
      type: 'about:blank',
      title: 'Payload Too Large',
      status: 413,
      detail: `The request body exceeds the ${ONE_MIB}-byte limit`,
      code: 'PAYLOAD_TOO_LARGE',
      requestId: reply.headers.get('x-request-id'),
    });
    expect(invocations.get('echo.post') ?? 0).toBe(before);
  });

  it('refuses a chunked body that grows past the limit while streaming', async () => {
    // Prepare
    const before = invocations.get('echo.post') ?? 0;

    // Act
    const reply = await sendChunked(`${gateway.url}/echo`, ONE_MIB + 1);

    // Assess
    expect(reply.status).toBe(413);
    expect(parseJson<{ code: string }>(reply.body).code).toBe('PAYLOAD_TOO_LARGE');
    expect(invocations.get('echo.post') ?? 0).toBe(before);
  });

  it('accepts a body of exactly 1 MiB', async () => {
    // Prepare
    const body = 'a'.repeat(ONE_MIB);

    // Act
    const reply = await send(`${gateway.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body,
    });

    // Assess
    expect(reply.status).toBe(200);
    const { event } = parseJson<Echo>(reply.text);
    expect(event.body).toBe(body);
    expect(event.isBase64Encoded).toBe(false);
  });

  it('delivers a binary request body base64-encoded with isBase64Encoded true', async () => {
    // Prepare
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

    // Act
    const reply = await send(`${gateway.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });

    // Assess
    const { event } = parseJson<Echo>(reply.text);
    expect(event.isBase64Encoded).toBe(true);
    expect(event.body).toBe(bytes.toString('base64'));
  });

  it('decodes a base64 response body, so binary bytes round-trip', async () => {
    // Prepare
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));

    // Act
    const response = await fetch(`${gateway.url}/binary`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: bytes,
    });
    const received = Buffer.from(await response.arrayBuffer());

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('x-request-was-base64')).toBe('true');
    expect(response.headers.get('content-length')).toBe('256');
    expect(received.equals(bytes)).toBe(true);
  });

  it('returns the handler status, headers and each cookie as its own set-cookie header', async () => {
    // Act
    const response = await fetch(`${gateway.url}/cookies`);
    const text = await response.text();

    // Assess
    expect(response.status).toBe(201);
    expect(text).toBe('created');
    expect(response.headers.getSetCookie()).toEqual([
      'session=abc; Path=/; HttpOnly',
      'theme=dark; Max-Age=60',
    ]);
    expect(response.headers.get('x-custom')).toBe('a,b');
    expect(response.headers.get('cache-control')).toBe('no-store');
    // API Gateway's default when a structured response names no content type.
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('answers a thrown error with API Gateway 500 body and logs one line to stderr', async () => {
    // Prepare
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    // Act
    let reply: Reply;
    try {
      reply = await send(`${gateway.url}/throws`);
    } finally {
      spy.mockRestore();
    }

    // Assess
    expect(reply.status).toBe(500);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.text).toBe('{"message":"Internal Server Error"}');
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd()).not.toContain('\n');
    expect(
      parseJson<{ requestId: string; routeKey: string; error: { message: string } }>(line),
    ).toMatchObject({
      requestId: reply.headers.get('x-request-id'),
      routeKey: 'GET /throws',
      error: { message: 'boom: the ledger is on fire' },
    });
  });

  it('answers 500 when the function returns a response API Gateway cannot use', async () => {
    // Prepare
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    // Act
    let reply: Reply;
    try {
      reply = await send(`${gateway.url}/malformed`);
    } finally {
      spy.mockRestore();
    }

    // Assess
    expect(reply.status).toBe(500);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.text).toBe('{"message":"Internal Server Error"}');
    expect(lines).toHaveLength(1);
    expect(parseJson<{ error: { name: string } }>(lines[0] ?? '').error.name).toBe('MalformedResultError');
  });

  it('does not invoke the function when the client aborts the upload', async () => {
    // Prepare
    const before = invocations.get('echo.post') ?? 0;
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    // Act: declare 1000 bytes, send 10, then hang up.
    try {
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${gateway.url}/echo`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'content-length': '1000' },
        });
        req.on('error', () => resolve());
        req.write('0123456789', () => {
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 50);
        });
      });
      // Give the gateway time to notice the hang-up.
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      spy.mockRestore();
    }

    // Assess
    expect(invocations.get('echo.post') ?? 0).toBe(before);
    expect(lines).toEqual([]);
  });

  it('infers 200 application/json for a plain object result', async () => {
    // Act
    const reply = await send(`${gateway.url}/plain-object`);

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.text).toBe('{"hello":"world","count":2}');
  });

  it('infers 200 application/json with the string itself as body for a string result', async () => {
    // Act
    const reply = await send(`${gateway.url}/plain-string`);

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.text).toBe('Hello from Lambda!');
  });

  it('puts a fresh x-request-id and apigw-requestid on every response', async () => {
    // Act
    const replies = await Promise.all([
      send(`${gateway.url}/echo`),
      send(`${gateway.url}/nope`),
      send(`${gateway.url}/echo`, { method: 'PUT' }),
      send(`${gateway.url}/cookies`),
      send(`${gateway.url}/plain-object`),
    ]);

    // Assess
    const ids = replies.map((r) => r.headers.get('x-request-id'));
    for (const [i, reply] of replies.entries()) {
      expect(ids[i]).toMatch(UUID);
      expect(reply.headers.get('apigw-requestid')).toBe(ids[i]);
    }
    expect(new Set(ids).size).toBe(replies.length);
  });

  it('loads each route handler once and reuses it (a warm Lambda)', async () => {
    // Act
    await send(`${gateway.url}/plain-object`);
    await send(`${gateway.url}/plain-object`);

    // Assess
    expect(loads.get('plain.object')).toBe(1);
    expect(invocations.get('plain.object')).toBeGreaterThanOrEqual(2);
  });
});

describe('startGateway limits and lifecycle', () => {
  it('answers 503 problem+json when the function exceeds its timeout', async () => {
    // Prepare
    const slow = handlers.slow;
    if (!slow) throw new Error('fixture handler slow missing');
    const gateway = await startGateway({
      routes: [{ name: 'slow', method: 'GET', path: '/slow', entry: 'slow' }],
      loadHandler: async () => slow,
      functionTimeoutMs: 100,
    });
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

    try {
      // Act
      const started = Date.now();
      const reply = await send(`${gateway.url}/slow`);
      const elapsed = Date.now() - started;

      // Assess
      expect(reply.status).toBe(503);
      expect(elapsed).toBeLessThan(1_500);
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(parseJson<unknown>(reply.text)).toEqual({
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail: 'The function did not respond within 100 ms',
        code: 'INTEGRATION_TIMEOUT',
        requestId: reply.headers.get('x-request-id'),
      });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
      await gateway.close();
    }
  });

  it('close() resolves promptly with an idle keep-alive connection open', async () => {
    // Prepare
    const plain = handlers.plainObject;
    if (!plain) throw new Error('fixture handler plainObject missing');
    const gateway = await startGateway({
      routes: [{ name: 'plain', method: 'GET', path: '/plain', entry: 'plainObject' }],
      loadHandler: async () => plain,
    });
    const agent = new Agent({ keepAlive: true });
    const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/plain`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.connection));
      });
      req.on('error', reject);
      req.end();
    });

    // Act
    const started = Date.now();
    await gateway.close();
    const elapsed = Date.now() - started;

    // Assess
    expect(keepAlive).toBe('keep-alive');
    expect(elapsed).toBeLessThan(1_000);
    await expect(fetch(`${gateway.url}/plain`)).rejects.toThrow();
    agent.destroy();
  });
});

const healthModule = fileURLToPath(new URL('../../functions/health.ts', import.meta.url));

describe('startGateway default loader', () => {
  it.skipIf(!existsSync(healthModule))('imports functions/health.ts and answers GET /health', async () => {
    // Prepare
    const gateway = await startGateway({ routes: routes.filter((r) => r.name === 'health') });

    try {
      // Act
      const reply = await send(`${gateway.url}/health`);

      // Assess
      expect(reply.status).toBe(200);
      expect(parseJson<{ status: string }>(reply.text)).toMatchObject({ status: 'ok' });
      expect(reply.headers.get('x-request-id')).toMatch(UUID);
    } finally {
      await gateway.close();
    }
  });
});
