import { createApiRef } from '@backstage/core-plugin-api';
import type {
  EvidenceRecord,
  EvidenceVerification,
  ResidualAccessItem,
  Retirement,
  StepException,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type {
  GovernanceFindings,
  OwnershipProposal,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type {
  DeadlineList,
  GovernanceFindingsQuery,
  RetirementGovernance,
  ReverificationVerdict,
  ExceptionDecision,
  ExceptionListItem,
  ListRetirementsQuery,
  NhiOffboardingStats,
  PlanRetirementRequest,
  ProviderInfo,
  ReleaseOutcome,
  RequestExceptionRequest,
  RetirementPlan,
  StartRetirementRequest,
  TrustAnchorList,
} from './types';

/**
 * What the frontend needs from the nhi-offboarding backend. Every method
 * rejects with a `ResponseError` when the backend answers with an error.
 *
 * @public
 */
export interface NhiOffboardingApi {
  /** The trust anchors of an entity; `refresh` re-discovers them first. */
  getTrustAnchors(
    entityRef: string,
    options?: { refresh?: boolean },
  ): Promise<TrustAnchorList>;
  /** A dry run: the steps a retirement would take, in order. */
  planRetirement(
    entityRef: string,
    request: PlanRetirementRequest,
  ): Promise<RetirementPlan>;
  startRetirement(request: StartRetirementRequest): Promise<Retirement>;
  listRetirements(
    query?: ListRetirementsQuery,
  ): Promise<{ items: Retirement[]; nextCursor?: string }>;
  getRetirement(id: string): Promise<Retirement>;
  cancelRetirement(id: string, reason?: string): Promise<Retirement>;
  retryRetirement(id: string): Promise<Retirement>;
  /** Ends a quarantine early: go on to the final revoke, or restore access. */
  releaseQuarantine(id: string, outcome: ReleaseOutcome): Promise<Retirement>;
  placeLegalHold(id: string, reason: string): Promise<Retirement>;
  liftLegalHold(id: string, reason?: string): Promise<Retirement>;
  requestException(
    id: string,
    stepId: string,
    request: RequestExceptionRequest,
  ): Promise<StepException>;
  decideException(
    id: string,
    stepId: string,
    decision: ExceptionDecision,
    note?: string,
  ): Promise<StepException>;
  attestStep(id: string, stepId: string, note: string): Promise<Retirement>;
  getEvidence(id: string): Promise<EvidenceRecord[]>;
  getEvidenceCsv(id: string): Promise<string>;
  verifyEvidence(id: string): Promise<EvidenceVerification>;
  getResidualAccess(): Promise<ResidualAccessItem[]>;
  listExceptions(query?: {
    status?: StepException['status'];
  }): Promise<ExceptionListItem[]>;
  getProviders(): Promise<ProviderInfo[]>;
  /** Aggregates for the platform page; `undefined` when the backend has none. */
  getStats(): Promise<NhiOffboardingStats | undefined>;
  /** Deadline, last re-verification and ownership proposals of a retirement. */
  getRetirementGovernance(id: string): Promise<RetirementGovernance>;
  /** Re-asks the systems now whether they trust the retirement's anchors again. */
  reverifyRetirement(
    id: string,
  ): Promise<{ verdict: ReverificationVerdict; retirement: Retirement }>;
  /** Records the new owner of a shared anchor the retiring entity owned. */
  reassignOwnership(
    id: string,
    anchorId: string,
    owner: string,
  ): Promise<OwnershipProposal[]>;
  /** The audit export of a retirement (JSON text, controls and head hash included). */
  getRetirementExport(id: string): Promise<string>;
  /** The audit export of the retirements started in [from, to). */
  getPeriodExport(from: Date, to: Date): Promise<string>;
  /** Orphaned, stale and unlinked anchors; `undefined` when the backend has no such view. */
  getGovernanceFindings(
    query?: GovernanceFindingsQuery,
  ): Promise<GovernanceFindings | undefined>;
  /** Retirements against the time-to-revoke objective; breaches only when asked. */
  getDeadlines(query?: { breached?: boolean }): Promise<DeadlineList>;
}

/** @public */
export const nhiOffboardingApiRef = createApiRef<NhiOffboardingApi>({
  id: 'plugin.nhi-offboarding.service',
});
