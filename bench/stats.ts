import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Small numeric helpers shared by the orchestrator and the load worker. */

/** Nearest-rank percentile of an unsorted sample (q in 0..1); NaN for an empty sample. */
export function percentile(sample: readonly number[], q: number): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(sample: readonly number[]): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  if (sorted.length % 2 === 1) return hi;
  const lo = sorted[mid - 1] ?? Number.NaN;
  return (lo + hi) / 2;
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Machine-wide CPU time (all cores), from the kernel's per-core counters. */
export interface MachineCpu {
  readonly busyMs: number;
  readonly totalMs: number;
}

export function machineCpu(): MachineCpu {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busyMs: busy, totalMs: total };
}

/** Process CPU (user + system) in milliseconds. */
export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Kernel clock ticks per second for /proc times (USER_HZ, 100 on every mainstream Linux). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly ppid: number;
  /** utime + stime, and cutime + cstime (children already reaped), in ms. */
  readonly ownMs: number;
  readonly reapedMs: number;
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const num = (i: number) => Number(fields[i] ?? 0);
    const toMs = 1000 / TICKS_PER_SECOND;
    return { ppid: num(1), ownMs: (num(11) + num(12)) * toMs, reapedMs: (num(13) + num(14)) * toMs };
  } catch {
    return undefined;
  }
}

/**
 * CPU used so far by a PostgreSQL server: the postmaster, its live children (backends, WAL
 * writer, checkpointer...) and the children it has already reaped. Linux only; NaN elsewhere.
 */
export function postgresCpuMs(postmasterPid: number | undefined): number {
  if (postmasterPid === undefined) return Number.NaN;
  const root = readProcStat(postmasterPid);
  if (!root) return Number.NaN;
  let total = root.ownMs + root.reapedMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat?.ppid === postmasterPid) total += stat.ownMs;
  }
  return total;
}
