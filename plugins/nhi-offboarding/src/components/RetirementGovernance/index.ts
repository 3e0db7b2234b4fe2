export { RetirementGovernance } from './RetirementGovernance';
export type { RetirementGovernanceProps } from './RetirementGovernance';
