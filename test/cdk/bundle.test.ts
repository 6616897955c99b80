import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundleBudgetBytes,
  entryFileOf,
  esbuildOptionsFor,
  esmRequireBanner,
  sdkExternalModules,
} from '../../cdk/constructs/bank-function';
import { backgroundFunctions, routes } from '../../functions/routes';

/**
 * Builds every function of the manifest with esbuild's JS API and the construct's own options
 * (the stack test checks that CDK deploys byte-identical bundles), prints the sizes and holds
 * each minified bundle to the budget.
 */
const entries = [...routes.map((r) => ({ name: r.name, entry: r.entry })), ...backgroundFunctions];

interface Row {
  readonly name: string;
  readonly entry: string;
  readonly bytes: number;
  readonly mapBytes: number;
  readonly largest: string;
}
const rows: Row[] = [];
let outdir = '';

beforeAll(async () => {
  outdir = await mkdtemp(path.join(tmpdir(), 'bank-bundle-'));
});

afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
  const lines = [
    `Function bundles (minified ESM, budget ${kb(bundleBudgetBytes)} each; source maps ship alongside, not counted):`,
    `${'function'.padEnd(18)} ${'entry'.padEnd(18)} ${'index.mjs'.padStart(10)} ${'budget'.padStart(7)} ${'map'.padStart(10)}  largest inputs`,
    ...rows.map(
      (r) =>
        `${r.name.padEnd(18)} ${r.entry.padEnd(18)} ${kb(r.bytes).padStart(10)} ${`${Math.round((100 * r.bytes) / bundleBudgetBytes)}%`.padStart(7)} ${kb(r.mapBytes).padStart(10)}  ${r.largest}`,
    ),
  ];
  console.log(lines.join('\n'));
});

/** The three packages (or project files, together) that contribute the most bytes to the bundle. */
function largestInputs(metafile: Metafile, outfile: string): string {
  const output = Object.entries(metafile.outputs).find(([file]) => path.resolve(file) === outfile)?.[1];
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? '(project)';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([pkg, bytes]) => `${pkg} ${(bytes / 1000).toFixed(0)}K`)
    .join(', ');
}

describe('function bundles', () => {
  it.each(entries)('$name ($entry) bundles under the size budget', async ({ name, entry }) => {
    const outfile = path.join(outdir, entry, 'index.mjs');
    const result = await build({ ...esbuildOptionsFor(entryFileOf(entry), outfile), metafile: true });
    expect(result.errors).toEqual([]);

    const bytes = statSync(outfile).size;
    rows.push({
      name,
      entry,
      bytes,
      mapBytes: statSync(`${outfile}.map`).size,
      largest: largestInputs(result.metafile, outfile),
    });

    // ESM with the createRequire banner; the Data API client bundled, never the packages left
    // to the runtime (the credential links a Lambda never reaches, client-s3).
    const code = readFileSync(outfile, 'utf8');
    expect(code.startsWith(esmRequireBanner)).toBe(true);
    expect(code).toContain('//# sourceMappingURL=index.mjs.map');
    const inputs = Object.keys(result.metafile.inputs);
    const leftToRuntime = inputs.filter((i) =>
      sdkExternalModules.some((m) => i.includes(`node_modules/${m}/`)),
    );
    expect(leftToRuntime).toEqual([]);
    // The request path (data-api.ts) and the migrate and rotation functions (data-api-executor.ts).
    const usesDataApi = inputs.some(
      (i) => i.endsWith('shared/db/data-api.ts') || i.endsWith('shared/db/data-api-executor.ts'),
    );
    const bundlesDataApiClient = inputs.some((i) => i.includes('node_modules/@aws-sdk/client-rds-data/'));
    expect(bundlesDataApiClient).toBe(usesDataApi);

    expect(bytes, `${entry}: ${bytes} bytes > budget ${bundleBudgetBytes}`).toBeLessThanOrEqual(
      bundleBudgetBytes,
    );
  });
});
