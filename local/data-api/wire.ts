/** JSON shapes of the RDS Data API (restJson1), as the SDK's schema for `rds-data` 2018-08-01 declares them. */

export type WireArray =
  | { readonly booleanValues: (boolean | null)[] }
  | { readonly longValues: (number | null)[] }
  /** Smithy JSON carries non-finite doubles as the strings "NaN", "Infinity", "-Infinity". */
  | { readonly doubleValues: (number | string | null)[] }
  | { readonly stringValues: (string | null)[] }
  | { readonly arrayValues: WireArray[] };

export type WireField =
  | { readonly isNull: true }
  | { readonly booleanValue: boolean }
  | { readonly longValue: number }
  | { readonly doubleValue: number | string }
  | { readonly stringValue: string }
  /** base64 */
  | { readonly blobValue: string }
  | { readonly arrayValue: WireArray };

export interface WireColumnMetadata {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly label: string;
  readonly schemaName: string;
  readonly tableName: string;
  readonly isAutoIncrement: boolean;
  readonly isSigned: boolean;
  readonly isCurrency: boolean;
  readonly isCaseSensitive: boolean;
  readonly nullable: number;
  readonly precision: number;
  readonly scale: number;
  readonly arrayBaseColumnType: number;
}

export type JsonValue = string | number | boolean | null | JsonValue[];

export const OPERATIONS = {
  '/Execute': 'ExecuteStatement',
  '/BatchExecute': 'BatchExecuteStatement',
  '/BeginTransaction': 'BeginTransaction',
  '/CommitTransaction': 'CommitTransaction',
  '/RollbackTransaction': 'RollbackTransaction',
} as const;

export type OperationName = (typeof OPERATIONS)[keyof typeof OPERATIONS];

/** The operations in a fixed order: index i of a call-counter array counts operationNames[i]. */
export const operationNames: readonly OperationName[] = Object.values(OPERATIONS);

/** Calls served per operation, for benchmarks that count round trips. */
export interface CallStats {
  readonly calls: Readonly<Record<string, number>>;
  reset(): void;
}

/**
 * A view of call counters kept in an Int32Array (one slot per operationNames entry), so a server
 * on another thread can count into shared memory and its owner read the counts synchronously.
 */
export function callStats(counters: Int32Array): CallStats {
  if (counters.length !== operationNames.length) throw new RangeError('one counter per operation');
  return {
    get calls() {
      return Object.fromEntries(operationNames.map((name, i) => [name, Atomics.load(counters, i)]));
    },
    reset() {
      for (let i = 0; i < counters.length; i += 1) Atomics.store(counters, i, 0);
    },
  };
}

export function countCall(counters: Int32Array, operation: OperationName): void {
  Atomics.add(counters, operationNames.indexOf(operation), 1);
}

/** The longest wait a server may add before each answer: latency emulation, not a hang. */
export const latencyMsMax = 1_000;

export function setLatencyMs(cell: Int32Array, ms: number): void {
  if (!Number.isInteger(ms) || ms < 0 || ms > latencyMsMax) {
    throw new RangeError(`latency must be an integer 0..${latencyMsMax} ms`);
  }
  Atomics.store(cell, 0, ms);
}
