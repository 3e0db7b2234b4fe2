import { createApiRef } from '@backstage/core-plugin-api';
import type {
  EvidenceRecord,
  EvidenceVerification,
  ResidualAccessItem,
  Retirement,
  StepException,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type {
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
}

/** @public */
export const nhiOffboardingApiRef = createApiRef<NhiOffboardingApi>({
  id: 'plugin.nhi-offboarding.service',
});
