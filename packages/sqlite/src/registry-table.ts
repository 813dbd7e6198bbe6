import type { AdapterErrors } from '@keyledger/core';
import type { SqliteDatabase } from './sqlite-registry-store.js';

/** The table that holds keyledger's rows, apart from the user's own tables. */
export const SQLITE_REGISTRY_TABLE = 'keyledger_registry';

/**
 * The table, always named with its schema: an unqualified name would reach a TEMP table of the
 * same name first, which the connection's owner may have made and which vanishes on close.
 */
export const REGISTRY_TABLE = `main.${SQLITE_REGISTRY_TABLE}`;

/** BLOB keys compare with memcmp, so in unsigned byte order; WITHOUT ROWID keeps each row in the key's b-tree. */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${REGISTRY_TABLE} (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID`;

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
  hidden: number;
}

/** What SQLite's own catalogue says about an existing table of keyledger's name. */
interface TableShape {
  type: string;
  withoutRowid: boolean;
  columns: ColumnInfo[];
  /** Indexes other than the primary key's: a UNIQUE one makes INSERT OR REPLACE delete other rows. */
  extraIndexes: string[];
  /** Triggers on it, in main or temp: they run on keyledger's writes. */
  triggers: string[];
  foreignKeys: number;
}

const isColumn = (c: ColumnInfo | undefined, name: string, pk: number): boolean =>
  c !== undefined && c.name.toLowerCase() === name && c.type.toUpperCase() === 'BLOB' && c.pk === pk && c.hidden === 0;

/**
 * Each way an existing table can differ from the one keyledger creates, with what it would do to
 * keyledger's rows; the first that applies refuses the database. Without the primary key,
 * `INSERT OR REPLACE` appends: one slot would hold several epochs and `get` would answer the oldest.
 */
const SHAPE_RULES: readonly ((t: TableShape) => string | undefined)[] = [
  (t) => (t.type !== 'table' ? `is a ${t.type}, not a table` : undefined),
  (t) =>
    t.columns.length !== 2 || !isColumn(t.columns[0], 'key', 1) || !isColumn(t.columns[1], 'value', 0) || t.columns[1]?.notnull !== 1
      ? `has the columns (${t.columns.map((c) => `${c.name} ${c.type}${c.pk ? ' PRIMARY KEY' : ''}${c.notnull ? ' NOT NULL' : ''}`).join(', ')}), not (key BLOB PRIMARY KEY, value BLOB NOT NULL)`
      : undefined,
  (t) => (!t.withoutRowid ? 'is a rowid table, not WITHOUT ROWID' : undefined),
  (t) => (t.extraIndexes.length > 0 ? `has the indexes ${t.extraIndexes.join(', ')} besides its primary key` : undefined),
  (t) => (t.triggers.length > 0 ? `has the triggers ${t.triggers.join(', ')}` : undefined),
  (t) => (t.foreignKeys > 0 ? 'has foreign keys' : undefined),
];

/** Reads the shape of `main.keyledger_registry`, or `undefined` when there is none. */
function readShape(db: SqliteDatabase): TableShape | undefined {
  const listed = (db.pragma(`main.table_list(${SQLITE_REGISTRY_TABLE})`) as { type: string; wr: number }[])[0];
  if (listed === undefined) return undefined;
  const triggers = db
    .prepare(
      `SELECT name FROM main.sqlite_schema WHERE type = 'trigger' AND lower(tbl_name) = ?
       UNION ALL SELECT name FROM temp.sqlite_schema WHERE type = 'trigger' AND lower(tbl_name) = ?`,
    )
    .pluck()
    .all(SQLITE_REGISTRY_TABLE, SQLITE_REGISTRY_TABLE) as string[];
  return {
    type: listed.type,
    withoutRowid: listed.wr === 1,
    columns: db.pragma(`main.table_xinfo(${SQLITE_REGISTRY_TABLE})`) as ColumnInfo[],
    extraIndexes: (db.pragma(`main.index_list(${SQLITE_REGISTRY_TABLE})`) as { name: string; origin: string }[])
      .filter((i) => i.origin !== 'pk')
      .map((i) => i.name),
    triggers,
    foreignKeys: (db.pragma(`main.foreign_key_list(${SQLITE_REGISTRY_TABLE})`) as unknown[]).length,
  };
}

/** True when the database holds keyledger's table (of whatever shape): a store to open, or to refuse as foreign. */
export function hasRegistryTable(db: SqliteDatabase): boolean {
  return readShape(db) !== undefined;
}

/**
 * Refuses with `ERR_UNSUPPORTED_STORE` an existing `keyledger_registry` that keyledger did not
 * make. Only reads SQLite's catalogue: run it before anything on the connection changes.
 */
export function checkRegistryTable(db: SqliteDatabase, errors: AdapterErrors): void {
  const shape = readShape(db);
  if (shape !== undefined) {
    for (const rule of SHAPE_RULES) {
      const why = rule(shape);
      if (why !== undefined) {
        throw errors.foreign(
          `the ${SQLITE_REGISTRY_TABLE} in ${JSON.stringify(db.name)} ${why}`,
          `rename or drop it (ALTER TABLE ${SQLITE_REGISTRY_TABLE} RENAME TO …), or give keyledger a database file of its own`,
        );
      }
    }
  }
}

/** Creates keyledger's table when it is missing (after {@link checkRegistryTable} let an existing one through). */
export function createRegistryTable(db: SqliteDatabase): void {
  db.exec(CREATE_TABLE);
}
