import { createHash } from 'crypto';
import type { Knex } from 'knex';

export function isPostgres(db: Knex): boolean {
  const client = String(db.client.config.client);
  return client === 'pg' || client === 'postgres' || client === 'postgresql';
}

/**
 * Locks a row for the rest of the transaction on databases that have row
 * locks. SQLite needs none: it runs one write transaction at a time.
 */
export function forUpdate<T extends Knex.QueryBuilder>(db: Knex, query: T): T {
  return isPostgres(db) ? (query.forUpdate() as T) : query;
}

function isEvidenceSeqConflict(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string; message?: string };
  if (e?.code === '23505' && e.constraint === 'nhi_evidence_pkey') {
    return true;
  }
  return /UNIQUE constraint failed: nhi_evidence\./.test(e?.message ?? '');
}

/**
 * Runs `fn` in a transaction, again when two writers raced for the same
 * evidence sequence number (the loser's whole transaction is rolled back,
 * so trying again is safe).
 */
export async function inTransaction<T>(
  db: Knex,
  fn: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (error) {
      if (attempt >= 5 || !isEvidenceSeqConflict(error)) {
        throw error;
      }
    }
  }
}

/** True when an insert or update broke the unique index on table.column. */
export function isUniqueViolation(
  error: unknown,
  table: string,
  column: string,
): boolean {
  const e = error as { code?: string; constraint?: string; message?: string };
  if (e?.code === '23505') {
    return e.constraint === `${table}_${column}_unique`;
  }
  return (e?.message ?? '').includes(
    `UNIQUE constraint failed: ${table}.${column}`,
  );
}

/** The rows of a `knex.raw` select (PostgreSQL wraps them, SQLite does not). */
export function rowsOf<T>(db: Knex, result: any): T[] {
  return isPostgres(db) ? result.rows : result;
}

/**
 * What a change stamp is taken from: a PostgreSQL sequence, or on SQLite
 * the largest stamp of the row's group (`group` column of `table`).
 */
interface ChangeStamps {
  sequence: string;
  table: string;
  group: string;
}

/** Steps: claims and attempt ends (migrations/20261127600000_api_3_step_changes.js). */
const STEP_CHANGES: ChangeStamps = {
  sequence: 'nhi_step_change_seq',
  table: 'nhi_steps',
  group: 'retirement_id',
};

/** Anchors: every write (migrations/20261127700000_api_4_anchor_changes.js). */
const ANCHOR_CHANGES: ChangeStamps = {
  sequence: 'nhi_anchor_change_seq',
  table: 'nhi_anchors',
  group: 'entity_ref',
};

/**
 * A group's change mark, as text, to select from the stamps' table filtered
 * to one group: null or starting `0:` when the group has no rows. Rows of a
 * group are never removed, except all of them with their retirement.
 * - PostgreSQL: its rows' count and the sum of their stamps. Not the
 *   largest stamp: writers take stamps before they commit, so one may commit
 *   a smaller stamp after another committed a larger one, and the largest
 *   would not change although a row did. The sum grows with every stamped
 *   write, whatever order writers commit in (a new stamp is larger than the
 *   one the row had); the count tells a removed row.
 * - SQLite: the largest stamp, one seek of the (group, change_seq) index.
 *   One writer at a time: stamps are committed in the order they are taken,
 *   each larger than any its group had, so the largest grows with every
 *   stamped write. The sum read every row of the group on every request
 *   (the 501-step retirement: 39 µs against 15 µs for its row and marks).
 */
export function stampsMark(db: Knex): string {
  return isPostgres(db)
    ? `count(*) || ':' || coalesce(sum(change_seq), 0)`
    : `'max:' || max(change_seq)`; // null for an empty group
}

/**
 * A change stamp for an UPDATE of the stamps' table: larger than any the
 * updated row's group had. PostgreSQL takes it from a sequence (writers run
 * side by side); SQLite, one writer at a time, from the group's largest
 * plus one (the correlated form names the updated table).
 */
function nextChange(db: Knex, { sequence, table, group }: ChangeStamps) {
  return isPostgres(db)
    ? db.raw('nextval(?)', [sequence])
    : db.raw(
        `(select max(c.change_seq) + 1 from ${table} c where c.${group} = ${table}.${group})`,
      );
}

/** What a claim or the end of an attempt stamps in a step's `change_seq`. */
export function nextStepChange(db: Knex): Knex.Raw {
  return nextChange(db, STEP_CHANGES);
}

/** What a write of an anchor stamps in its `change_seq`: for an UPDATE. */
export function nextAnchorChange(db: Knex): Knex.Raw {
  return nextChange(db, ANCHOR_CHANGES);
}

/** The same for a new or upserted anchor row of `entityRef`. */
export function newAnchorChange(db: Knex, entityRef: string): Knex.Raw {
  const { sequence, table, group } = ANCHOR_CHANGES;
  return isPostgres(db)
    ? db.raw('nextval(?)', [sequence])
    : db.raw(
        `(select coalesce(max(change_seq), 0) + 1 from ${table} where ${group} = ?)`,
        [entityRef],
      );
}

const withoutPrepared = new WeakSet<Knex>();

/**
 * Makes preparedRead run its queries through knex like any other: plain
 * statements for a PostgreSQL behind a pooler that cannot keep named
 * statements across transactions (config
 * `nhiOffboarding.preparedStatements: false`; on SQLite it gives up only the
 * direct path).
 */
export function disablePreparedStatements(db: Knex): void {
  withoutPrepared.add(db);
}

/**
 * Runs one of the Retire tab's reads (the change marks read on every
 * request; progress, a page of steps or evidence, an entity's anchors on a
 * miss) on a connection of its own, without knex's query runner:
 * - PostgreSQL: as a named prepared statement, planned once per connection
 *   instead of on every request (planning the marks cost more than running
 *   them). The name is a hash of the text, so a name always means the same
 *   statement.
 * - SQLite: the connection's kept statement (tuneDatabase.ts) run directly;
 *   knex's runner (events, promise chain, response processing) cost more
 *   than better-sqlite3 running the marks.
 * Not for a transaction (it takes a connection of its own from the pool).
 */
export async function preparedRead<T>(
  db: Knex,
  query: Knex.QueryBuilder,
): Promise<T[]> {
  if (withoutPrepared.has(db)) return await query;
  const { sql, bindings } = isPostgres(db)
    ? query.toSQL().toNative()
    : query.toSQL();
  return runPrepared<T>(db, sql, undefined, bindings, () => query);
}

/**
 * A preparedRead whose query is built and compiled to SQL once: `build` is
 * called here with a placeholder for each argument, each of which must
 * reach the SQL as a binding unchanged (as `where(column, value)` does);
 * the returned function runs that SQL with its arguments in their places.
 * For the reads made on every request (a retirement's or an entity's change
 * marks): building and compiling the knex query cost about as much as
 * SQLite running it (bench/README.md).
 */
export function compiledRead<A extends string[], T>(
  db: Knex,
  build: (...args: A) => Knex.QueryBuilder,
): (...args: A) => Promise<T[]> {
  const placeholders = Array.from(
    { length: build.length },
    (_, i) => `\u0000nhi-argument-${i}`,
  ) as A;
  const query = build(...placeholders);
  const { sql, bindings } = isPostgres(db)
    ? query.toSQL().toNative()
    : query.toSQL();
  const slots = bindings.map(b => placeholders.indexOf(b as string));
  if (placeholders.some(p => !bindings.includes(p))) {
    throw new Error(`compiledRead: an argument is not a binding of ${sql}`);
  }
  const name = isPostgres(db) ? statementName(sql) : undefined;
  return async (...args: A) => {
    const run = () => build(...args);
    if (withoutPrepared.has(db)) return await run();
    const values = bindings.map((b, i) => (slots[i] < 0 ? b : args[slots[i]]));
    return runPrepared<T>(db, sql, name, values, run);
  };
}

/** A statement's name on PostgreSQL: a hash of its text (one name, one text). */
function statementName(sql: string): string {
  return `nhi_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}

/**
 * Runs compiled SQL of a read the preparedRead way (`name`: its statement's
 * name on PostgreSQL, when already known); `plain` is the same read through
 * knex, for when that way is not open.
 */
async function runPrepared<T>(
  db: Knex,
  sql: string,
  name: string | undefined,
  bindings: readonly unknown[],
  plain: () => Knex.QueryBuilder,
): Promise<T[]> {
  if (!isPostgres(db)) return sqliteRead<T>(db, sql, bindings, plain);
  const client = db.client as any;
  const connection = await client.acquireConnection();
  try {
    const result = await connection.query({
      name: name ?? statementName(sql),
      text: sql,
      values: client.prepBindings(bindings),
    });
    return result.rows;
  } catch (error) {
    // A column added by a migration (another replica's, during a rolling
    // deploy) changes what `select *` returns, and PostgreSQL refuses to run
    // a statement prepared before: plain statements from now on.
    if ((error as { code?: string }).code !== '0A000') throw error;
    withoutPrepared.add(db);
  } finally {
    await client.releaseConnection(connection);
  }
  return await plain();
}

/** better-sqlite3's connection, as far as a read needs it. */
interface SqliteConnection {
  prepare(sql: string): { reader: boolean; all(bindings: unknown[]): any[] };
}

async function sqliteRead<T>(
  db: Knex,
  sql: string,
  bindings: readonly unknown[],
  plain: () => Knex.QueryBuilder,
): Promise<T[]> {
  const client = db.client as any;
  if (client.config.client !== 'better-sqlite3') return await plain();
  const connection: SqliteConnection = await client.acquireConnection();
  try {
    const statement = connection.prepare(sql);
    if (!statement.reader) throw new Error(`Not a read: ${sql}`);
    return statement.all(client._formatBindings(bindings)) as T[];
  } finally {
    await client.releaseConnection(connection);
  }
}
