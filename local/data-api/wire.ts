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
