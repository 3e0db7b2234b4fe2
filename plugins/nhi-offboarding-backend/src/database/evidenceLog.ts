import type { Knex } from 'knex';
import type { EvidenceRecord } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { chainEvidence, EvidenceFacts } from '../evidence';
import { EvidenceRow, evidenceFromRow, evidenceToRow } from './tables';

/** The newest record of a chain: what the next one links to. */
export type EvidenceHead = Pick<EvidenceRecord, 'seq' | 'hash'>;

/**
 * Appends facts to a retirement's evidence chain inside the caller's
 * transaction, so a record is written exactly when the state change it
 * proves is. The caller holds the retirement row lock (see forUpdate).
 */
export async function appendEvidence(
  trx: Knex.Transaction,
  facts: EvidenceFacts[],
  /** Chain heads the caller read under the same lock (undefined = empty chain). */
  knownHeads?: Map<string, EvidenceHead | undefined>,
): Promise<EvidenceRecord[]> {
  const written: EvidenceRecord[] = [];
  const heads = new Map<string, EvidenceHead | undefined>(knownHeads);
  for (const fact of facts) {
    let head = heads.get(fact.retirementId);
    if (!heads.has(fact.retirementId)) {
      const row = await trx<EvidenceRow>('nhi_evidence')
        .where('retirement_id', fact.retirementId)
        .orderBy('seq', 'desc')
        .first('seq', 'hash');
      head = row ? { seq: Number(row.seq), hash: row.hash } : undefined;
    }
    const record = chainEvidence(fact, head);
    heads.set(fact.retirementId, record);
    written.push(record);
  }
  // One multi-row INSERT per 500 records (SQLite allows 32,766 bound
  // values, PostgreSQL 65,535; a record binds 11).
  for (let i = 0; i < written.length; i += 500) {
    await trx('nhi_evidence').insert(
      written.slice(i, i + 500).map(evidenceToRow),
    );
  }
  return written;
}

export async function readEvidence(
  db: Knex,
  retirementId: string,
): Promise<EvidenceRecord[]> {
  const rows = await db<EvidenceRow>('nhi_evidence')
    .where('retirement_id', retirementId)
    .orderBy('seq', 'asc');
  return rows.map(evidenceFromRow);
}
