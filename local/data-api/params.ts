import { badRequest } from './errors';
import type { SqlTemplate } from './sql';

/**
 * SqlParameter → a PostgreSQL bind value plus the type the placeholder is cast to.
 *
 * The casts reproduce what Aurora's JDBC layer sends: a stringValue is typed text (so `uuid_col = :id`
 * fails with "operator does not exist: uuid = text" unless the call says typeHint UUID, exactly as in the
 * cloud), a longValue int8, a doubleValue float8, a booleanValue bool, a blobValue bytea; typeHint retypes
 * a string (or a NULL). A bare isNull stays untyped so PostgreSQL infers it from context.
 */
export interface BoundParameter {
  readonly cast: string | undefined;
  readonly value: string | Buffer | null;
}

export interface BoundStatement {
  readonly text: string;
  readonly values: (string | Buffer | null)[];
  /**
   * Maps a 1-based character position in `text` (PostgreSQL's error Position) back to the SQL as the caller
   * wrote it; inside a rewritten placeholder it points at the placeholder's `:`.
   */
  readonly originalPosition: (position: number) => number;
}

/** Start of each emitted piece in the rewritten text and in the original, and whether it is a placeholder. */
interface Piece {
  readonly rewritten: number;
  readonly original: number;
  readonly placeholder: boolean;
}

function positionMapper(pieces: readonly Piece[]): (position: number) => number {
  return (position) => {
    const index = position - 1;
    let piece: Piece | undefined;
    for (const candidate of pieces) {
      if (candidate.rewritten > index) break;
      piece = candidate;
    }
    if (piece === undefined) return position;
    return piece.placeholder ? piece.original + 1 : piece.original + (index - piece.rewritten) + 1;
  };
}

const TYPE_HINT_CASTS: Readonly<Record<string, string>> = {
  DECIMAL: 'numeric',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
  TIME: 'time',
  UUID: 'uuid',
  JSON: 'jsonb',
};

const FIELD_MEMBERS = [
  'isNull',
  'booleanValue',
  'longValue',
  'doubleValue',
  'stringValue',
  'blobValue',
  'arrayValue',
];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function bindValue(name: string, field: unknown, typeHint: unknown): BoundParameter {
  if (!isRecord(field)) throw badRequest(`Parameter ${name} has no value`);
  let member: string | undefined;
  for (const key of FIELD_MEMBERS) {
    const candidate = field[key];
    if (candidate === undefined || candidate === null || (key === 'isNull' && candidate === false)) continue;
    if (member !== undefined) throw badRequest(`Parameter ${name} has more than one value`);
    member = key;
  }
  let hintCast: string | undefined;
  if (typeHint !== undefined && typeHint !== null) {
    hintCast = typeof typeHint === 'string' ? TYPE_HINT_CASTS[typeHint] : undefined;
    if (hintCast === undefined)
      throw badRequest(`Invalid typeHint for parameter ${name}: ${String(typeHint)}`);
  }
  const value = member === undefined ? undefined : field[member];
  switch (member) {
    case 'isNull':
      if (value !== true) throw badRequest(`Parameter ${name} has no value`);
      return { cast: hintCast, value: null };
    case 'stringValue':
      if (typeof value !== 'string') throw badRequest(`Parameter ${name}: stringValue must be a string`);
      return { cast: hintCast ?? 'text', value };
    case 'longValue':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw badRequest(`Parameter ${name}: longValue must be an integer`);
      }
      return { cast: 'int8', value: BigInt(value).toString() };
    case 'doubleValue':
      return { cast: 'float8', value: doubleText(name, value) };
    case 'booleanValue':
      if (typeof value !== 'boolean') throw badRequest(`Parameter ${name}: booleanValue must be a boolean`);
      return { cast: 'bool', value: value ? 'true' : 'false' };
    case 'blobValue':
      if (typeof value !== 'string') throw badRequest(`Parameter ${name}: blobValue must be base64`);
      return { cast: 'bytea', value: Buffer.from(value, 'base64') };
    case 'arrayValue':
      throw badRequest(`Array parameters are not supported (parameter ${name})`);
    default:
      throw badRequest(`Parameter ${name} has no value`);
  }
}

function doubleText(name: string, value: unknown): string {
  if (typeof value === 'number') return String(value);
  // Smithy JSON spells non-finite doubles as strings.
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return value;
  throw badRequest(`Parameter ${name}: doubleValue must be a number`);
}

export function parseParameters(raw: unknown): Map<string, BoundParameter> {
  const bound = new Map<string, BoundParameter>();
  if (raw === undefined || raw === null) return bound;
  if (!Array.isArray(raw)) throw badRequest('parameters must be a list');
  for (const entry of raw) {
    if (!isRecord(entry)) throw badRequest('Each parameter must be an object');
    const name = entry.name;
    if (typeof name !== 'string' || name === '') throw badRequest('Each parameter needs a name');
    if (bound.has(name)) throw badRequest(`Parameter ${name} is given more than once`);
    bound.set(name, bindValue(name, entry.value, entry.typeHint));
  }
  return bound;
}

/** Replaces `:name` by `$n` (one `$n` per distinct name) and checks names both ways. */
export function bindStatement(
  template: SqlTemplate,
  parameters: ReadonlyMap<string, BoundParameter>,
): BoundStatement {
  const { chunks, placeholders } = template;
  const positions = new Map<string, number>();
  const values: (string | Buffer | null)[] = [];
  const pieces: Piece[] = [{ rewritten: 0, original: 0, placeholder: false }];
  let text = chunks[0] ?? '';
  for (let k = 0; k < placeholders.length; k++) {
    const placeholder = placeholders[k];
    const after = chunks[k + 1] ?? '';
    if (placeholder === undefined) continue;
    const parameter = parameters.get(placeholder.name);
    if (parameter === undefined) {
      if (placeholder.numeric) {
        pieces.push({ rewritten: text.length, original: placeholder.offset, placeholder: false });
        text += `:${placeholder.name}${after}`;
        continue;
      }
      throw badRequest(`No value specified for parameter: ${placeholder.name}`);
    }
    let position = positions.get(placeholder.name);
    if (position === undefined) {
      values.push(parameter.value);
      position = values.length;
      positions.set(placeholder.name, position);
    }
    pieces.push({ rewritten: text.length, original: placeholder.offset, placeholder: true });
    // Parenthesised so the cast cannot merge with what follows (`:a[1]`, `:a::int`).
    text += parameter.cast === undefined ? `$${position}` : `($${position}::${parameter.cast})`;
    pieces.push({
      rewritten: text.length,
      original: placeholder.offset + 1 + placeholder.name.length,
      placeholder: false,
    });
    text += after;
  }
  if (positions.size !== parameters.size) {
    for (const name of parameters.keys()) {
      if (!positions.has(name)) throw badRequest(`Parameter ${name} is not used in the SQL statement`);
    }
  }
  return { text, values, originalPosition: positionMapper(pieces) };
}
