import type {
  EvidenceRecord,
  EvidenceVerification,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  GENESIS_HASH,
  hashRecord,
  verifyChain,
  verifyChainFrom,
} from './chainCore';

export { GENESIS_HASH };

/**
 * An evidence record as read from the database for a check: its data as the
 * stored (canonical) text, hashed without parsing (chainCore.js, hashMatches).
 */
export type StoredEvidenceRecord = Omit<EvidenceRecord, 'data'> & {
  dataText: string;
};

/** What an evidence record says, before it is chained. */
export type EvidenceFacts = Omit<EvidenceRecord, 'seq' | 'prevHash' | 'hash'>;

/** SHA-256 over the canonical form of every field except the hash itself. */
export function hashEvidence(record: Omit<EvidenceRecord, 'hash'>): string {
  return hashRecord(record);
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
 * Recomputes the chain: any altered field, deleted or reordered record is
 * found (the rules are in chainCore.js, shared with the offline checker).
 */
export function verifyEvidenceChain(
  records: EvidenceRecord[],
): EvidenceVerification {
  return verifyChain(records);
}

/**
 * verifyEvidenceChain for records that follow `previous` ones (a chain
 * read page by page): the same rules, `count` includes the previous ones.
 */
export function verifyEvidenceChainFrom(
  records: Array<EvidenceRecord | StoredEvidenceRecord>,
  previous: { count: number; hash: string },
): EvidenceVerification {
  return verifyChainFrom(records, previous);
}
