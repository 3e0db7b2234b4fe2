export { ProposalBanner } from './ProposalBanner';
