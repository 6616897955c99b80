import { Worker } from 'node:worker_threads';
import type { DataApiServer, DataApiServerOptions, DbCredentials } from './server';
import type { ThreadData, ThreadMessage } from './thread-worker';
import { callStats, operationNames, setLatencyMs } from './wire';

/**
 * The local Data API server on a worker thread of its own. In the cloud the Data API is another
 * service on other machines; locally this lets the gateway and handlers use one core while the
 * Data API server (HTTP parsing, the pg driver, result mapping) uses another, instead of both
 * queueing on one event loop. Same server code, same wire protocol, same port-per-server URL.
 */
export interface DataApiThreadOptions
  extends Omit<DataApiServerOptions, 'resolveSecret' | 'callCounters' | 'latencyMsCell'> {
  /** secretArn -> PostgreSQL login credentials (copied to the thread: functions cannot cross). */
  readonly secrets: ReadonlyMap<string, DbCredentials>;
}

const startTimeoutMs = 30_000;

export async function startDataApiServerThread(
  options: DataApiThreadOptions,
): Promise<DataApiServer & { crash(): Promise<void> }> {
  const { secrets, ...serverOptions } = options;
  const callCounters = new Int32Array(new SharedArrayBuffer(4 * operationNames.length));
  const latencyMsCell = new Int32Array(new SharedArrayBuffer(4));
  const workerData: ThreadData = {
    options: serverOptions,
    secrets: [...secrets],
    callCounters,
    latencyMsCell,
  };
  const worker = new Worker(new URL('./thread-entry.mjs', import.meta.url), { workerData });

  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the Data API thread did not start')), startTimeoutMs);
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      outcome();
    };
    const onMessage = (message: ThreadMessage) => {
      if (message.type === 'ready') settle(() => resolve({ url: message.url, port: message.port }));
      else if (message.type === 'failed') settle(() => reject(new Error(message.message)));
    };
    const onError = (error: Error) => settle(() => reject(error));
    const onExit = (code: number) =>
      settle(() => reject(new Error(`the Data API thread exited (code ${code}) before it started`)));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });

  // A server that dies after starting leaves every database call failing: say so loudly.
  let closing: Promise<void> | undefined;
  let fail: (reason: string) => void = () => undefined;
  const failed = new Promise<string>((resolve) => {
    fail = resolve;
  });
  worker.on('error', (error) => {
    console.error(`local Data API thread failed: ${error.stack ?? error.message}`);
    if (!closing) fail(`the local Data API thread failed: ${error.message}`);
  });
  let exited = false;
  worker.on('exit', (code) => {
    exited = true;
    if (!closing) {
      console.error(`local Data API thread exited unexpectedly (code ${code})`);
      fail(`the local Data API thread exited unexpectedly (code ${code})`);
    }
  });

  const shutdown = async (): Promise<void> => {
    if (exited) return;
    const closed = new Promise<void>((resolve) => {
      worker.on('message', (message: ThreadMessage) => {
        if (message.type === 'closed') resolve();
      });
      worker.once('exit', () => resolve());
    });
    worker.postMessage('close');
    await closed;
    await worker.terminate();
  };

  return {
    url: ready.url,
    port: ready.port,
    stats: callStats(callCounters),
    setLatencyMs: (ms) => setLatencyMs(latencyMsCell, ms),
    failed,
    /** Ends the thread as a crash would (tests of what the owner does then). */
    crash: async () => {
      await worker.terminate();
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
