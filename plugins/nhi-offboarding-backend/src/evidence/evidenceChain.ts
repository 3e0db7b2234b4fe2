import { createHash } from 'crypto';
import type {
  EvidenceRecord,
  EvidenceVerification,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { canonicalJson } from './canonicalJson';

/** The hash the first record of every chain points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an evidence record says, before it is chained. */
export type EvidenceFacts = Omit<EvidenceRecord, 'seq' | 'prevHash' | 'hash'>;

/** SHA-256 over the canonical form of every field except the hash itself. */
export function hashEvidence(record: Omit<EvidenceRecord, 'hash'>): string {
  const {
    retirementId,
    seq,
    kind,
    stepId,
    anchorId,
    actor,
    at,
    summary,
    data,
    prevHash,
  } = record;
  return createHash('sha256')
    .update(
      canonicalJson({
        retirementId,
        seq,
        kind,
        stepId: stepId ?? null,
        anchorId: anchorId ?? null,
        actor,
        at,
        summary,
        data,
        prevHash,
      }),
    )
    .digest('hex');
}

/** Links new facts after the record `previous` (or starts the chain). */
export function chainEvidence(
  facts: EvidenceFacts,
  previous: Pick<EvidenceRecord, 'seq' | 'hash'> | undefined,
): EvidenceRecord {
  const unhashed = {
    ...facts,
    seq: previous ? previous.seq + 1 : 1,
    prevHash: previous ? previous.hash : GENESIS_HASH,
  };
  return { ...unhashed, hash: hashEvidence(unhashed) };
}

/**
 * Recomputes the chain. Any altered field, deleted or reordered record is
 * found: sequence numbers must run 1..n, each record must point at the hash
 * of the one before, and each hash must match the record's content.
 */
export function verifyEvidenceChain(
  records: EvidenceRecord[],
): EvidenceVerification {
  let previousHash = GENESIS_HASH;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const expectedSeq = i + 1;
    const fail = (problem: string): EvidenceVerification => ({
      valid: false,
      count: records.length,
      firstInvalidSeq: expectedSeq,
      problem,
    });
    if (record.seq !== expectedSeq) {
      return fail(
        `record ${expectedSeq} is missing or out of order (found sequence number ${record.seq})`,
      );
    }
    if (record.prevHash !== previousHash) {
      return fail(
        `record ${expectedSeq} does not link to the record before it`,
      );
    }
    if (hashEvidence(record) !== record.hash) {
      return fail(`record ${expectedSeq} was altered after it was written`);
    }
    previousHash = record.hash;
  }
  return {
    valid: true,
    count: records.length,
    headHash: records.length ? previousHash : undefined,
  };
}
