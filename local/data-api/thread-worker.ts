import { parentPort, workerData } from 'node:worker_threads';
import { type DataApiServerOptions, type DbCredentials, startDataApiServer } from './server';

/**
 * The Data API server on its own thread (see thread.ts): started from workerData, reporting
 * `ready` (or `failed`) once, and closing on request.
 */
export interface ThreadData {
  readonly options: Omit<DataApiServerOptions, 'resolveSecret' | 'callCounters' | 'latencyMsCell'>;
  readonly secrets: ReadonlyArray<readonly [string, DbCredentials]>;
  readonly callCounters: Int32Array;
  readonly latencyMsCell: Int32Array;
}

export type ThreadMessage =
  | { readonly type: 'ready'; readonly url: string; readonly port: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'closed' };

const port = parentPort;
if (!port) throw new Error('thread-worker.ts runs only as a worker thread');
const data = workerData as ThreadData;
const secrets = new Map(data.secrets);
const post = (message: ThreadMessage) => port.postMessage(message);

try {
  const server = await startDataApiServer({
    ...data.options,
    resolveSecret: (arn) => secrets.get(arn),
    callCounters: data.callCounters,
    latencyMsCell: data.latencyMsCell,
  });
  port.on('message', (message: unknown) => {
    if (message !== 'close') return;
    void server
      .close()
      .catch((error: unknown) => console.error(`local Data API thread: close failed: ${String(error)}`))
      .finally(() => post({ type: 'closed' }));
  });
  post({ type: 'ready', url: server.url, port: server.port });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
