import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../cdk/constructs/bank-function';
import { covers, nagAcknowledgments, nagFindings, withoutAcknowledgments } from '../../cdk/nag';
import { synthForNag } from '../../cdk/scripts/nag';
import { acknowledgmentTable } from '../../cdk/scripts/nag-table';

/**
 * The stack as a bank's security reviewer runs it: AWS Solutions, PCI DSS 3.2.1 and Serverless.
 * Any new finding, error or warning, fails here until it is fixed or acknowledged on its construct
 * with a reason; and no acknowledgment may outlive the finding it was written for.
 */
const app = synthForNag();
const raw = withoutAcknowledgments(() => synthForNag());
const rawFindings = nagFindings(raw.result);

describe('cdk-nag', () => {
  it('reports no unacknowledged finding, error or warning', () => {
    expect(nagFindings(app).map((f) => `${f.rule} at ${f.path}`)).toEqual([]);
  });

  it('finds something without the acknowledgments (the packs really run)', () => {
    expect(rawFindings.length).toBeGreaterThan(0);
  });

  it('has no stale acknowledgment: each one covers a finding the packs report without it', () => {
    const stale = raw.acknowledgments.filter(
      (a) => !rawFindings.some((f) => f.rule === a.rule && covers(a.path, f.path)),
    );
    expect(stale.map((a) => `${a.rule} at ${a.path}`)).toEqual([]);
  });

  it('acknowledges nothing on the stack or the app as a whole', () => {
    for (const a of nagAcknowledgments(app)) {
      expect(a.path.split('/').length, `${a.rule} at ${a.path}`).toBeGreaterThan(2);
      expect(a.reason.length, `${a.rule} at ${a.path}`).toBeGreaterThan(60);
    }
  });

  it("lists every acknowledgment and its reason in the README's table", () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const table = acknowledgmentTable(nagAcknowledgments(app));
    expect(readme, 'run `npm run nag -- --readme` and paste the table').toContain(table);
  });
});
