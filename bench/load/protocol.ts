/**
 * Messages between the orchestrator (bench/run.ts, which also hosts the bank) and the load
 * worker (bench/load/worker.ts, a separate Node process so that generating load does not run on
 * the bank's event loop).
 */

export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface DataApiTarget {
  readonly endpoint: string;
  /** What the client signs its calls for and with: the server refuses unsigned ones. */
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

export interface Timing {
  readonly clients: number;
  /** Run but not measured: connections open, plans and JIT warm. */
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** Teller transfers between random pairs, or with one hot account on one side of each. */
export interface TellerWorkload {
  readonly mode: 'random' | 'hot';
  readonly token: string;
  readonly accounts: readonly string[];
  /** mode 'hot': the account on one side of every transfer (direction alternates at random). */
  readonly hot?: string;
}

/** Customer transfers with the PIN: client i acts as customer i, from that customer's own accounts. */
export interface CustomerWorkload {
  readonly mode: 'customer';
  readonly pin: string;
  readonly accounts: readonly string[];
  readonly perClient: readonly { readonly token: string; readonly sources: readonly string[] }[];
}

export type Job =
  | ({
      readonly kind: 'http-transfers';
      readonly url: string;
      readonly workload: TellerWorkload | CustomerWorkload;
    } & Timing)
  | ({
      readonly kind: 'raw-sql';
      readonly pg: PgTarget;
      readonly variant: 'statements' | 'one-round-trip';
      readonly accountIds: readonly number[];
      readonly actorId: string;
    } & Timing)
  | ({
      readonly kind: 'seed-pattern';
      readonly dataApi: DataApiTarget;
      readonly accountIds: readonly number[];
      readonly actorId: string;
    } & Timing);

export interface Measurement {
  readonly clients: number;
  /** Successful operations completed inside the measured window. */
  readonly ok: number;
  /** Failed operations inside the window, by kind (HTTP status and problem code, SQLSTATE, ...). */
  readonly errors: Readonly<Record<string, number>>;
  readonly measuredMs: number;
  /** ok / measured seconds. */
  readonly perSecond: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly mean: number;
    readonly max: number;
  };
  /** CPU the load worker itself spent in the measured window. */
  readonly workerCpuMs: number;
  /** Every successful operation's latency (ms), for merging runs; dropped from the report. */
  readonly latencies: readonly number[];
}

export interface JobRequest {
  readonly id: number;
  readonly job: Job;
}

export type JobReply =
  | { readonly id: number; readonly ok: true; readonly result: Measurement }
  | { readonly id: number; readonly ok: false; readonly error: string };
