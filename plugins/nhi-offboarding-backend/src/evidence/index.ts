export { canonicalJson } from './canonicalJson';
export {
  GENESIS_HASH,
  chainEvidence,
  hashEvidence,
  verifyEvidenceChain,
  verifyEvidenceChainFrom,
} from './evidenceChain';
export type { EvidenceFacts, StoredEvidenceRecord } from './evidenceChain';
export { evidenceToCsv } from './evidenceCsv';
