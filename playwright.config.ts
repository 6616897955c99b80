import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests of the web console in a real Chromium against `npm start` on a fresh data
 * directory. Set once here in the runner; the workers inherit the environment.
 */
process.env.BANK_E2E_PORT ??= String(20_000 + Math.floor(Math.random() * 20_000));
process.env.BANK_E2E_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), 'bank-e2e-'));
process.env.BANK_E2E_ADMIN_PASSWORD ??= 'e2e-admin-password-1';
const baseURL = `http://127.0.0.1:${process.env.BANK_E2E_PORT}`;

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '*.spec.ts',
  outputDir: 'test-results/e2e',
  fullyParallel: false,
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // CI (.ci/run) sets BANK_TEST_REPORT_DIR so that `npm test` also writes a JSON report it can count.
  reporter: process.env.BANK_TEST_REPORT_DIR
    ? [['list'], ['json', { outputFile: path.join(process.env.BANK_TEST_REPORT_DIR, 'e2e.json') }]]
    : [['list']],
  globalTeardown: './test/e2e/teardown.ts',
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: {
      // The system's Chromium (Debian: apt-get install chromium); no browser download.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    },
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  webServer: {
    command: 'npm start',
    url: `${baseURL}/health`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGINT', timeout: 15_000 },
    env: {
      PORT: process.env.BANK_E2E_PORT,
      BANK_DATA_DIR: process.env.BANK_E2E_DATA_DIR,
      BANK_ADMIN_PASSWORD: process.env.BANK_E2E_ADMIN_PASSWORD,
      BANK_BCRYPT_COST: '4',
    },
  },
});
