/*
 * Shared vocabulary of the NHI Offboarding plugins. The REST API returns
 * exactly these shapes (JSON; timestamps are ISO 8601 strings).
 */

/** The kinds of access path through which a system may trust an entity. */
export const TRUST_ANCHOR_KINDS = [
  'api-key',
  'token',
  'oauth-client',
  'service-account',
  'iam-user',
  'iam-role',
  'access-key',
  'certificate',
  'ssh-key',
  'deploy-key',
  'db-user',
  'secret',
  'group-membership',
  'session',
  'other',
] as const;
/** @public */
export type TrustAnchorKind = (typeof TRUST_ANCHOR_KINDS)[number];

/** @public */
export const ANCHOR_STATUSES = [
  'active',
  'disabled',
  'revoked',
  'rotated',
  'excepted',
  'unknown',
] as const;
/** @public */
export type AnchorStatus = (typeof ANCHOR_STATUSES)[number];

/** What a system answered when asked whether it still trusts an anchor. */
export type VerificationOutcome = 'trusted' | 'untrusted' | 'unknown';

/**
 * The role of an anchor in the control chain decides in which phase it is
 * acted on: the identity itself first, then what it is a member of, then the
 * secrets it could use.
 */
export type AnchorRole = 'identity' | 'membership' | 'secret';

/** @public */
export function anchorRoleOf(kind: TrustAnchorKind): AnchorRole {
  switch (kind) {
    case 'service-account':
    case 'iam-user':
    case 'iam-role':
    case 'oauth-client':
    case 'db-user':
    case 'session':
      return 'identity';
    case 'group-membership':
      return 'membership';
    default:
      return 'secret';
  }
}

/** One access path through which something trusts an entity. @public */
export interface TrustAnchor {
  id: string;
  entityRef: string;
  providerId: string;
  kind: TrustAnchorKind;
  externalId: string;
  displayName: string;
  /** A fingerprint of the credential (e.g. SHA-256), never the secret itself. */
  fingerprint?: string;
  scopes: string[];
  owner?: string;
  /** Other entities that use the same credential: it is rotated, not revoked. */
  sharedWith: string[];
  /** True when no system can act on it: an owner must attest its removal. */
  manual: boolean;
  createdAt?: string;
  lastUsedAt?: string;
  expiresAt?: string;
  status: AnchorStatus;
  discoveredAt: string;
  discoveredBy: string;
  lastVerifiedAt?: string;
  lastVerifiedBy?: string;
  lastVerification?: VerificationOutcome;
}

export const RETIREMENT_MODES = ['revoke', 'quarantine'] as const;
/** @public */
export type RetirementMode = (typeof RETIREMENT_MODES)[number];

export const RETIREMENT_STATUSES = [
  'pending',
  'running',
  'quarantined',
  'completed',
  'needs-attention',
  'cancelled',
] as const;
/** @public */
export type RetirementStatus = (typeof RETIREMENT_STATUSES)[number];

/** Statuses in which a retirement still holds the entity (one at a time). */
export const ACTIVE_RETIREMENT_STATUSES: RetirementStatus[] = [
  'pending',
  'running',
  'quarantined',
  'needs-attention',
];

/**
 * Control-chain phases: 1 disable the identity and end its sessions,
 * 2 remove memberships and roles, 3 revoke own secrets / rotate shared ones,
 * 4 verify every anchor against its system, 5 seal the evidence.
 */
export type StepPhase = 1 | 2 | 3 | 4 | 5;

export const PHASE_TITLES: Record<StepPhase, string> = {
  1: 'Disable identity and end sessions',
  2: 'Remove memberships and roles',
  3: 'Revoke own secrets, rotate shared ones',
  4: 'Verify against each system',
  5: 'Seal the evidence',
};

export const STEP_ACTIONS = [
  'disable',
  'terminate-sessions',
  'remove-memberships',
  'revoke',
  'rotate',
  'verify',
  'attest',
  'seal',
  'enable',
] as const;
/** @public */
export type StepAction = (typeof STEP_ACTIONS)[number];

export const STEP_STATUSES = [
  'pending',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'excepted',
  'cancelled',
] as const;
/**
 * `waiting`: needs a person (an attestation); `failed`: gave up, the
 * retirement needs attention; `excepted`: an approved exception covers it.
 * @public
 */
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A step of a dry-run plan. @public */
export interface PlannedStep {
  stage: number;
  phase: StepPhase;
  action: StepAction;
  anchorId?: string;
  anchorName?: string;
  anchorKind?: TrustAnchorKind;
  providerId?: string;
  manual: boolean;
  /** Why this action was chosen, e.g. "shared with component:default/x: rotated". */
  rationale: string;
  /** True for steps that wait for the end of a quarantine. */
  afterQuarantine: boolean;
}

/** @public */
export interface RetirementStep extends PlannedStep {
  id: string;
  retirementId: string;
  status: StepStatus;
  attempts: number;
  lastError?: string;
  /** For verify steps: what the system answered last. */
  outcome?: VerificationOutcome | 'attested';
  notBefore?: string;
  startedAt?: string;
  finishedAt?: string;
  exception?: StepException;
}

/** @public */
export interface StepException {
  id: string;
  retirementId: string;
  stepId: string;
  anchorId?: string;
  justification: string;
  expiresAt: string;
  requestedBy: string;
  requestedAt: string;
  status: 'requested' | 'approved' | 'rejected';
  decidedBy?: string;
  decidedAt?: string;
  decisionNote?: string;
}

/** @public */
export interface Retirement {
  id: string;
  entityRef: string;
  /** The entity's owner when the retirement started. */
  owner?: string;
  mode: RetirementMode;
  reason: string;
  status: RetirementStatus;
  requestedBy: string;
  legalHold: boolean;
  holdReason?: string;
  quarantineDays?: number;
  quarantineUntil?: string;
  /** True once a quarantine was ended early. */
  released: boolean;
  /** True when the quarantine ends by restoring access instead of revoking. */
  restoring: boolean;
  /** The stage the engine works on (steps of later stages wait). */
  currentStage: number;
  statusReason?: string;
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
  /** When the anchors of this (completed or quarantined) retirement were last re-verified untrusted. */
  lastReverifiedAt?: string;
  /** When a system was last found trusting one of its anchors again. */
  driftDetectedAt?: string;
  /** Set when a trigger started the retirement rather than a person. */
  origin?: RetirementOrigin;
  /**
   * Steps: total, done (succeeded or excepted), failed. Anchors: how many the
   * run covers and how many are verified untrusted or attested.
   */
  progress: {
    total: number;
    done: number;
    failed: number;
    anchors: number;
    verified: number;
  };
  /**
   * Its steps in stage order: all of them, or (GET /retirements/{id}) the
   * first page, followed by `stepsNextCursor` for GET .../steps.
   */
  steps?: RetirementStep[];
  /** Set when `steps` is a page and more follow. */
  stepsNextCursor?: string;
}

/** @public A page of a retirement's steps, in stage order. */
export interface RetirementStepPage {
  items: RetirementStep[];
  nextCursor?: string;
}

/** @public A page of a retirement's evidence, oldest first. */
export interface EvidencePage {
  items: EvidenceRecord[];
  /** Ask for the next page with afterSeq=nextAfterSeq; absent on the last page. */
  nextAfterSeq?: number;
}

export const EVIDENCE_KINDS = [
  'planned',
  'action',
  'verification',
  'attestation',
  'exception',
  'hold',
  'status',
  'completion',
  /** A scheduled re-check of a finished retirement found every anchor still untrusted. */
  'reverification',
  /** A system trusts an anchor of a finished retirement again. */
  'drift',
  /** A shared anchor's ownership moved from the retiring entity to another consumer's owner. */
  'ownership',
] as const;
/** @public */
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** One append-only, hash-chained evidence record. @public */
export interface EvidenceRecord {
  retirementId: string;
  seq: number;
  kind: EvidenceKind;
  stepId?: string;
  anchorId?: string;
  actor: string;
  at: string;
  summary: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** @public */
export interface EvidenceVerification {
  valid: boolean;
  count: number;
  headHash?: string;
  firstInvalidSeq?: number;
  problem?: string;
}

/** @public */
export interface ResidualAccessItem {
  anchor: TrustAnchor;
  reason:
    | 'entity-retired'
    | 'entity-deprecated'
    | 'entity-missing'
    | 'owner-missing';
  entityLifecycle?: string;
}

/** Why an anchor shows up on the platform page's governance list. @public */
export type GovernanceFindingReason =
  /** Its owner entity is not in the catalog. */
  | 'owner-missing'
  /** Its owning group has no members. */
  | 'owner-group-empty'
  /** The system reports no use for longer than the configured period (CIS 5.3). */
  | 'stale'
  /** Its entity is in the catalog but no owner is recorded for it. */
  | 'unlinked';

/** @public */
export interface GovernanceFinding {
  anchor: TrustAnchor;
  reasons: GovernanceFindingReason[];
  /** The owner used for the finding (a recorded reassignment wins over the system's). */
  owner?: string;
  /** Days since the system last saw the anchor used (stale only). */
  unusedDays?: number;
}

/** @public */
export interface GovernanceFindings {
  items: GovernanceFinding[];
  counts: Record<GovernanceFindingReason, number>;
  staleAfterDays: number;
}

/** A retirement measured against the time-to-revoke objective. @public */
export interface RevocationDeadline {
  retirementId: string;
  entityRef: string;
  owner?: string;
  status: RetirementStatus;
  mode: RetirementMode;
  startedAt: string;
  /** When access was removed (quarantine: identity disabled; revoke: completed). */
  accessRemovedAt?: string;
  elapsedMs: number;
  objectiveMs: number;
  breached: boolean;
}

/** Proposed new owner of a shared anchor whose owner was the retiring entity. @public */
export interface OwnershipProposal {
  anchorId: string;
  anchorName: string;
  providerId: string;
  currentOwner?: string;
  /** Owners of the other consumers, the first one is proposed. */
  candidates: string[];
  proposedOwner?: string;
  reassigned?: { owner: string; by: string; at: string };
}

/** One evidence record with the controls it evidences. @public */
export interface ExportedEvidenceRecord extends EvidenceRecord {
  controls: string[];
}

/** A control of a framework that evidence records can support. @public */
export interface ControlReference {
  id: string;
  framework: string;
  title: string;
}

/** The audit download of one retirement. @public */
export interface RetirementEvidenceExport {
  format: 'nhi-offboarding-evidence/v1';
  exportedAt: string;
  exportedBy: string;
  retirement: Retirement;
  deadline: RevocationDeadline;
  chain: EvidenceVerification;
  controls: ControlReference[];
  records: ExportedEvidenceRecord[];
}

export const TRIGGER_KINDS = [
  'lifecycle',
  'missing',
  'event',
  'scaffolder',
] as const;
/**
 * What starts a retirement without a person pressing Retire: an entity's
 * lifecycle changed, it left the catalog with live anchors, an event
 * arrived, or a scaffolder template ran `nhi:retire`.
 * @public
 */
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** @public */
export interface RetirementOrigin {
  trigger: TriggerKind;
  /** The firing (and proposal) id. */
  firingId: string;
  /** What fired, e.g. "spec.lifecycle production → deprecated". */
  detail: string;
  /** Who confirmed a proposal, when it was one. */
  confirmedBy?: string;
}

export const TRIGGER_FIRING_STATUSES = [
  'pending',
  'started',
  'proposed',
  'dismissed',
  'skipped',
  'rejected',
] as const;
/**
 * `proposed`: waits for an owner to confirm or dismiss; `skipped`: the entity
 * already had an active retirement or an open proposal; `rejected`: the
 * trigger's input was invalid or named an unknown entity.
 * @public
 */
export type TriggerFiringStatus = (typeof TRIGGER_FIRING_STATUSES)[number];

/** One firing of a trigger; a proposal is a firing with status `proposed`. @public */
export interface TriggerFiring {
  id: string;
  trigger: TriggerKind;
  entityRef: string;
  action: 'retire' | 'propose';
  status: TriggerFiringStatus;
  detail?: string;
  mode: RetirementMode;
  reason: string;
  quarantineDays?: number;
  retirementId?: string;
  decidedBy?: string;
  createdAt: string;
  updatedAt: string;
}
