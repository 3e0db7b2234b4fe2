export { RetirementHistory } from './RetirementHistory';
