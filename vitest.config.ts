import path from 'node:path';
import { defineConfig } from 'vitest/config';

// CI (.ci/run) sets BANK_TEST_REPORT_DIR so that `npm test` also writes a JSON report it can count.
const reportDir = process.env.BANK_TEST_REPORT_DIR;

export default defineConfig({
  test: {
    reporters: reportDir
      ? ['default', ['json', { outputFile: path.join(reportDir, 'vitest.json') }]]
      : ['default'],
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    // The SDK warns that its 2027 releases need Node 22 (Lambda runs 22); not news in every test log.
    // The bank's EMF metric lines would fill every handler test's output; test/unit/metrics.test.ts turns them on.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
