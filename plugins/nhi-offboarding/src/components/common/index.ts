export * from './format';
export * from './labels';
export * from './phases';
export { AnchorKindIcon, AnchorKindLabel } from './AnchorKindIcon';
export {
  StatusChip,
  AnchorStatusChip,
  RetirementStatusChip,
  StepStatusChip,
  ExceptionStatusChip,
} from './StatusChip';
export type { Tone } from './StatusChip';
export {
  RetireTabLink,
  useRetireTabHref,
  shortEntityRef,
  DEFAULT_RETIRE_TAB_PATH,
} from './RetireTabLink';
export { DiscoveryProblems } from './DiscoveryProblems';
