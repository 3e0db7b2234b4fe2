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
  db.client.pool?.on?.(
    'createSuccess',
    (_id: unknown, connection: { pragma?: (s: string) => unknown }) => {
      connection.pragma?.(SYNCHRONOUS.replace('PRAGMA ', ''));
    },
  );
}
