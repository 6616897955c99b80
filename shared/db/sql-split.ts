/**
 * Splits a SQL script into single statements. The RDS Data API runs one statement per call, so
 * the migration runner must split files itself. Semicolons inside '...' strings, "..."
 * identifiers, $tag$...$tag$ bodies (PL/pgSQL), -- and /* *\/ comments do not end a statement.
 */
export function splitSqlStatements(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = script.length;
  while (i < n) {
    const ch = script[i];
    const next = script[i + 1];
    if (ch === "'" || ch === '"') {
      i = skipQuoted(script, i, ch);
    } else if (ch === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (ch === '/' && next === '*') {
      i = skipBlockComment(script, i);
    } else if (ch === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i, i + 64));
      if (tag && !isIdentifierChar(script[i - 1])) {
        const close = script.indexOf(tag[0], i + tag[0].length);
        if (close === -1) throw new SqlSplitError(`unterminated dollar-quoted string ${tag[0]}`);
        i = close + tag[0].length;
      } else {
        i += 1;
      }
    } else if (ch === ';') {
      pushStatement(statements, script.slice(start, i));
      i += 1;
      start = i;
    } else {
      i += 1;
    }
  }
  pushStatement(statements, script.slice(start));
  return statements;
}

export class SqlSplitError extends Error {
  override name = 'SqlSplitError';
}

function isIdentifierChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_]/.test(ch);
}

function skipQuoted(script: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < script.length) {
    if (script[i] === quote) {
      if (script[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  throw new SqlSplitError(`unterminated ${quote === "'" ? 'string' : 'identifier'} literal`);
}

function skipBlockComment(script: string, from: number): number {
  // PostgreSQL block comments nest.
  let depth = 0;
  let i = from;
  while (i < script.length) {
    if (script[i] === '/' && script[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (script[i] === '*' && script[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  throw new SqlSplitError('unterminated block comment');
}

function pushStatement(statements: string[], raw: string): void {
  const text = raw.trim();
  if (text.length === 0) return;
  // A chunk made only of comments is not a statement.
  const withoutComments = text.replace(/--[^\n]*/g, '').trim();
  if (withoutComments.length === 0) return;
  statements.push(text);
}
