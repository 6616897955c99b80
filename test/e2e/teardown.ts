import { readFileSync } from 'node:fs';
import { runningServer } from '../../local/server-file';
import { alive, removeDataDir, until } from '../helpers/process';

/**
 * The run's data directory goes with the run, and its cluster with it. Playwright runs this
 * before it stops its webServer, so `npm start` is still serving here: stop it first (SIGINT, as
 * Ctrl-C does, on the pid in server.json), or its PostgreSQL would keep the cluster (which
 * removeDataDir then leaves) and its last sealer run would write into the removed directory.
 * Only when that pid is still the bank of this data directory: a server that died during the
 * run leaves its pid behind, soon another process's on a busy machine.
 */
export default async function teardown(): Promise<void> {
  const dir = process.env.BANK_E2E_DATA_DIR;
  if (!dir?.includes('bank-e2e-')) return;
  const server = runningServer(dir);
  if (server && servesDataDir(server.pid, dir)) {
    process.kill(server.pid, 'SIGINT');
    await until(() => !alive(server.pid), 20_000);
  }
  await removeDataDir(dir);
}

/** Whether process `pid` was started for `dataDir` (its environment names it, as the webServer's does). */
function servesDataDir(pid: number, dataDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`BANK_DATA_DIR=${dataDir}`);
  } catch {
    return false;
  }
}
