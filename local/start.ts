/**
 * `npm start`: serves the API on http://127.0.0.1:${PORT:-3000} over an embedded PostgreSQL kept
 * in ${BANK_DATA_DIR:-.data}. Stops cleanly, database included, on SIGINT, SIGTERM or SIGHUP, and
 * when the process that started it (npm) goes away.
 */

// A closed terminal or pipe must not kill us with EPIPE half-way through stopping PostgreSQL.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

/**
 * Installed first: until now a signal during start-up killed Node outright and left PostgreSQL
 * (its own process group) running. A signal that arrives while starting is acted on once the
 * bank is up, or before anything more is started.
 */
let stopRequested: string | undefined;
let onStop: ((reason: string) => void) | undefined;
const requestStop = (reason: string) => {
  if (stopRequested) return;
  stopRequested = reason;
  onStop?.(reason);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => requestStop(signal));

// npm does not pass its SIGTERM on to the script: when npm is gone we are re-parented, so stop.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) requestStop(`parent process ${parentPid} exited`);
}, 500).unref();

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`error: PORT must be an integer 0..65535, got ${process.env.PORT}`);
  process.exit(2);
}
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// The SDK's notice that its 2027 releases need Node 22 (what Lambda runs) is not for operators.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Imported only now: the logger reads its level when its module loads.
const { startLocalBank } = await import('./bank');

try {
  const bank = await startLocalBank({
    dataDir: process.env.BANK_DATA_DIR ?? '.data',
    host: process.env.HOST ?? '127.0.0.1',
    port,
    adminUsername: process.env.BANK_ADMIN_USERNAME ?? 'admin',
    ...(process.env.BANK_ADMIN_PASSWORD ? { adminPassword: process.env.BANK_ADMIN_PASSWORD } : {}),
  });
  const adminName = process.env.BANK_ADMIN_USERNAME ?? 'admin';
  if (bank.generatedAdminPassword) {
    console.log(`created admin user "${adminName}" with password: ${bank.generatedAdminPassword}`);
    console.log('(shown once; set BANK_ADMIN_PASSWORD on first start to choose it)');
  } else if (bank.adminCreated) {
    console.log(`created admin user "${adminName}" from BANK_ADMIN_PASSWORD`);
  }
  console.log(`bank API listening on ${bank.url}`);

  const stop = async (reason: string) => {
    console.log(`${reason}: stopping`);
    try {
      await bank.stop();
      process.exit(0);
    } catch (error) {
      console.error(`error while stopping: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  };
  onStop = (reason) => void stop(reason);
  if (stopRequested) void stop(stopRequested);
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

export {};
