export { RetirementProgress } from './RetirementProgress';
export type { RetirementProgressProps } from './RetirementProgress';
