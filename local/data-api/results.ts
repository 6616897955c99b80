import type { FieldDef } from 'pg';
import { DataApiError } from './errors';
import type { JsonValue, WireArray, WireColumnMetadata, WireField } from './wire';

/**
 * PostgreSQL values (as text: the server's pools parse nothing) → Data API fields, mapped by type OID the way
 * Aurora PostgreSQL's Data API maps them: integers → longValue, float4/float8 → doubleValue, bool →
 * booleanValue, bytea → blobValue, one-dimensional arrays → arrayValue, NULL → isNull, and everything else —
 * numeric included, so money stays exact — → stringValue. timestamptz comes back in UTC without an offset.
 */

type ScalarKind = 'bool' | 'int' | 'int8' | 'float' | 'numeric' | 'bytea' | 'timestamptz' | 'text';

interface ScalarType {
  readonly name: string;
  /** java.sql.Types code, as PgJDBC reports it (the Data API sits on JDBC). */
  readonly jdbc: number;
  readonly kind: ScalarKind;
  readonly precision: number;
  readonly signed: boolean;
  readonly caseSensitive: boolean;
}

const JDBC = {
  BIT: -7,
  BIGINT: -5,
  BINARY: -2,
  CHAR: 1,
  NUMERIC: 2,
  INTEGER: 4,
  SMALLINT: 5,
  REAL: 7,
  DOUBLE: 8,
  VARCHAR: 12,
  DATE: 91,
  TIME: 92,
  TIMESTAMP: 93,
  OTHER: 1111,
  ARRAY: 2003,
  SQLXML: 2009,
} as const;

const MAX_LENGTH = 2_147_483_647;

const scalar = (
  name: string,
  jdbc: number,
  kind: ScalarKind,
  precision: number,
  flags: { signed?: boolean; caseSensitive?: boolean } = {},
): ScalarType => ({
  name,
  jdbc,
  kind,
  precision,
  signed: flags.signed === true,
  caseSensitive: flags.caseSensitive === true,
});

const SCALARS = new Map<number, ScalarType>([
  [16, scalar('bool', JDBC.BIT, 'bool', 1)],
  [17, scalar('bytea', JDBC.BINARY, 'bytea', MAX_LENGTH)],
  [18, scalar('char', JDBC.CHAR, 'text', 1, { caseSensitive: true })],
  [19, scalar('name', JDBC.VARCHAR, 'text', 63, { caseSensitive: true })],
  [20, scalar('int8', JDBC.BIGINT, 'int8', 19, { signed: true })],
  [21, scalar('int2', JDBC.SMALLINT, 'int', 5, { signed: true })],
  [23, scalar('int4', JDBC.INTEGER, 'int', 10, { signed: true })],
  [25, scalar('text', JDBC.VARCHAR, 'text', MAX_LENGTH, { caseSensitive: true })],
  [26, scalar('oid', JDBC.BIGINT, 'int', 10)],
  [114, scalar('json', JDBC.OTHER, 'text', MAX_LENGTH, { caseSensitive: true })],
  [142, scalar('xml', JDBC.SQLXML, 'text', MAX_LENGTH, { caseSensitive: true })],
  [650, scalar('cidr', JDBC.OTHER, 'text', MAX_LENGTH)],
  [700, scalar('float4', JDBC.REAL, 'float', 8, { signed: true })],
  [701, scalar('float8', JDBC.DOUBLE, 'float', 17, { signed: true })],
  [829, scalar('macaddr', JDBC.OTHER, 'text', MAX_LENGTH)],
  [869, scalar('inet', JDBC.OTHER, 'text', MAX_LENGTH)],
  [1042, scalar('bpchar', JDBC.CHAR, 'text', MAX_LENGTH, { caseSensitive: true })],
  [1043, scalar('varchar', JDBC.VARCHAR, 'text', MAX_LENGTH, { caseSensitive: true })],
  [1082, scalar('date', JDBC.DATE, 'text', 13)],
  [1083, scalar('time', JDBC.TIME, 'text', 15)],
  [1114, scalar('timestamp', JDBC.TIMESTAMP, 'text', 29)],
  [1184, scalar('timestamptz', JDBC.TIMESTAMP, 'timestamptz', 35)],
  [1186, scalar('interval', JDBC.OTHER, 'text', 49)],
  [1266, scalar('timetz', JDBC.TIME, 'text', 21)],
  [1560, scalar('bit', JDBC.BIT, 'text', 1)],
  [1562, scalar('varbit', JDBC.OTHER, 'text', MAX_LENGTH)],
  [1700, scalar('numeric', JDBC.NUMERIC, 'numeric', 0, { signed: true })],
  [2950, scalar('uuid', JDBC.OTHER, 'text', MAX_LENGTH)],
  [3802, scalar('jsonb', JDBC.OTHER, 'text', MAX_LENGTH, { caseSensitive: true })],
]);

/** array type OID → element type OID, for the built-in element types above. */
const ARRAYS = new Map<number, number>([
  [1000, 16],
  [1001, 17],
  [1002, 18],
  [1003, 19],
  [1016, 20],
  [1005, 21],
  [1007, 23],
  [1009, 25],
  [1028, 26],
  [199, 114],
  [143, 142],
  [651, 650],
  [1021, 700],
  [1022, 701],
  [1040, 829],
  [1041, 869],
  [1014, 1042],
  [1015, 1043],
  [1182, 1082],
  [1183, 1083],
  [1115, 1114],
  [1185, 1184],
  [1187, 1186],
  [1270, 1266],
  [1561, 1560],
  [1563, 1562],
  [1231, 1700],
  [2951, 2950],
  [3807, 3802],
]);

/** Types Aurora Serverless v2's Data API refuses with UnsupportedResultException (monetary, geometric). */
const UNSUPPORTED = new Map<number, string>([
  [790, 'money'],
  [791, '_money'],
  [600, 'point'],
  [1017, '_point'],
  [601, 'lseg'],
  [1018, '_lseg'],
  [602, 'path'],
  [1019, '_path'],
  [603, 'box'],
  [1020, '_box'],
  [604, 'polygon'],
  [1027, '_polygon'],
  [628, 'line'],
  [629, '_line'],
  [718, 'circle'],
  [719, '_circle'],
]);

/** pg_type facts for an OID that is not built in (enums, extension types, arrays of those). */
export interface CatalogType {
  readonly name: string;
  readonly elementOid: number;
  /** pg_type.typcategory: 'A' array, 'E' enum, … */
  readonly category: string;
}

/** pg_attribute facts for a result column that comes straight from a table. */
export interface CatalogColumn {
  readonly tableName: string;
  readonly notNull: boolean;
  readonly autoIncrement: boolean;
}

export function isBuiltinType(oid: number): boolean {
  return SCALARS.has(oid) || ARRAYS.has(oid) || UNSUPPORTED.has(oid);
}

export interface ResultOptions {
  /** resultSetOptions.decimalReturnType = DOUBLE_OR_LONG */
  readonly decimalAsNumber: boolean;
  /** resultSetOptions.longReturnType = STRING */
  readonly longAsString: boolean;
}

interface ColumnCodec {
  readonly kind: ScalarKind;
  readonly array: boolean;
  readonly typeName: string;
}

const unsupported = (typeName: string): DataApiError =>
  new DataApiError(
    'UnsupportedResultException',
    400,
    `The result contains the unsupported data type ${typeName}`,
  );

function codecFor(field: FieldDef, catalog: ReadonlyMap<number, CatalogType>): ColumnCodec {
  const oid = field.dataTypeID;
  const known = SCALARS.get(oid);
  if (known !== undefined) return { kind: known.kind, array: false, typeName: known.name };
  const element = ARRAYS.get(oid);
  if (element !== undefined) {
    const elementType = SCALARS.get(element);
    const elementName = elementType?.name ?? 'text';
    return { kind: elementType?.kind ?? 'text', array: true, typeName: `_${elementName}` };
  }
  const refused = UNSUPPORTED.get(oid);
  if (refused !== undefined) throw unsupported(refused);
  const info = catalog.get(oid);
  if (info?.category === 'A') {
    const elementInfo = SCALARS.get(info.elementOid);
    return { kind: elementInfo?.kind ?? 'text', array: true, typeName: info.name };
  }
  return { kind: 'text', array: false, typeName: info?.name ?? 'unknown' };
}

/** Parses PostgreSQL's one-dimensional array text output; deeper arrays are refused as Aurora v2 does. */
export function parseArrayText(text: string, typeName: string): (string | null)[] {
  let start = 0;
  if (text.charCodeAt(0) === 91 /* [ */) {
    // Non-default bounds come first: "[0:2]={…}"; two bound pairs mean two dimensions.
    const eq = text.indexOf('=');
    if (text.slice(0, eq).includes('][')) throw unsupported(typeName);
    start = eq + 1;
  }
  if (text.charCodeAt(start) !== 123 /* { */) throw unsupported(typeName);
  const out: (string | null)[] = [];
  let i = start + 1;
  if (text.charCodeAt(i) === 125 /* } */) return out;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */) throw unsupported(typeName);
    if (c === 34 /* " */) {
      let value = '';
      let j = i + 1;
      let runStart = j;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92 /* \ */) {
          value += text.slice(runStart, j);
          value += text.charAt(j + 1);
          j += 2;
          runStart = j;
        } else if (d === 34) {
          break;
        } else {
          j++;
        }
      }
      value += text.slice(runStart, j);
      out.push(value);
      i = j + 1;
    } else {
      let j = i;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 44 /* , */ || d === 125 /* } */) break;
        j++;
      }
      const token = text.slice(i, j);
      out.push(token === 'NULL' ? null : token);
      i = j;
    }
    const sep = text.charCodeAt(i);
    i++;
    if (sep !== 44) break;
  }
  return out;
}

const TIMESTAMPTZ =
  /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/;

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/**
 * timestamptz text → 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC. Sessions run with TimeZone=UTC (as Aurora's
 * default parameter group does), so the offset is normally "+00" and only needs dropping; a session that
 * changed its time zone gets the arithmetic. BC dates and infinities are returned as PostgreSQL wrote them.
 */
export function timestamptzToUtc(text: string): string {
  if (text.endsWith('+00')) return text.slice(0, -3);
  const m = TIMESTAMPTZ.exec(text);
  if (m === null) return text;
  const [, y, mo, d, h, mi, s, fraction = '', sign, oh = '0', om = '0', os = '0'] = m;
  const offsetMs = (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * 1000 * (sign === '-' ? -1 : 1);
  const utc = new Date(
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMs,
  );
  const year = utc.getUTCFullYear();
  if (year < 1 || year > 9999) return text;
  return (
    `${pad(year, 4)}-${pad(utc.getUTCMonth() + 1, 2)}-${pad(utc.getUTCDate(), 2)} ` +
    `${pad(utc.getUTCHours(), 2)}:${pad(utc.getUTCMinutes(), 2)}:${pad(utc.getUTCSeconds(), 2)}${fraction}`
  );
}

/** float text → number, or the Smithy spelling of a non-finite double. */
function doubleOf(text: string): number | string {
  const value = Number(text);
  if (Number.isFinite(value)) return value;
  if (text === 'NaN') return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

function byteaToBase64(text: string): string {
  // bytea_output is pinned to hex for every session: "\x0a0b…".
  return Buffer.from(text.slice(2), 'hex').toString('base64');
}

function scalarField(raw: string, kind: ScalarKind, options: ResultOptions): WireField {
  switch (kind) {
    case 'bool':
      return { booleanValue: raw === 't' };
    case 'int':
      return { longValue: Number(raw) };
    case 'int8':
      return options.longAsString ? { stringValue: raw } : { longValue: Number(raw) };
    case 'float':
      return { doubleValue: doubleOf(raw) };
    case 'numeric':
      if (!options.decimalAsNumber) return { stringValue: raw };
      return raw.includes('.') || !/^-?\d+$/.test(raw)
        ? { doubleValue: doubleOf(raw) }
        : { longValue: Number(raw) };
    case 'bytea':
      return { blobValue: byteaToBase64(raw) };
    case 'timestamptz':
      return { stringValue: timestamptzToUtc(raw) };
    case 'text':
      return { stringValue: raw };
  }
}

function arrayField(elements: (string | null)[], kind: ScalarKind, options: ResultOptions): WireArray {
  switch (kind) {
    case 'bool':
      return { booleanValues: elements.map((e) => (e === null ? null : e === 't')) };
    case 'int':
      return { longValues: elements.map((e) => (e === null ? null : Number(e))) };
    case 'int8':
      return options.longAsString
        ? { stringValues: elements }
        : { longValues: elements.map((e) => (e === null ? null : Number(e))) };
    case 'float':
      return { doubleValues: elements.map((e) => (e === null ? null : doubleOf(e))) };
    case 'numeric':
      return options.decimalAsNumber
        ? { doubleValues: elements.map((e) => (e === null ? null : doubleOf(e))) }
        : { stringValues: elements };
    case 'timestamptz':
      return { stringValues: elements.map((e) => (e === null ? null : timestamptzToUtc(e))) };
    case 'bytea':
    case 'text':
      return { stringValues: elements };
  }
}

function scalarJson(raw: string, kind: ScalarKind, options: ResultOptions): JsonValue {
  switch (kind) {
    case 'bool':
      return raw === 't';
    case 'int':
      return Number(raw);
    case 'int8':
      return options.longAsString ? raw : Number(raw);
    case 'float':
      return doubleOf(raw);
    case 'numeric':
      return options.decimalAsNumber ? doubleOf(raw) : raw;
    case 'bytea':
      return byteaToBase64(raw);
    case 'timestamptz':
      return timestamptzToUtc(raw);
    case 'text':
      return raw;
  }
}

export type Row = readonly (string | null)[];

export function toRecords(
  fields: readonly FieldDef[],
  rows: readonly Row[],
  catalog: ReadonlyMap<number, CatalogType>,
  options: ResultOptions,
): WireField[][] {
  const codecs = fields.map((f) => codecFor(f, catalog));
  const width = codecs.length;
  const records: WireField[][] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] ?? [];
    const record: WireField[] = new Array(width);
    for (let c = 0; c < width; c++) {
      const raw = row[c] ?? null;
      const codec = codecs[c];
      if (raw === null || codec === undefined) {
        record[c] = { isNull: true };
      } else if (codec.array) {
        record[c] = { arrayValue: arrayField(parseArrayText(raw, codec.typeName), codec.kind, options) };
      } else {
        record[c] = scalarField(raw, codec.kind, options);
      }
    }
    records[r] = record;
  }
  return records;
}

/**
 * formatRecordsAs JSON: one object per row keyed by column label; ints and floats as numbers, numeric and
 * everything else as strings, booleans and NULL as JSON literals, arrays as JSON arrays. Duplicate labels
 * keep the last column's value.
 */
export function toJsonRecords(
  fields: readonly FieldDef[],
  rows: readonly Row[],
  catalog: ReadonlyMap<number, CatalogType>,
  options: ResultOptions,
): string {
  const codecs = fields.map((f) => codecFor(f, catalog));
  const objects: Record<string, JsonValue>[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] ?? [];
    // No prototype, so a column labelled "__proto__" is just a key.
    const object: Record<string, JsonValue> = Object.create(null);
    for (let c = 0; c < codecs.length; c++) {
      const codec = codecs[c];
      const field = fields[c];
      if (codec === undefined || field === undefined) continue;
      const raw = row[c] ?? null;
      if (raw === null) {
        object[field.name] = null;
      } else if (codec.array) {
        object[field.name] = parseArrayText(raw, codec.typeName).map((e) =>
          e === null ? null : scalarJson(e, codec.kind, options),
        );
      } else {
        object[field.name] = scalarJson(raw, codec.kind, options);
      }
    }
    objects[r] = object;
  }
  return JSON.stringify(objects);
}

function precisionAndScale(
  oid: number,
  typmod: number,
  fallback: number,
): { precision: number; scale: number } {
  switch (oid) {
    case 1700:
      return typmod >= 4
        ? { precision: ((typmod - 4) >> 16) & 0xffff, scale: (typmod - 4) & 0xffff }
        : { precision: 0, scale: 0 };
    case 1042:
    case 1043:
      return { precision: typmod >= 4 ? typmod - 4 : MAX_LENGTH, scale: 0 };
    case 700:
      return { precision: 8, scale: 8 };
    case 701:
      return { precision: 17, scale: 17 };
    case 1083:
    case 1114:
    case 1184:
    case 1266:
      return { precision: fallback, scale: typmod >= 0 ? typmod : 6 };
    default:
      return { precision: fallback, scale: 0 };
  }
}

/** columnMetadata, best effort, with the values PgJDBC's ResultSetMetaData reports. */
export function toColumnMetadata(
  fields: readonly FieldDef[],
  types: ReadonlyMap<number, CatalogType>,
  columns: ReadonlyMap<string, CatalogColumn>,
): WireColumnMetadata[] {
  return fields.map((field) => {
    const oid = field.dataTypeID;
    const elementOid =
      ARRAYS.get(oid) ?? (types.get(oid)?.category === 'A' ? types.get(oid)?.elementOid : undefined);
    const isArray = elementOid !== undefined;
    const known = SCALARS.get(oid);
    const element = elementOid === undefined ? undefined : SCALARS.get(elementOid);
    const typeName =
      known?.name ??
      (isArray && element !== undefined ? `_${element.name}` : undefined) ??
      UNSUPPORTED.get(oid) ??
      types.get(oid)?.name ??
      'unknown';
    const column = field.tableID === 0 ? undefined : columns.get(columnKey(field.tableID, field.columnID));
    const { precision, scale } = isArray
      ? { precision: MAX_LENGTH, scale: 0 }
      : precisionAndScale(oid, field.dataTypeModifier, known?.precision ?? MAX_LENGTH);
    return {
      name: field.name,
      type: isArray ? JDBC.ARRAY : (known?.jdbc ?? JDBC.OTHER),
      typeName,
      label: field.name,
      schemaName: '',
      tableName: column?.tableName ?? '',
      isAutoIncrement: column?.autoIncrement ?? false,
      isSigned: known?.signed ?? false,
      isCurrency: false,
      isCaseSensitive: known?.caseSensitive ?? (!isArray && types.get(oid)?.category !== 'N'),
      // java.sql.ResultSetMetaData: 0 columnNoNulls, 1 columnNullable, 2 columnNullableUnknown.
      nullable: column === undefined ? 2 : column.notNull ? 0 : 1,
      precision,
      scale,
      arrayBaseColumnType: isArray ? (element?.jdbc ?? JDBC.OTHER) : 0,
    };
  });
}

export const columnKey = (tableId: number, columnId: number): string => `${tableId}:${columnId}`;
