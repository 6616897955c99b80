/**
 * `npm start`: serves the API on http://127.0.0.1:${PORT:-3000} over an embedded PostgreSQL kept
 * in ${BANK_DATA_DIR:-.data}. Stops cleanly, database included, on SIGINT or SIGTERM.
 */
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
  if (bank.adminPasswordDiffers) {
    console.warn(
      `warning: BANK_ADMIN_PASSWORD is not the password of the existing admin "${adminName}" and was not applied; to change it: npm run admin:reset -- --username ${adminName}`,
    );
  }
  console.log(`bank API listening on ${bank.url}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    try {
      await bank.stop();
      process.exit(0);
    } catch (error) {
      console.error(`error while stopping: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

export {};
