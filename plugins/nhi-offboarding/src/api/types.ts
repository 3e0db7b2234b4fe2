import type {
  PlannedStep,
  TrustAnchor,
  RetirementMode,
  RetirementStatus,
  StepException,
  GovernanceFindingReason,
  OwnershipProposal,
  RevocationDeadline,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/*
 * Request and response shapes of the REST API that the shared types do not
 * (yet) describe. They belong in the common package once the backend settles
 * on them.
 */

/** A system that could not be asked about an entity's anchors. @public */
export interface DiscoveryProblem {
  providerId: string;
  message: string;
}

/** The trust anchors of an entity and what could not be discovered. @public */
export interface TrustAnchorList {
  items: TrustAnchor[];
  /** Providers that failed: the list may be incomplete. */
  problems: DiscoveryProblem[];
}

/** A dry-run plan. @public */
export interface RetirementPlan {
  steps: PlannedStep[];
  /** Providers that failed: the plan may be incomplete. */
  problems: DiscoveryProblem[];
}

/** @public */
export interface PlanRetirementRequest {
  mode: RetirementMode;
  quarantineDays?: number;
}

/** @public */
export interface StartRetirementRequest extends PlanRetirementRequest {
  entityRef: string;
  reason: string;
}

/** @public */
export interface ListRetirementsQuery {
  entityRef?: string;
  status?: RetirementStatus;
  owner?: string;
  limit?: number;
  cursor?: string;
}

/** @public */
export interface RequestExceptionRequest {
  justification: string;
  /** ISO 8601 timestamp. */
  expiresAt: string;
}

/** @public */
export type ExceptionDecision = 'approve' | 'reject';

/** @public */
export type ReleaseOutcome = 'revoke' | 'restore';

/** An exception as the organisation-wide listing returns it. @public */
export type ExceptionListItem = StepException & {
  retirementId: string;
  entityRef: string;
};

/** @public */
export interface ProviderInfo {
  id: string;
  type: string;
  manual: boolean;
  simulated: boolean;
}

/** @public */
export interface DayCount {
  /** A calendar day, `YYYY-MM-DD`. */
  day: string;
  count: number;
}

/** @public */
export interface NhiOffboardingStats {
  retirements: { byStatus: Partial<Record<RetirementStatus, number>> };
  completedPerDay: DayCount[];
  residualPerDay?: DayCount[];
  timeToVerifiedMs: number[];
}

/** Governance facts of one retirement (deadline, re-verification, ownership). @public */
export interface RetirementGovernance {
  deadline: RevocationDeadline;
  lastReverifiedAt?: string;
  driftDetectedAt?: string;
  ownership: OwnershipProposal[];
}

/** @public */
export type ReverificationVerdict =
  | 'clean'
  | 'drift'
  | 'inconclusive'
  | 'skipped';

/** @public */
export interface GovernanceFindingsQuery {
  reason?: GovernanceFindingReason;
  /** Owner refs, e.g. the signed-in user's teams. */
  owners?: string[];
}

/** @public */
export interface DeadlineList {
  objectiveMs: number;
  items: RevocationDeadline[];
}
