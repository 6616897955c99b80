import { rm } from 'node:fs/promises';

/** The run's data directory goes with the run. */
export default async function teardown(): Promise<void> {
  const dir = process.env.BANK_E2E_DATA_DIR;
  if (dir?.includes('bank-e2e-')) await rm(dir, { recursive: true, force: true });
}
