export { nhiOffboardingApiRef } from './NhiOffboardingApi';
export type { NhiOffboardingApi } from './NhiOffboardingApi';
export { NhiOffboardingClient } from './NhiOffboardingClient';
export type {
  DayCount,
  DiscoveryProblem,
  RetirementPlan,
  TrustAnchorList,
  ExceptionDecision,
  ExceptionListItem,
  ListRetirementsQuery,
  NhiOffboardingStats,
  PlanRetirementRequest,
  ProviderInfo,
  ReleaseOutcome,
  RequestExceptionRequest,
  StartRetirementRequest,
} from './types';
