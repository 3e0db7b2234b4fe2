import type { Entity } from '@backstage/catalog-model';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type {
  AnchorStatus,
  TrustAnchor,
  TrustAnchorKind,
  VerificationOutcome,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/** A credential id that the catalog links to an entity for a provider. @public */
export interface LinkedCredential {
  externalId: string;
  /** Where the link came from: the entity's annotation or a catalog Resource. */
  source: 'annotation' | 'catalog-resource';
  /** Other entities the catalog says use the same credential. */
  sharedWith: string[];
  /** The catalog Resource that declared it, if any. */
  resourceRef?: string;
}

/** @public */
export interface DiscoverRequest {
  entity: Entity;
  entityRef: string;
  /** Credentials that the catalog links to this entity for this provider. */
  linked: LinkedCredential[];
  signal?: AbortSignal;
}

/** What a provider knows of one anchor. Ids and fingerprints only, never a secret. @public */
export interface DiscoveredAnchor {
  externalId: string;
  kind: TrustAnchorKind;
  displayName: string;
  fingerprint?: string;
  scopes?: string[];
  owner?: string;
  sharedWith?: string[];
  createdAt?: string;
  lastUsedAt?: string;
  expiresAt?: string;
  status: AnchorStatus;
}

/** Passed to every action so long calls can be cut off and logged. @public */
export interface ActionContext {
  retirementId: string;
  stepId: string;
  signal: AbortSignal;
  logger: LoggerService;
}

/** @public */
export interface ActionResult {
  /** False when the system was already in the wanted state (idempotent re-run). */
  changed: boolean;
  /** One sentence a person can read in the evidence. */
  detail: string;
  /** What the provider observed, for the evidence (no secrets). */
  observed?: Record<string, unknown>;
  /** After a rotation: the fingerprint of the new credential. */
  newFingerprint?: string;
}

/** @public */
export interface VerifyResult {
  outcome: VerificationOutcome;
  detail: string;
  /** What the system's authoritative state showed (no secrets). */
  observed: Record<string, unknown>;
}

/** Operational limits a provider declares; the engine enforces them. @public */
export interface ProviderLimits {
  /** Calls in flight at once against this provider (default 4). */
  concurrency?: number;
  /** Calls per second at most (default: unlimited). */
  ratePerSecond?: number;
  /** How long the system may keep trusting a revoked credential (default 0). */
  propagationWindowMs?: number;
  /** A single call is cut off after this long (default 30 s). */
  callTimeoutMs?: number;
}

/**
 * A system that holds credentials. Every action must be idempotent:
 * revoking something already revoked succeeds with `changed: false`.
 * Actions a system cannot perform are left undefined.
 * @public
 */
export interface TrustAnchorProvider {
  /** Instance id, unique in the backend (from config). */
  readonly id: string;
  /** Provider type, e.g. `postgres`. */
  readonly type: string;
  /** True when anchors cannot be acted on by a system: owners attest instead. */
  readonly manual?: boolean;
  /** True for simulations that must be labelled as such. */
  readonly simulated?: boolean;
  readonly limits?: ProviderLimits;

  discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]>;
  /** Reversible: the credential stops working but can be restored. */
  disable?(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult>;
  /** Undo `disable` (release from quarantine). */
  enable?(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult>;
  /** Final removal. */
  revoke?(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult>;
  terminateSessions?(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult>;
  /** Replace a shared secret so the retiring entity's copy stops working. */
  rotate?(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult>;
  removeMemberships?(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult>;
  /** Does the system still trust this anchor? Unreachable means `unknown`. */
  verify?(anchor: TrustAnchor, ctx: ActionContext): Promise<VerifyResult>;
  /** Release connections and other resources at shutdown. */
  close?(): Promise<void>;
}

/** Builds a provider instance from an entry of `nhiOffboarding.providers`. @public */
export type TrustAnchorProviderFactory = (options: {
  id: string;
  config: Config;
  logger: LoggerService;
}) => TrustAnchorProvider | Promise<TrustAnchorProvider>;

/**
 * Logs a provider action's result, its detail redacted, with the step it
 * belongs to, and returns the result: one shape for every provider's log.
 * @public
 */
export function logActionResult(
  options: {
    providerType: string;
    providerId: string;
    logger: LoggerService;
    redact: (text: string) => string;
  },
  ctx: ActionContext,
  action: string,
  result: ActionResult,
): ActionResult {
  (ctx.logger ?? options.logger).info(
    `${options.providerType} provider ${
      options.providerId
    }: ${action}: ${options.redact(result.detail)}`,
    {
      provider: options.providerId,
      retirementId: ctx.retirementId,
      stepId: ctx.stepId,
      changed: result.changed,
    },
  );
  return result;
}
