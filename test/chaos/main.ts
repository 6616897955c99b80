import { parseArgs } from 'node:util';
import type { ChaosReport } from './run';

// Set before the modules that read them load: the SDK's Node 22 notice and the logger's level.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { runChaos } = await import('./run');

/**
 * `npm run chaos [-- --seed N --ops N --clients N --fault-rate P --pg-kills N --tree-kills N]`:
 * one long chaos run; prints the seed first so any run can be replayed. Exits 1 on a violation.
 */
const usage = `usage: npm run chaos -- [options]
  --seed N                 replay a run (default: random, printed first)
  --ops N                  operations (default 10000)
  --clients N              concurrent clients (default 8)
  --fault-rate P           probability of a fault on each Data API call, 0..0.5 (default 0.04)
  --pg-kills N             PostgreSQL SIGKILLs during the run (default 3)
  --tree-kills N           npm start tree SIGKILLs during the run (default 3)
  --function-timeout-ms N  the gateway's function timeout (default 2000)
  --keep                   keep the data directory (it is kept anyway on a violation)
Exits 0 with no violation, 1 with any, 2 on bad options.`;

let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions();
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(usage);
  process.exit(0);
}
const { values } = parsed;

function parseOptions() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      seed: { type: 'string' },
      ops: { type: 'string', default: '10000' },
      clients: { type: 'string', default: '8' },
      'fault-rate': { type: 'string', default: '0.04' },
      'pg-kills': { type: 'string', default: '3' },
      'tree-kills': { type: 'string', default: '3' },
      'function-timeout-ms': { type: 'string', default: '2000' },
      keep: { type: 'boolean', default: false },
    },
  });
}

function int(name: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`error: --${name} must be an integer ${min}..${max}`);
    process.exit(2);
  }
  return n;
}

const seed =
  values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int('seed', values.seed, 0, 2 ** 32 - 1);
const faultRate = Number(values['fault-rate']);
if (!(faultRate >= 0 && faultRate <= 0.5)) {
  console.error('error: --fault-rate must be within 0..0.5');
  process.exit(2);
}
const options = {
  seed,
  ops: int('ops', values.ops, 1, 1_000_000),
  clients: int('clients', values.clients, 1, 64),
  faultRate,
  postgresKills: int('pg-kills', values['pg-kills'], 0, 100),
  treeKills: int('tree-kills', values['tree-kills'], 0, 100),
  functionTimeoutMs: int('function-timeout-ms', values['function-timeout-ms'], 500, 60_000),
  customerShare: 0.15,
  keep: values.keep ?? false,
  log: (line: string) => console.log(line),
};
console.log(`chaos: seed ${seed} (replay: npm run chaos -- --seed ${seed} --ops ${options.ops})`);
console.log(
  `  ${options.ops} operations, ${options.clients} clients, Data API fault rate ${faultRate}, ` +
    `${options.postgresKills} PostgreSQL kills, ${options.treeKills} npm start kills, function timeout ${options.functionTimeoutMs} ms`,
);
const report = await runChaos(options);
printReport(report);
process.exit(report.check.violations.length + report.sealing.problems.length === 0 ? 0 : 1);

function printReport(r: ChaosReport): void {
  const table = (title: string, rows: Record<string, number | string>): void => {
    console.log(title);
    for (const [k, v] of Object.entries(rows)) console.log(`  ${k.padEnd(42)} ${v}`);
  };
  table('operations', { total: r.ops, ...r.outcomes });
  table('faults injected', r.faults);
  table('what the clients saw (per attempt)', r.observed);
  table('checker figures', r.check.figures);
  console.log(`audit seals: ${r.sealing.batches} batches, ${r.sealing.events} events verified`);
  for (const note of r.check.notes) console.log(`note: ${note}`);
  const violations = [...r.check.violations, ...r.sealing.problems];
  console.log(`violations: ${violations.length}`);
  for (const v of violations) console.log(`  - ${v}`);
  if (r.dataDir) console.log(`data directory kept: ${r.dataDir}`);
  console.log(`seed ${r.seed}, ${r.seconds} s`);
}
