import type { NagAcknowledgment } from '../nag';

/**
 * The README's table of acknowledged cdk-nag rules, generated from the acknowledgments in code
 * (`npm run nag -- --readme`); test/cdk/nag.test.ts fails when the README's copy differs.
 * One row per rule and reason, naming the constructs it is acknowledged on.
 */
export function acknowledgmentTable(acks: readonly NagAcknowledgment[]): string {
  const rows = new Map<string, { rule: string; reason: string; on: string[] }>();
  for (const a of acks) {
    const key = `${a.rule}\u0000${a.reason}`;
    const row = rows.get(key) ?? { rule: a.rule, reason: a.reason, on: [] };
    // Path below the stack: `Functions/Health`, `Api/HttpApi/GET--health`.
    row.on.push(a.path.split('/').slice(1).join('/'));
    rows.set(key, row);
  }
  const cell = (text: string) => text.replaceAll('|', '\\|');
  return [
    '| rule | acknowledged on | reason |',
    '| --- | --- | --- |',
    ...[...rows.values()].map(
      (r) => `| \`${cell(r.rule)}\` | ${cell(r.on.map((p) => `\`${p}\``).join(', '))} | ${cell(r.reason)} |`,
    ),
  ].join('\n');
}
