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

// npm does not pass its SIGTERM on to the script: when the npm that runs us is gone we are
// re-parented, so stop. Only under npm: started directly (nohup, a service manager) we stay up.
if (process.env.npm_lifecycle_event) {
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) requestStop(`parent process ${parentPid} exited`);
  }, 500).unref();
}

// The logger reads these when its module loads, so they are settled before anything imports it:
// one line per request by default, readable on a terminal, JSON for pipes and log collectors.
process.env.POWERTOOLS_LOG_LEVEL ||= 'INFO';
process.env.BANK_LOG_FORMAT ||= process.stdout.isTTY ? 'pretty' : 'json';
// The SDK's notice that its 2027 releases need Node 22 (what Lambda runs) is not for operators.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { readSettings } = await import('./settings');
const read = readSettings(process.env);
if (!read.ok) {
  console.error(`error: ${read.message}`);
  process.exit(2);
}
const settings = read.settings;
const { startLocalBank } = await import('./bank');
const { componentFailure } = await import('./supervisor');
const { removeServerFile, writeServerFile } = await import('./server-file');

try {
  const bank = await startLocalBank({
    dataDir: settings.BANK_DATA_DIR,
    host: settings.HOST,
    port: settings.PORT,
    adminUsername: settings.BANK_ADMIN_USERNAME,
    auditSealIntervalS: settings.BANK_AUDIT_SEAL_INTERVAL_S,
    ...(settings.BANK_ADMIN_PASSWORD ? { adminPassword: settings.BANK_ADMIN_PASSWORD } : {}),
  });
  const adminName = settings.BANK_ADMIN_USERNAME;
  if (bank.generatedAdminPassword) {
    console.log(`created admin user "${adminName}" with password: ${bank.generatedAdminPassword}`);
    console.log('(shown once; set BANK_ADMIN_PASSWORD on first start to choose it)');
  } else if (bank.adminCreated) {
    console.log(`created admin user "${adminName}" from BANK_ADMIN_PASSWORD`);
  }
  if (bank.adminPasswordDiffers) {
    console.warn(
      `warning: BANK_ADMIN_PASSWORD is not the password of the existing admin "${adminName}" and was not applied; to change it: npm run admin:reset -- --username ${adminName}`,
    );
  }
  await writeServerFile(settings.BANK_DATA_DIR, { pid: process.pid, url: bank.url });
  console.log(`bank API listening on ${bank.url}`);

  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    if (code === 0) console.log(`${reason}: stopping`);
    else console.error(`error: ${reason}; the bank has stopped, start it again with npm start`);
    try {
      await removeServerFile(settings.BANK_DATA_DIR);
      await bank.stop();
      process.exit(code);
    } catch (error) {
      console.error(`error while stopping: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  };
  onStop = (reason) => void stop(reason, 0);
  void componentFailure(bank).then((reason) => stop(reason, 1));
  if (stopRequested) void stop(stopRequested, 0);
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

export {};
