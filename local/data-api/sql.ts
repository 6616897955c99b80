/**
 * Named-parameter SQL (`:name`) as the RDS Data API accepts it, turned into PostgreSQL's positional `$n`.
 *
 * The scan is a small lexer rather than a regex so that `:x` is left alone wherever PostgreSQL would not
 * read it as a token: string constants ('…', E'…' with backslash escapes), quoted identifiers, dollar-quoted
 * bodies, `--` and nested `/* *\/` comments, and the `::type` cast operator.
 */

export interface Placeholder {
  readonly name: string;
  /** Index of the `:` in the original SQL. */
  readonly offset: number;
  /**
   * A name made only of digits. ORMs (drizzle) name parameters `:1`, `:2`, but the same text is also an
   * array slice bound (`arr[1:2]`), so such a placeholder is bound only when a parameter of that name is
   * given and is otherwise left as written.
   */
  readonly numeric: boolean;
}

export interface SqlTemplate {
  /** Text around the placeholders: `chunks.length === placeholders.length + 1`. */
  readonly chunks: readonly string[];
  readonly placeholders: readonly Placeholder[];
  /** A second statement follows a top-level `;`, which the Data API refuses. */
  readonly multiStatement: boolean;
  /** Nothing but whitespace, comments and semicolons. */
  readonly empty: boolean;
}

enum Ch {
  Tab = 9,
  LineFeed = 10,
  CarriageReturn = 13,
  Space = 32,
  DoubleQuote = 34,
  Dollar = 36,
  Quote = 39,
  Asterisk = 42,
  Minus = 45,
  Slash = 47,
  Digit0 = 48,
  Digit9 = 57,
  Colon = 58,
  Semicolon = 59,
  UpperA = 65,
  UpperE = 69,
  UpperZ = 90,
  Backslash = 92,
  Underscore = 95,
  LowerA = 97,
  LowerE = 101,
  LowerZ = 122,
}

function isNameChar(code: number): boolean {
  return (
    (code >= Ch.LowerA && code <= Ch.LowerZ) ||
    (code >= Ch.UpperA && code <= Ch.UpperZ) ||
    (code >= Ch.Digit0 && code <= Ch.Digit9) ||
    code === Ch.Underscore
  );
}

/** Characters PostgreSQL allows inside an unquoted identifier (letters, digits, `_`, `$`, non-ASCII). */
function isIdentChar(code: number): boolean {
  return isNameChar(code) || code === Ch.Dollar || code > 127;
}

function isIdentStart(code: number): boolean {
  return (
    (code >= Ch.LowerA && code <= Ch.LowerZ) ||
    (code >= Ch.UpperA && code <= Ch.UpperZ) ||
    code === Ch.Underscore ||
    code > 127
  );
}

function isSpace(code: number): boolean {
  return (
    code === Ch.Space || code === Ch.Tab || code === Ch.LineFeed || code === Ch.CarriageReturn || code === 12
  );
}

/** End (exclusive) of a quoted run that started at `start` (the opening quote). */
function skipQuoted(sql: string, start: number, quote: number, backslashEscapes: boolean): number {
  let i = start + 1;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (backslashEscapes && c === Ch.Backslash) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return n;
}

function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === Ch.Slash && sql.charCodeAt(i + 1) === Ch.Asterisk) {
      depth++;
      i += 2;
    } else if (c === Ch.Asterisk && sql.charCodeAt(i + 1) === Ch.Slash) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return n;
}

/** The `$tag$` opening a dollar-quoted body at `start`, or undefined when `$` starts something else. */
function dollarTag(sql: string, start: number): string | undefined {
  let i = start + 1;
  const first = sql.charCodeAt(i);
  if (first === Ch.Dollar) return '$$';
  if (!isIdentStart(first)) return undefined;
  i++;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (c === Ch.Dollar) return sql.slice(start, i + 1);
    if (!isNameChar(c) && c <= 127) return undefined;
    i++;
  }
  return undefined;
}

export function parseSqlTemplate(sql: string): SqlTemplate {
  const chunks: string[] = [];
  const placeholders: Placeholder[] = [];
  const n = sql.length;
  let chunkStart = 0;
  let sawTopLevelSemicolon = false;
  let multiStatement = false;
  let empty = true;
  let i = 0;

  // Any token other than whitespace, comments and `;` counts as statement content.
  const content = (): void => {
    empty = false;
    if (sawTopLevelSemicolon) multiStatement = true;
  };

  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === Ch.Minus && sql.charCodeAt(i + 1) === Ch.Minus) {
      const end = sql.indexOf('\n', i + 2);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === Ch.Slash && sql.charCodeAt(i + 1) === Ch.Asterisk) {
      i = skipBlockComment(sql, i);
      continue;
    }
    if (c === Ch.Semicolon) {
      sawTopLevelSemicolon = true;
      i++;
      continue;
    }
    content();
    if (c === Ch.Quote) {
      const prev = i > 0 ? sql.charCodeAt(i - 1) : 0;
      const prevPrev = i > 1 ? sql.charCodeAt(i - 2) : 0;
      const escapeString = (prev === Ch.UpperE || prev === Ch.LowerE) && !isIdentChar(prevPrev);
      i = skipQuoted(sql, i, Ch.Quote, escapeString);
      continue;
    }
    if (c === Ch.DoubleQuote) {
      i = skipQuoted(sql, i, Ch.DoubleQuote, false);
      continue;
    }
    if (c === Ch.Dollar) {
      const prev = i > 0 ? sql.charCodeAt(i - 1) : 0;
      const tag = isIdentChar(prev) ? undefined : dollarTag(sql, i);
      if (tag === undefined) {
        i++;
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      i = close === -1 ? n : close + tag.length;
      continue;
    }
    if (c === Ch.Colon) {
      const next = sql.charCodeAt(i + 1);
      if (next === Ch.Colon) {
        // A cast; a third colon would be a syntax error PostgreSQL reports itself.
        i += 2;
        continue;
      }
      if (isNameChar(next)) {
        let end = i + 2;
        let numeric = next >= Ch.Digit0 && next <= Ch.Digit9;
        while (end < n) {
          const d = sql.charCodeAt(end);
          if (!isNameChar(d)) break;
          if (d < Ch.Digit0 || d > Ch.Digit9) numeric = false;
          end++;
        }
        chunks.push(sql.slice(chunkStart, i));
        placeholders.push({ name: sql.slice(i + 1, end), offset: i, numeric });
        chunkStart = end;
        i = end;
        continue;
      }
    }
    i++;
  }
  chunks.push(sql.slice(chunkStart));
  return { chunks, placeholders, multiStatement, empty };
}

/** Bounded memo of parsed templates: the same statements repeat on every request. */
export class SqlTemplateCache {
  private readonly entries = new Map<string, SqlTemplate>();

  constructor(private readonly capacity = 1024) {}

  get(sql: string): SqlTemplate {
    const hit = this.entries.get(sql);
    if (hit !== undefined) return hit;
    const parsed = parseSqlTemplate(sql);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(sql, parsed);
    return parsed;
  }
}
