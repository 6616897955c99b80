import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { createContext, type FunctionIdentity, functionIdentity } from './gateway/context';
import { decodeHttpApiPath, toApiGatewayEvent } from './gateway/event';
import { type HttpResponse, MalformedResultError, toHttpResponse } from './gateway/result';
import { createRouter } from './gateway/router';
import type { StaticHandler } from './static';

/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): every request becomes the
 * event API Gateway would send, and goes to the same handler module the Lambda runs.
 */

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface GatewayRoute {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly entry: string;
}

export interface GatewayOptions {
  readonly routes: readonly GatewayRoute[];
  /** Loads a route's handler; default: dynamic import of `functions/<entry>.ts` (resolved relative to the repo root) and its `handler` export, loaded once and cached (a warm Lambda). */
  readonly loadHandler?: (route: GatewayRoute) => Promise<HttpHandler>;
  readonly host?: string; // default 127.0.0.1
  readonly port?: number; // default 0
  readonly bodyLimitBytes?: number; // default 1 MiB = 1_048_576, as a Lambda sync payload is 6 MB but our API refuses > 1 MiB
  readonly stage?: string; // default '$default'
  readonly apiId?: string; // default 'local'
  readonly functionTimeoutMs?: number; // default 29_000 (API Gateway's integration timeout) -> 503/504 problem+json when exceeded
  /**
   * Told about a request to a known route that the gateway itself refused (413: the body is over
   * the limit) before any handler ran, so that it can leave the request's audit event as the
   * audit middleware would have. Its failure is logged; the 413 stands.
   */
  readonly onRefusedBeforeHandler?: (refusal: GatewayRefusal) => Promise<void>;
  /** Serves what is not the API's (the web console, local/static.ts); returns true when it answered. */
  readonly staticFiles?: StaticHandler;
}

export interface GatewayRefusal {
  readonly route: GatewayRoute;
  readonly status: number;
  readonly code: string;
  readonly requestId: string;
  readonly sourceIp: string;
  readonly userAgent: string;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export type { ApiGatewayEventInput } from './gateway/event';
export { toApiGatewayEvent } from './gateway/event';

const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;
const DEFAULT_FUNCTION_TIMEOUT_MS = 29_000;
/** How long close() lets in-flight requests finish before cutting their connections. */
const CLOSE_GRACE_MS = 2_000;
/**
 * After a 413 the rest of the upload is read and thrown away (so the client, still sending,
 * sees the response instead of a reset), but only up to this much; past it the socket is cut.
 */
const MAX_DISCARD_BYTES = 16 * 1_048_576;

const FUNCTIONS_DIR = fileURLToPath(new URL('../functions/', import.meta.url));

/** Default loader: `functions/<entry>.ts`'s `handler` export, as the Lambda bundle's entry point. */
async function importFunctionHandler(route: GatewayRoute): Promise<HttpHandler> {
  const file = path.resolve(FUNCTIONS_DIR, `${route.entry}.ts`);
  if (!file.startsWith(FUNCTIONS_DIR))
    throw new Error(`Route '${route.name}' entry escapes functions/: ${route.entry}`);
  const mod: unknown = await import(pathToFileURL(file).href);
  const handler = typeof mod === 'object' && mod !== null && 'handler' in mod ? mod.handler : undefined;
  if (!isHttpHandler(handler))
    throw new Error(`functions/${route.entry}.ts does not export a 'handler' function`);
  return handler;
}

function isHttpHandler(value: unknown): value is HttpHandler {
  return typeof value === 'function';
}

interface WarmFunction {
  readonly identity: FunctionIdentity;
  handler?: Promise<HttpHandler>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const stage = options.stage ?? '$default';
  const apiId = options.apiId ?? 'local';
  const timeoutMs = options.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
  const loadHandler = options.loadHandler ?? importFunctionHandler;
  const router = createRouter(options.routes);
  const functions = new Map<GatewayRoute, WarmFunction>();

  /** Loaded once per route and reused, like a warm execution environment; a failed load is retried next time. */
  function warmFunction(route: GatewayRoute): { identity: FunctionIdentity; handler: Promise<HttpHandler> } {
    let fn = functions.get(route);
    if (!fn) {
      fn = { identity: functionIdentity(route) };
      functions.set(route, fn);
    }
    if (!fn.handler) {
      const loading = loadHandler(route);
      fn.handler = loading;
      const slot = fn;
      loading.catch(() => {
        if (slot.handler === loading) slot.handler = undefined;
      });
    }
    return { identity: fn.identity, handler: fn.handler };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    if (options.staticFiles && (await options.staticFiles(req, res))) return;
    const requestId = randomUUID();
    const now = new Date();
    // API Gateway's own request id header, plus the one our API promises on every response.
    res.setHeader('apigw-requestid', requestId);
    res.setHeader('x-request-id', requestId);

    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const rawPath = decodeHttpApiPath(queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt));
    const match = router.match(method, rawPath);
    if (match.kind === 'not-found') {
      // The path is not repeated: an answer never reflects what the caller sent.
      sendProblem(res, 404, 'Not Found', `No route for ${method} on this path`, 'NOT_FOUND', requestId);
      return;
    }
    if (match.kind === 'method-not-allowed') {
      res.setHeader('allow', match.allow.join(', '));
      sendProblem(
        res,
        405,
        'Method Not Allowed',
        `${method} is not allowed on this path; allowed: ${match.allow.join(', ')}`,
        'METHOD_NOT_ALLOWED',
        requestId,
      );
      return;
    }

    // The audit event is written before the answer, as a handler's would be.
    const refusedTooLarge = async (): Promise<void> => {
      try {
        await options.onRefusedBeforeHandler?.({
          route: match.route,
          status: 413,
          code: 'PAYLOAD_TOO_LARGE',
          requestId,
          sourceIp: normalizeIp(req.socket.remoteAddress),
          userAgent: req.headers['user-agent'] ?? '',
        });
      } catch (error) {
        logError(requestId, `${method} ${match.route.path}`, error);
      }
      sendTooLarge(req, res, bodyLimit, requestId);
    };
    const declaredLength = contentLengthOf(req.headers);
    if (declaredLength !== undefined && declaredLength > bodyLimit) {
      await refusedTooLarge();
      return;
    }
    if (expectsContinue) res.writeContinue();
    const body = await readBody(req, bodyLimit);
    if (body === 'too-large') {
      await refusedTooLarge();
      return;
    }
    // The client went away mid-upload: there is no one to answer and nothing to invoke.
    if (body === 'aborted') return;

    const { route, pathParameters } = match;
    const event = toApiGatewayEvent({
      method,
      rawUrl,
      // headersDistinct keeps every value of a repeated header; `headers` would drop or '; '-join some.
      headers: req.headersDistinct,
      body,
      sourceIp: normalizeIp(req.socket.remoteAddress),
      route,
      pathParameters,
      requestId,
      now,
      stage,
      apiId,
      domainName: hostnameOf(req.headers.host) ?? host,
    });
    const routeKey = event.routeKey;

    let result: unknown;
    try {
      const fn = warmFunction(route);
      const handler = await fn.handler;
      const outcome = await invokeWithTimeout(
        handler,
        event,
        createContext(fn.identity, timeoutMs),
        timeoutMs,
      );
      if (outcome === 'timed-out') {
        logError(requestId, routeKey, `function did not respond within ${timeoutMs} ms`);
        sendProblem(
          res,
          503,
          'Service Unavailable',
          `The function did not respond within ${timeoutMs} ms`,
          'INTEGRATION_TIMEOUT',
          requestId,
        );
        return;
      }
      result = outcome.result;
    } catch (error) {
      logError(requestId, routeKey, error);
      sendInternalServerError(res);
      return;
    }

    let response: HttpResponse;
    try {
      response = toHttpResponse(result);
    } catch (error) {
      if (!(error instanceof MalformedResultError)) throw error;
      logError(requestId, routeKey, error);
      sendInternalServerError(res);
      return;
    }
    if (res.destroyed) return;
    for (const [name, value] of response.headers) {
      // The gateway's request id headers stay authoritative.
      if (name === 'x-request-id' || name === 'apigw-requestid') continue;
      res.setHeader(name, value);
    }
    // RFC 9110: no Content-Length on a 204; on a 304 it would describe the representation, not this body.
    if (response.statusCode !== 204 && response.statusCode !== 304) {
      res.setHeader('content-length', response.body.length);
    }
    res.writeHead(response.statusCode);
    res.end(response.body);
  }

  function onRequest(expectsContinue: boolean) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      handle(req, res, expectsContinue).catch((error: unknown) => {
        logError(String(res.getHeader('x-request-id') ?? ''), `${req.method} ${req.url}`, error);
        if (!res.headersSent && !res.destroyed) sendInternalServerError(res);
        else res.destroy();
      });
    };
  }

  const server = createServer({ keepAlive: true, noDelay: true }, onRequest(false));
  // Without this listener Node answers `Expect: 100-continue` itself, before we could refuse an oversized body.
  server.on('checkContinue', onRequest(true));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('gateway is not listening on a TCP port');
  const { port } = address;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close((error) => {
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
        // Idle keep-alive sockets would otherwise hold close() open until their timeout.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

type Invocation = { readonly result: unknown } | 'timed-out';

async function invokeWithTimeout(
  handler: HttpHandler,
  event: APIGatewayProxyEventV2,
  context: Context,
  timeoutMs: number,
): Promise<Invocation> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  try {
    // A handler that throws synchronously must reject like an async one.
    const running = (async () => ({ result: await handler(event, context) }))();
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Buffers the body, or reports 'too-large' as soon as it passes the limit (nothing more is kept),
 * or 'aborted' when the client disconnects first.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  // Hot path: a request without a body (GET) need not wait for the stream.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    return Promise.resolve(Buffer.alloc(0));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('close', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    // Both mean the upload did not complete ('error' is Node's ECONNRESET "aborted").
    const onAborted = (): void => {
      cleanup();
      resolve('aborted');
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAborted);
    req.on('close', onAborted);
  });
}

function contentLengthOf(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length'];
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function sendTooLarge(req: IncomingMessage, res: ServerResponse, limit: number, requestId: string): void {
  // The connection is not reused: the rest of the upload is drained (bounded) and the socket closed.
  res.setHeader('connection', 'close');
  sendProblem(
    res,
    413,
    'Payload Too Large',
    `The request body exceeds the ${limit}-byte limit`,
    'PAYLOAD_TOO_LARGE',
    requestId,
  );
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARD_BYTES) req.socket.destroy();
  });
  req.resume();
}

function sendProblem(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  code: string,
  requestId: string,
): void {
  if (res.destroyed || res.headersSent) return;
  const body = JSON.stringify({ type: 'about:blank', title, status, detail, code, requestId });
  res.setHeader('content-type', 'application/problem+json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.writeHead(status);
  res.end(body);
}

/** What an HTTP API answers when the function fails or returns something it cannot use. */
const INTERNAL_SERVER_ERROR_BODY = '{"message":"Internal Server Error"}';

function sendInternalServerError(res: ServerResponse): void {
  if (res.destroyed || res.headersSent) return;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(INTERNAL_SERVER_ERROR_BODY));
  res.writeHead(500);
  res.end(INTERNAL_SERVER_ERROR_BODY);
}

/** One JSON line on stderr, so a failing handler is visible without flooding the terminal. */
function logError(requestId: string, routeKey: string, error: unknown): void {
  const detail =
    error instanceof Error
      ? { name: error.name, message: error.message, stack: error.stack }
      : { message: String(error) };
  process.stderr.write(
    `${JSON.stringify({ level: 'ERROR', source: 'gateway', msg: 'invocation failed', requestId, routeKey, error: detail })}\n`,
  );
}

/** API Gateway reports plain IPv4 addresses; Node reports IPv4 peers on dual-stack sockets as IPv4-mapped IPv6. */
function normalizeIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The Host header without its port: what API Gateway reports as the domain name. */
function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    return end === -1 ? hostHeader : hostHeader.slice(0, end + 1);
  }
  const colon = hostHeader.indexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}
