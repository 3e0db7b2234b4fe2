import type { Entity } from '@backstage/catalog-model';
import type {
  GovernanceFinding,
  GovernanceFindingReason,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

const DAY_MS = 24 * 3600_000;

/** What the rules need to know of an anchor's entity and owner. */
export interface FindingContext {
  /** The anchor's entity, undefined when not in the catalog. */
  entity?: Entity;
  /** The owner in force: a recorded reassignment, else the system's, else the entity's. */
  owner?: string;
  /** The owner entity, undefined when not in the catalog. */
  ownerEntity?: Entity;
  staleAfterDays: number;
  now: Date;
}

/**
 * Why an anchor needs a platform team's look (pure). Anchors of entities
 * gone from the catalog are residual access, reported there instead.
 */
export function findingOf(
  anchor: TrustAnchor,
  ctx: FindingContext,
): GovernanceFinding | undefined {
  if (!ctx.entity) return undefined;
  const reasons: GovernanceFindingReason[] = [];
  if (!ctx.owner) {
    reasons.push('unlinked');
  } else if (!ctx.ownerEntity) {
    reasons.push('owner-missing');
  } else if (
    ctx.ownerEntity.kind.toLocaleLowerCase('en-US') === 'group' &&
    !(ctx.ownerEntity.relations ?? []).some(r => r.type === 'hasMember')
  ) {
    reasons.push('owner-group-empty');
  }
  let unusedDays: number | undefined;
  if (anchor.lastUsedAt) {
    const unusedMs = ctx.now.getTime() - new Date(anchor.lastUsedAt).getTime();
    if (unusedMs > ctx.staleAfterDays * DAY_MS) {
      unusedDays = Math.floor(unusedMs / DAY_MS);
      reasons.push('stale');
    }
  }
  if (reasons.length === 0) return undefined;
  return { anchor, reasons, owner: ctx.owner, unusedDays };
}
