/**
 * Frontend of NHI Offboarding: the Retire tab and the platform page.
 *
 * @packageDocumentation
 */
export {
  nhiOffboardingPlugin,
  NhiOffboardingPage,
  EntityRetireContent,
} from './plugin';
export { nhiOffboardingApiRef, NhiOffboardingClient } from './api';
export type {
  NhiOffboardingApi,
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
} from './api';
export type { PlatformPageProps } from './components/PlatformPage';
