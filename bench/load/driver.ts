import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Job, JobReply, JobRequest, Measurement } from './protocol';

/** The orchestrator's handle on the load worker process. */
export interface LoadWorker {
  readonly pid: number | undefined;
  run(job: Job): Promise<Measurement>;
  close(): Promise<void>;
}

export function startLoadWorker(cwd: string): LoadWorker {
  const child: ChildProcess = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
    cwd,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (m: Measurement) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  child.on('message', (reply: JobReply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(`load worker: ${reply.error}`));
  });
  child.on('exit', (code, signal) => {
    exited = true;
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`load worker exited (${code ?? signal})`));
    }
    pending.clear();
  });
  return {
    pid: child.pid,
    run(job) {
      if (exited) return Promise.reject(new Error('load worker is not running'));
      const id = nextId++;
      return new Promise<Measurement>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, job } satisfies JobRequest);
      });
    },
    async close() {
      if (exited) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
        setTimeout(() => {
          if (!exited) child.kill('SIGTERM');
        }, 2_000).unref();
      });
    },
  };
}
