import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * CPU profile of the bank's own process (gateway, handlers, middy, SDK client, Data API server)
 * while a scenario runs, through the inspector (the same sampler as `node --cpu-prof`), summed
 * into "where the time goes": by component and by function.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface ProfileShare {
  readonly name: string;
  readonly ms: number;
  /** Share of the process's busy (non-idle) time. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly wallMs: number;
  readonly busyMs: number;
  /** Busy time attributed to the nearest project or package frame on the stack (so node:http work done for the SDK counts as SDK). */
  readonly byComponent: readonly ProfileShare[];
  /** Self time of the hottest functions. */
  readonly topFunctions: readonly ProfileShare[];
  readonly file?: string;
}

/** Component of one frame, or undefined for runtime internals (node:*, native, GC). */
function componentOf(url: string, functionName: string): string | undefined {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return undefined;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg !== undefined) {
    if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/'))
      return 'AWS SDK client (handlers -> Data API)';
    if (pkg.startsWith('@middy/')) return 'middy';
    if (pkg === 'pg' || pkg.startsWith('pg-')) return 'pg driver (Data API server -> PostgreSQL)';
    if (pkg.startsWith('@aws-lambda-powertools/')) return 'powertools logger';
    if (pkg === 'tsx' || pkg === 'esbuild' || pkg === 'get-tsconfig') return 'tsx loader';
    return pkg;
  }
  if (url.includes('/local/data-api/')) return 'local Data API server';
  if (url.includes('/local/gateway')) return 'local gateway';
  if (url.includes('/shared/middleware/')) return 'shared/middleware (bank stack)';
  if (url.includes('/shared/') || url.includes('/functions/')) return 'handlers + shared';
  if (url.includes('/bench/')) return 'bench orchestrator';
  if (url.includes('/local/')) return 'local (other)';
  return undefined;
}

export function summarize(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const selfMs = new Map<number, number>();
  for (let i = 0; i < samples.length; i += 1) {
    const id = samples[i];
    // Each delta is the time before sample i; the sample's own duration is the next delta.
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    if (id !== undefined) selfMs.set(id, (selfMs.get(id) ?? 0) + ms);
  }
  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const own = componentOf(node.callFrame.url, node.callFrame.functionName);
    if (own === 'idle') continue;
    busy += ms;
    let component = own;
    for (let up = parent.get(id); component === undefined && up !== undefined; up = parent.get(up)) {
      const frame = byId.get(up)?.callFrame;
      if (frame) component = componentOf(frame.url, frame.functionName);
    }
    const label = component ?? 'node runtime (event loop, net, http parser)';
    components.set(label, (components.get(label) ?? 0) + ms);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url.replace(/^.*\/(node_modules\/|local\/|shared\/|functions\/)/, '$1')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + ms);
  }
  const share = (entries: Map<string, number>, limit: number): ProfileShare[] =>
    [...entries.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((1000 * ms) / busy) / 10 }));
  return {
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busy),
    byComponent: share(components, 30),
    topFunctions: share(functions, top),
  };
}

export interface Profiler {
  stop(file?: string): Promise<ProfileSummary>;
}

/** Starts the sampling profiler on this process; `intervalUs` between samples. */
export async function startProfiler(intervalUs = 1000): Promise<Profiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      await session.post('Profiler.disable');
      session.disconnect();
      if (file) await writeFile(file, JSON.stringify(profile));
      return { ...summarize(profile), ...(file ? { file } : {}) };
    },
  };
}
