import type pg from 'pg';
import type { SqlExecutor, SqlParams } from '../shared/db/migrate';

/**
 * Runs the migration runner over a plain `pg` connection (local start and the test template).
 * The runner's own statements use `:name` parameters; migration files use none, so only
 * statements that pass params get the rewrite.
 */
export function pgExecutor(client: pg.Client): SqlExecutor {
  return {
    async transaction(work) {
      await client.query('BEGIN');
      try {
        const result = await work({
          async query(sql: string, params?: SqlParams) {
            if (!params) return (await client.query(sql)).rows as Array<Record<string, unknown>>;
            const values: Array<string | number | null> = [];
            const text = sql.replace(/(?<!:):([a-zA-Z_][a-zA-Z0-9_]*)/g, (_m, name: string) => {
              if (!(name in params)) throw new Error(`missing parameter :${name}`);
              values.push(params[name] ?? null);
              return `$${values.length}`;
            });
            return (await client.query(text, values)).rows as Array<Record<string, unknown>>;
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
  };
}
