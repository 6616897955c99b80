import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * `<data dir>/server.json`: written once the API listens, removed on a clean stop. Scripts wait
 * on it (npm run ready), and the operator tools (backup, invoke) learn from it that a bank is
 * serving this data directory and where. A file left by a killed run names a dead pid.
 */
export interface ServerFile {
  readonly pid: number;
  readonly url: string;
}

const fileOf = (dataDir: string) => path.join(path.resolve(dataDir), 'server.json');

export async function writeServerFile(dataDir: string, server: ServerFile): Promise<void> {
  await writeFile(fileOf(dataDir), JSON.stringify(server), { mode: 0o600 });
}

export async function removeServerFile(dataDir: string): Promise<void> {
  await rm(fileOf(dataDir), { force: true });
}

/** The bank serving this data directory, if its process is alive. */
export function runningServer(dataDir: string): ServerFile | undefined {
  let parsed: ServerFile;
  try {
    parsed = JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as ServerFile;
  } catch {
    return undefined;
  }
  try {
    process.kill(parsed.pid, 0);
    return parsed;
  } catch {
    return undefined;
  }
}
