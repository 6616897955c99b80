import { runningServer } from '../../local/server-file';
import { alive, removeDataDir, until } from '../helpers/process';

/**
 * The run's data directory goes with the run, and its cluster with it. Playwright runs this
 * before it stops its webServer, so `npm start` is still serving here: stop it first (SIGINT, as
 * Ctrl-C does, on the pid in server.json), or its PostgreSQL would keep the cluster (which
 * removeDataDir then leaves) and its last sealer run would write into the removed directory.
 */
export default async function teardown(): Promise<void> {
  const dir = process.env.BANK_E2E_DATA_DIR;
  if (!dir?.includes('bank-e2e-')) return;
  const server = runningServer(dir);
  if (server) {
    process.kill(server.pid, 'SIGINT');
    await until(() => !alive(server.pid), 20_000);
  }
  await removeDataDir(dir);
}
