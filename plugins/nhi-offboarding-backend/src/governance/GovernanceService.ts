import type { Knex } from 'knex';
import type { AuthService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type {
  GovernanceFindingReason,
  GovernanceFindings,
  OwnershipProposal,
  Retirement,
  RevocationDeadline,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import { accessRemovedAtOf, deadlineOf } from './deadlines';
import { findingOf } from './findings';

const CATALOG_BATCH = 200;
const PAGE = 1000;

export interface GovernanceOptions {
  /** Time-to-revoke objective (PS-4; FedRAMP: 4 hours). */
  timeToRevokeMs: number;
  /** Anchors unused for longer are stale (CIS 5.3: 45 days). */
  staleAfterDays: number;
}

export interface FindingsFilter {
  reason?: GovernanceFindingReason;
  /** Only anchors whose owner in force is one of these (e.g. "my teams"). */
  owners?: string[];
  providerId?: string;
  limit: number;
}

interface OwnerOverride {
  anchor_id: string;
  owner: string;
  reassigned_by: string;
  reassigned_at: string;
}

/**
 * Governance views over the retirements and anchors: orphaned, stale and
 * unlinked anchors, time-to-revoke deadlines and ownership of shared
 * anchors. Reads here; the one write (a reassignment) goes through the store.
 */
export class GovernanceService {
  constructor(
    private readonly deps: {
      db: Knex;
      store: RetirementStore;
      catalog: CatalogService;
      auth: AuthService;
      options: GovernanceOptions;
    },
  ) {}

  get options(): GovernanceOptions {
    return this.deps.options;
  }

  private async entities(
    refs: string[],
  ): Promise<Map<string, Entity | undefined>> {
    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const result = new Map<string, Entity | undefined>();
    const unique = [...new Set(refs)];
    for (let i = 0; i < unique.length; i += CATALOG_BATCH) {
      const batch = unique.slice(i, i + CATALOG_BATCH);
      const { items } = await this.deps.catalog.getEntitiesByRefs(
        {
          entityRefs: batch,
          fields: [
            'kind',
            'metadata.name',
            'metadata.namespace',
            'spec.owner',
            'relations',
          ],
        },
        { credentials },
      );
      batch.forEach((ref, j) => result.set(ref, items[j] ?? undefined));
    }
    return result;
  }

  private async overrides(
    anchorIds: string[],
  ): Promise<Map<string, OwnerOverride>> {
    const result = new Map<string, OwnerOverride>();
    for (let i = 0; i < anchorIds.length; i += 500) {
      const rows: OwnerOverride[] = await this.deps
        .db('nhi_anchor_owners')
        .whereIn('anchor_id', anchorIds.slice(i, i + 500));
      rows.forEach(r => result.set(r.anchor_id, r));
    }
    return result;
  }

  /** Orphaned, stale and unlinked live anchors, with counts per reason. */
  async findings(
    filter: FindingsFilter,
    now: Date,
  ): Promise<GovernanceFindings> {
    const { staleAfterDays } = this.deps.options;
    const counts: Record<GovernanceFindingReason, number> = {
      'owner-missing': 0,
      'owner-group-empty': 0,
      stale: 0,
      unlinked: 0,
    };
    const items: GovernanceFindings['items'] = [];
    const owners = filter.owners ? new Set(filter.owners) : undefined;
    let afterId: string | undefined;
    for (;;) {
      const page = await this.deps.store.listLiveAnchors({
        limit: PAGE,
        afterId,
      });
      if (page.length === 0) break;
      afterId = page[page.length - 1].id;
      const anchors = filter.providerId
        ? page.filter(a => a.providerId === filter.providerId)
        : page;
      const overrides = await this.overrides(anchors.map(a => a.id));
      const entityRefs = anchors.map(a => a.entityRef);
      const entities = await this.entities(entityRefs);
      const ownerOf = (a: (typeof anchors)[number]) =>
        overrides.get(a.id)?.owner ??
        a.owner ??
        (entities.get(a.entityRef)?.spec?.owner as string | undefined);
      const ownerRefs = anchors
        .map(a => ownerOf(a))
        .filter((o): o is string => !!o)
        .map(o => normalizeOwner(o));
      const ownerEntities = await this.entities(ownerRefs);
      for (const anchor of anchors) {
        const raw = ownerOf(anchor);
        const owner = raw ? normalizeOwner(raw) : undefined;
        if (owners && (!owner || !owners.has(owner))) continue;
        const finding = findingOf(anchor, {
          entity: entities.get(anchor.entityRef),
          owner,
          ownerEntity: owner ? ownerEntities.get(owner) : undefined,
          staleAfterDays,
          now,
        });
        if (!finding) continue;
        finding.reasons.forEach(r => counts[r]++);
        if (filter.reason && !finding.reasons.includes(filter.reason)) continue;
        if (items.length < filter.limit) items.push(finding);
      }
    }
    return { items, counts, staleAfterDays };
  }

  /** Retirements measured against the objective, newest first. */
  async deadlines(
    filter: { breachedOnly: boolean; from?: Date; to?: Date; limit: number },
    now: Date,
  ): Promise<RevocationDeadline[]> {
    const retirements = await this.retirementsIn(
      filter.from ?? new Date(0),
      filter.to ?? now,
      500,
    );
    return (await this.deadlinesOf(retirements, now))
      .filter(d => !filter.breachedOnly || d.breached)
      .slice(0, filter.limit);
  }

  /** Retirements started in [from, to), newest first, at most `limit`. */
  async retirementsIn(
    from: Date,
    to: Date,
    limit: number,
  ): Promise<Retirement[]> {
    const rows: { id: string }[] = await this.deps
      .db('nhi_retirements')
      .where('created_at', '>=', from.toISOString())
      .where('created_at', '<', to.toISOString())
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit)
      .select('id');
    const result: Retirement[] = [];
    for (const { id } of rows) {
      const r = await this.deps.store.getRetirement(id, { withSteps: false });
      if (r) result.push(r);
    }
    return result;
  }

  async deadlinesOf(
    retirements: Retirement[],
    now: Date,
  ): Promise<RevocationDeadline[]> {
    const removed = await accessRemovedAtOf(this.deps.db, retirements);
    return retirements.map(r =>
      deadlineOf(r, removed.get(r.id), this.deps.options.timeToRevokeMs, now),
    );
  }

  /**
   * Shared anchors of this retirement that the retiring entity owned (or
   * that had no owner): the owner of another consumer is proposed.
   */
  async ownershipProposals(
    retirement: Retirement,
  ): Promise<OwnershipProposal[]> {
    const ids = [
      ...new Set(
        (retirement.steps ?? [])
          .map(s => s.anchorId)
          .filter((x): x is string => !!x),
      ),
    ];
    const anchors = (await this.deps.store.getAnchors(ids)).filter(
      a => a.sharedWith.length > 0,
    );
    if (anchors.length === 0) return [];
    const overrides = await this.overrides(anchors.map(a => a.id));
    const consumers = await this.entities(anchors.flatMap(a => a.sharedWith));
    const proposals: OwnershipProposal[] = [];
    for (const anchor of anchors) {
      const override = overrides.get(anchor.id);
      const owned = !anchor.owner || anchor.owner === retirement.entityRef;
      if (!owned && !override) continue;
      const candidates = [
        ...new Set(
          anchor.sharedWith
            .filter(ref => ref !== retirement.entityRef)
            .map(ref => consumers.get(ref)?.spec?.owner as string | undefined)
            .filter((o): o is string => !!o)
            .map(normalizeOwner),
        ),
      ];
      proposals.push({
        anchorId: anchor.id,
        anchorName: anchor.displayName,
        providerId: anchor.providerId,
        currentOwner: override?.owner ?? anchor.owner,
        candidates,
        proposedOwner: candidates[0],
        reassigned: override
          ? {
              owner: override.owner,
              by: override.reassigned_by,
              at: override.reassigned_at,
            }
          : undefined,
      });
    }
    return proposals;
  }

  /** Records the new owner of a shared anchor; it must be a catalog group or user. */
  async reassign(
    retirement: Retirement,
    input: { anchorId: string; owner: string },
    actor: string,
    now: Date,
  ): Promise<OwnershipProposal[]> {
    const proposals = await this.ownershipProposals(retirement);
    const proposal = proposals.find(p => p.anchorId === input.anchorId);
    if (!proposal) {
      throw new InputError(
        `Trust anchor ${input.anchorId} is not a shared anchor owned by ${retirement.entityRef} in this retirement; nothing to reassign`,
      );
    }
    const owner = normalizeOwner(input.owner);
    const [ownerEntity] = (await this.entities([owner])).values();
    if (!ownerEntity) {
      throw new InputError(
        `owner ${owner} is not in the catalog; choose an existing group or user (proposed: ${
          proposal.proposedOwner ?? 'none'
        })`,
      );
    }
    await this.deps.store.recordOwnershipReassignment(
      retirement.id,
      { anchorId: input.anchorId, owner, previousOwner: proposal.currentOwner },
      actor,
      now,
    );
    return this.ownershipProposals(retirement);
  }
}

/** Owners are written `team-a` or `group:default/team-a`; compare full refs. */
export function normalizeOwner(owner: string): string {
  try {
    return stringifyEntityRef(
      parseEntityRef(owner, {
        defaultKind: 'group',
        defaultNamespace: 'default',
      }),
    );
  } catch {
    return owner;
  }
}
