import type { FieldDef, PoolClient } from 'pg';
import { type CatalogColumn, type CatalogType, columnKey, isBuiltinType } from './results';

type RawRow = (string | null)[];

/**
 * pg_type / pg_attribute facts for one database, looked up on demand and kept: the first result with an
 * enum column (or any non-built-in type) costs one extra catalog query, later ones none. OIDs are not reused
 * while the database lives, so entries cannot go wrong except for a column's NOT NULL being altered
 * afterwards, which only affects the best-effort `nullable` in columnMetadata.
 */
export class Catalog {
  readonly types = new Map<number, CatalogType>();
  readonly columns = new Map<string, CatalogColumn>();

  /** Loads the types of `fields` that are neither built in nor already known. */
  async loadTypes(client: PoolClient, fields: readonly FieldDef[]): Promise<void> {
    const missing = new Set<number>();
    for (const f of fields) {
      if (!isBuiltinType(f.dataTypeID) && !this.types.has(f.dataTypeID)) missing.add(f.dataTypeID);
    }
    if (missing.size === 0) return;
    const result = await client.query<RawRow>({
      text: 'SELECT oid::int8, typname::text, typelem::int8, typcategory::text FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])',
      values: [`{${[...missing].join(',')}}`],
      rowMode: 'array',
    });
    for (const [oid, name, element, category] of result.rows) {
      this.types.set(Number(oid), {
        name: name ?? 'unknown',
        elementOid: Number(element),
        category: category ?? '',
      });
    }
    // An element type of a non-built-in array may itself be non-built-in (an enum array): its name is not
    // needed, the element is read as text.
  }

  /** Loads table/nullability facts for the result columns that come straight from a table. */
  async loadColumns(client: PoolClient, fields: readonly FieldDef[]): Promise<void> {
    const tables: number[] = [];
    const columns: number[] = [];
    for (const f of fields) {
      if (f.tableID !== 0 && !this.columns.has(columnKey(f.tableID, f.columnID))) {
        tables.push(f.tableID);
        columns.push(f.columnID);
      }
    }
    if (tables.length === 0) return;
    const result = await client.query<RawRow>({
      text: `SELECT a.attrelid::int8, a.attnum::int4, c.relname::text, a.attnotnull,
                    (a.attidentity <> '' OR coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false))
               FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
               LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE (a.attrelid, a.attnum) IN (SELECT * FROM unnest($1::oid[], $2::int2[]))`,
      values: [`{${tables.join(',')}}`, `{${columns.join(',')}}`],
      rowMode: 'array',
    });
    for (const [table, column, tableName, notNull, autoIncrement] of result.rows) {
      this.columns.set(columnKey(Number(table), Number(column)), {
        tableName: tableName ?? '',
        notNull: notNull === 't',
        autoIncrement: autoIncrement === 't',
      });
    }
  }
}
