export { RetireDialog, DEFAULT_QUARANTINE_DAYS } from './RetireDialog';
export type { RetireDialogProps } from './RetireDialog';
export { RetireButton } from './RetireButton';
export { PlanView, planSummaryText } from './PlanView';
