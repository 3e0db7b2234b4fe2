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
 * The value a step write stamps in `change_seq`: larger than any its
 * retirement had (migrations/20261127600000_api_3_step_changes.js). For an
 * UPDATE of `nhi_steps` (the correlated form names that table).
 */
export function nextStepChange(db: Knex): Knex.Raw {
  return isPostgres(db)
    ? db.raw("nextval('nhi_step_change_seq')")
    : db.raw(
        '(select max(c.change_seq) + 1 from nhi_steps c where c.retirement_id = nhi_steps.retirement_id)',
      );
}
