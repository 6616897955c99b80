import { runningServer } from './server-file';

/**
 * `npm run ready`: waits until the bank of ${BANK_DATA_DIR:-.data} answers GET /health with 200
 * (PostgreSQL included), then prints its URL and exits 0; after ${BANK_READY_TIMEOUT_S:-60} s it
 * says what it last saw and exits 1. For scripts: `npm start & npm run ready && curl …`.
 */
const dataDir = process.env.BANK_DATA_DIR || '.data';
const timeoutS = Number(process.env.BANK_READY_TIMEOUT_S || 60);
if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
  console.error(
    `error: BANK_READY_TIMEOUT_S=${JSON.stringify(process.env.BANK_READY_TIMEOUT_S)} is not allowed: use a number of seconds above 0`,
  );
  process.exit(2);
}
const deadline = Date.now() + timeoutS * 1000;
let last = `no bank has started on ${dataDir} (no server.json)`;
while (Date.now() < deadline) {
  const server = runningServer(dataDir);
  if (server) {
    try {
      const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) {
        console.log(server.url);
        process.exit(0);
      }
      last = `GET ${server.url}/health answered ${res.status} ${await res.text()}`;
    } catch (error) {
      last = `GET ${server.url}/health failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
console.error(`error: the bank was not ready after ${timeoutS} s: ${last}`);
process.exit(1);
