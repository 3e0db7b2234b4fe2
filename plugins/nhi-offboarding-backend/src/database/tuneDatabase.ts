import type { Knex } from 'knex';
import { isPostgres } from './dbUtil';

const SYNCHRONOUS = 'PRAGMA synchronous = NORMAL';

/**
 * SQLite only: write-ahead log instead of the rollback journal. With the
 * default journal every commit creates, fsyncs and deletes a journal file,
 * and better-sqlite3 does that on the event loop: it was most of the
 * engine's time per step (bench/README.md, benchmark 1). In WAL mode with
 * synchronous=NORMAL a commit survives a crash of the process (the chaos
 * test kills it); an OS crash or power cut may lose the last commits but
 * never leaves a half-written one, and a step whose result is lost is run
 * again (providers' actions are idempotent). Readers no longer block the
 * writer either. In-memory databases (tests) keep their journal.
 */
export async function tuneDatabase(db: Knex): Promise<void> {
  if (isPostgres(db) || !String(db.client.config.client).includes('sqlite')) {
    return;
  }
  // Persistent in the file: every later connection uses the log too.
  await db.raw('PRAGMA journal_mode = WAL');
  // Per connection: this one, and any the pool opens later.
  await db.raw(SYNCHRONOUS);
  const connection = await db.client.acquireConnection();
  try {
    reusePreparedStatements(connection);
  } finally {
    await db.client.releaseConnection(connection);
  }
  db.client.pool?.on?.(
    'createSuccess',
    (_id: unknown, created: SqliteConnection) => {
      created.pragma?.(SYNCHRONOUS.replace('PRAGMA ', ''));
      reusePreparedStatements(created);
    },
  );
}

interface SqliteConnection {
  pragma?: (s: string) => unknown;
  prepare?: (sql: string) => unknown;
  __nhiStatements?: Map<string, unknown>;
}

/**
 * knex prepares every statement anew on each query (better-sqlite3's
 * `prepare` was 6 % of the API's CPU at scale, bench/README.md); the same
 * few dozen texts repeat, so the connection keeps the last 500 prepared.
 * A better-sqlite3 statement runs synchronously to the end (`all`/`run`),
 * so one is never used by two queries at once, and SQLite re-prepares a
 * statement itself when the schema changed.
 */
function reusePreparedStatements(connection: SqliteConnection): void {
  if (!connection?.prepare || connection.__nhiStatements) return;
  const prepare = connection.prepare.bind(connection);
  const statements = new Map<string, unknown>();
  connection.__nhiStatements = statements;
  connection.prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (statement) {
      statements.delete(sql); // most recently used last
    } else {
      statement = prepare(sql);
      if (statements.size >= 500) {
        statements.delete(statements.keys().next().value as string);
      }
    }
    statements.set(sql, statement);
    return statement;
  };
}
