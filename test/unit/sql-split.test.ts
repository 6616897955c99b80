import { describe, expect, it } from 'vitest';
import { SqlSplitError, splitSqlStatements } from '../../shared/db/sql-split';

describe('splitSqlStatements', () => {
  it('splits on semicolons and drops empty and comment-only chunks', () => {
    expect(splitSqlStatements('SELECT 1; SELECT 2;\n-- done\n;')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('keeps semicolons inside strings, identifiers, comments and dollar quotes', () => {
    const script = [
      "INSERT INTO t VALUES ('a;b', 'it''s; fine');",
      'SELECT "odd;name" FROM t;',
      '/* a; /* nested; */ still comment; */ SELECT 3;',
      '-- line; comment\nSELECT 4;',
      'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; END $$;',
      'CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT $$x;y$$ $body$;',
    ].join('\n');
    expect(splitSqlStatements(script)).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
      'SELECT "odd;name" FROM t',
      '/* a; /* nested; */ still comment; */ SELECT 3',
      '-- line; comment\nSELECT 4',
      'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; END $$',
      'CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT $$x;y$$ $body$',
    ]);
  });

  it('does not take a positional parameter for a dollar quote', () => {
    expect(splitSqlStatements('SELECT $1; SELECT $2')).toEqual(['SELECT $1', 'SELECT $2']);
  });

  it.each(["SELECT 'open", 'SELECT $$ open', 'SELECT /* open', 'SELECT "open'])('refuses %j', (script) => {
    expect(() => splitSqlStatements(script)).toThrow(SqlSplitError);
  });
});
