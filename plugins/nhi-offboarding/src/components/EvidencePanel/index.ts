export { EvidencePanel, ChainIntegrity } from './EvidencePanel';
