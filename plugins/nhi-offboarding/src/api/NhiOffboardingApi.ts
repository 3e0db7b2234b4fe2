import { createApiRef } from '@backstage/core-plugin-api';
import type {
  EvidencePage,
  EvidenceRecord,
  EvidenceVerification,
  RetirementStepPage,
  StepStatus,
  ResidualAccessItem,
  Retirement,
  StepException,
  TriggerFiring,
  TriggerFiringStatus,
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
  /** The retirement with its progress and the first page of its steps (`stepsNextCursor` when more follow). */
  getRetirement(id: string): Promise<Retirement>;
  /** A page of its steps in stage order; `cursor` is the previous page's nextCursor (or the retirement's stepsNextCursor). */
  getRetirementSteps(
    id: string,
    query?: { limit?: number; cursor?: string; status?: StepStatus[] },
  ): Promise<RetirementStepPage>;
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
  /** The whole chain (format=export): for downloads, not for display. */
  getEvidence(id: string): Promise<EvidenceRecord[]>;
  /** A page of the evidence, oldest first, after `afterSeq`. */
  getEvidencePage(
    id: string,
    query?: { limit?: number; afterSeq?: number },
  ): Promise<EvidencePage>;
  getEvidenceCsv(id: string): Promise<string>;
  verifyEvidence(id: string): Promise<EvidenceVerification>;
  /** Every residual access item, page by page: a big estate takes several requests. */
  getResidualAccess(): Promise<ResidualAccessItem[]>;
  /** One page of residual access; `cursor` is the previous page's nextCursor. */
  getResidualAccessPage(query?: {
    limit?: number;
    cursor?: string;
  }): Promise<{ items: ResidualAccessItem[]; nextCursor?: string }>;
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
  /** Trigger firings, newest first; a proposal is one with status `proposed`. */
  listTriggerFirings(query?: {
    entityRef?: string;
    status?: TriggerFiringStatus;
    limit?: number;
  }): Promise<TriggerFiring[]>;
  /** Confirms a proposal: the backend starts its retirement. */
  confirmProposal(id: string): Promise<TriggerFiring>;
  dismissProposal(id: string, reason?: string): Promise<TriggerFiring>;
}

/** @public */
export const nhiOffboardingApiRef = createApiRef<NhiOffboardingApi>({
  id: 'plugin.nhi-offboarding.service',
});
