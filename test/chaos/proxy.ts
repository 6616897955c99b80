import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fault-injecting HTTP proxy between the handlers' SDK client and the local Data API server.
 * The local server stays untouched: faults happen on the wire, where the cloud's happen. Requests
 * and responses are forwarded byte for byte (raw header names, order and values, the body as
 * received), so a signed request still verifies upstream.
 */
export const proxyFaultKinds = [
  /** Connection cut before anything is forwarded: the statement never ran. */
  'drop-before',
  /** Forwarded, answered (committed), then the connection is cut: the caller never hears. */
  'drop-after',
  /** 503 ServiceUnavailableError without forwarding. */
  'unavailable-503',
  /** 500 InternalServerErrorException without forwarding. */
  'internal-500',
  /** 429 ThrottlingException without forwarding. */
  'throttle-429',
  /** 400 ThrottlingException (how throttling reaches restJson1 clients) without forwarding. */
  'throttle-400',
  /** Held past the function's timeout, then forwarded: the statement runs after the caller gave up. */
  'stall-before',
  /** Forwarded at once, the answer held past the function's timeout: a function timing out mid-call. */
  'stall-after',
] as const;
export type ProxyFault = (typeof proxyFaultKinds)[number];

export interface FaultProxyOptions {
  readonly upstreamPort: number;
  /** Chooses the fault for one request, or undefined to pass it through. */
  readonly decide: (path: string) => ProxyFault | undefined;
  readonly stallMs: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  readonly counts: Record<ProxyFault, number>;
  /** Requests forwarded (with or without a fault). */
  readonly forwarded: () => number;
  /** Resolves when no request is held or in flight. */
  idle(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

const errorShapes = {
  'unavailable-503': { status: 503, type: 'ServiceUnavailableError', message: 'Service unavailable' },
  'internal-500': { status: 500, type: 'InternalServerErrorException', message: 'Internal error' },
  'throttle-429': { status: 429, type: 'ThrottlingException', message: 'Rate exceeded' },
  'throttle-400': { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
} as const;

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const counts = Object.fromEntries(proxyFaultKinds.map((k) => [k, 0])) as Record<ProxyFault, number>;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let forwarded = 0;
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  /** Forwards the request as received; resolves with the upstream answer, raw. */
  function forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; rawHeaders: string[]; body: Buffer }> {
    forwarded += 1;
    return new Promise((resolve, reject) => {
      const upstream = request(
        {
          host: '127.0.0.1',
          port: options.upstreamPort,
          method: req.method,
          path: req.url,
          // The raw [name, value, ...] list: names, order and values exactly as signed.
          headers: req.rawHeaders,
          setHost: false,
          agent,
        },
        (response) => {
          readAll(response).then(
            (answer) =>
              resolve({ status: response.statusCode ?? 502, rawHeaders: response.rawHeaders, body: answer }),
            reject,
          );
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const fault = options.decide(req.url ?? '/');
    if (fault) counts[fault] += 1;
    switch (fault) {
      case 'drop-before':
        req.socket.destroy();
        return;
      case 'unavailable-503':
      case 'internal-500':
      case 'throttle-429':
      case 'throttle-400': {
        const shape = errorShapes[fault];
        const answer = JSON.stringify({ message: shape.message });
        res.writeHead(shape.status, {
          'content-type': 'application/json',
          'x-amzn-errortype': shape.type,
          'x-amzn-requestid': crypto.randomUUID(),
          'content-length': Buffer.byteLength(answer),
        });
        res.end(answer);
        return;
      }
      case 'stall-before':
        await sleep(options.stallMs);
        break;
      default:
        break;
    }
    let answer: { status: number; rawHeaders: string[]; body: Buffer };
    try {
      answer = await forward(req, body);
    } catch {
      // Upstream unreachable (a restart in progress) or cut: the caller sees a dropped connection,
      // as it would from a Data API endpoint that failed mid-call.
      req.socket.destroy();
      return;
    }
    if (fault === 'drop-after') {
      req.socket.destroy();
      return;
    }
    if (fault === 'stall-after') await sleep(options.stallMs);
    if (res.destroyed) return;
    // Raw headers again, so the answer reaches the SDK as the server sent it.
    res.writeHead(answer.status, answer.rawHeaders);
    res.end(answer.body);
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    inFlight += 1;
    handle(req, res)
      .catch(() => {
        if (!res.destroyed) req.socket.destroy();
      })
      .finally(() => {
        inFlight -= 1;
      });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts,
    forwarded: () => forwarded,
    async idle(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return inFlight === 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
