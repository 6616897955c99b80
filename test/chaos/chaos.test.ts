import { describe, expect, it } from 'vitest';
import { proxyFaultKinds } from './proxy';

/*
 * The short chaos run: every kind of fault at least once (each Data API fault is forced once
 * early, and the nemesis kills PostgreSQL and the whole npm start tree once each), then the
 * checker over the quiet system. A random seed each run, printed, so a failure can be replayed
 * with `npm run chaos -- --seed N --ops 300`; CHAOS_SEED pins it.
 */
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const { runChaos } = await import('./run');

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);

describe('chaos (short run)', () => {
  it(`conserves money and answers each key once under every fault (seed ${seed})`, {
    timeout: 150_000,
  }, async () => {
    const lines: string[] = [];
    const report = await runChaos({
      seed,
      ops: 300,
      clients: 6,
      faultRate: 0.05,
      postgresKills: 1,
      treeKills: 1,
      functionTimeoutMs: 1500,
      customerShare: 0.15,
      log: (line) => lines.push(line),
    });
    const context = `seed ${seed}\n${lines.join('\n')}\n${JSON.stringify(report, null, 2)}`;
    console.log(
      `chaos seed ${seed}: ${report.ops} ops, faults ${JSON.stringify(report.faults)}, ` +
        `violations ${report.check.violations.length + report.sealing.problems.length}`,
    );
    expect(report.ops, context).toBe(300);
    for (const kind of proxyFaultKinds) expect(report.faults[kind], `${kind}\n${context}`).toBeGreaterThan(0);
    expect(report.faults['postgres SIGKILL + restart'], context).toBe(1);
    expect(report.faults['npm start tree SIGKILL + restart'], context).toBe(1);
    // A stall past the deadline times the function out: middy answers just before the gateway's
    // 503, or the gateway first, whichever wins the race; at least one of them happened.
    expect(
      (report.faults['function timeout (503 seen by clients)'] ?? 0) +
        (report.faults['function timeout (the handler answered first)'] ?? 0),
      context,
    ).toBeGreaterThan(0);
    // Most movements get through; a run where nothing moved would prove nothing.
    expect(report.outcomes.acked ?? 0, context).toBeGreaterThan(150);
    expect(report.check.violations, context).toEqual([]);
    expect(report.sealing.problems, context).toEqual([]);
  });
});
