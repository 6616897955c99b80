import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { BankStack, settingsFromContext } from '../bank-stack';
import { repoRoot } from '../constructs/bank-function';
import { type NagFinding, nagAcknowledgments, nagFindings, withoutAcknowledgments } from '../nag';
import { acknowledgmentTable } from './nag-table';

/**
 * `npm run nag`: runs the AWS Solutions, PCI DSS 3.2.1 and Serverless packs over the stack as
 * `cdk synth` builds it (cdk.json's feature flags; esbuild skipped, nag reads the template, not
 * the bundles) and prints the unacknowledged findings rule by rule, then the acknowledgments
 * counted the same way. `-- --json` prints both lists as JSON, `-- --readme` the README's table. Exits 1 on any unacknowledged error.
 */
export function synthForNag(): App {
  const cdkJson = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({
    analyticsReporting: false,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
  });
  const settings = settingsFromContext(app.node);
  new BankStack(app, settings.stackName, { settings });
  return app;
}

function table(rows: ReadonlyArray<{ rule: string; severity?: string }>): string[] {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.rule}${r.severity ? ` (${r.severity})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([key, n]) => `${String(n).padStart(5)}  ${key}`);
}

function main(): void {
  const app = synthForNag();
  const findings: NagFinding[] = nagFindings(app);
  const acks = nagAcknowledgments(app);
  if (process.argv.includes('--readme')) {
    console.log(acknowledgmentTable(acks));
  } else if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ findings, acknowledgments: acks }, null, 2));
  } else {
    const errors = findings.filter((f) => f.severity === 'error').length;
    console.log(
      `Unacknowledged findings: ${findings.length} (${errors} errors, ${findings.length - errors} warnings)`,
    );
    for (const line of table(findings)) console.log(line);
    console.log(`\nAcknowledged (rule, on how many constructs): ${acks.length}`);
    for (const line of table(acks)) console.log(line);
    const raw = nagFindings(withoutAcknowledgments(() => synthForNag()).result);
    console.log(`\nWhat the packs report with no acknowledgment at all: ${raw.length}`);
    for (const line of table(raw)) console.log(line);
  }
  if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
