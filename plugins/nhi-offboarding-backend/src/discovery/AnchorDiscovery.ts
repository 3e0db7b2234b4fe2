import { createHash } from 'crypto';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type {
  AuthService,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type {
  DiscoveredAnchor,
  TrustAnchorProvider,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import type { RetirementStore } from '../database/RetirementStore';
import type { ProviderRegistry } from '../providers/ProviderRegistry';
import { withTimeout } from '../engine/withTimeout';
import { credentialResourcesOf, linkedCredentialsFor } from './catalogLinks';

/** A provider that could not be asked during a discovery. */
export interface DiscoveryProblem {
  providerId: string;
  message: string;
}

/** Stable id of an anchor: the same credential of the same entity always gets the same id. */
export function anchorId(
  entityRef: string,
  providerId: string,
  externalId: string,
): string {
  return `anc_${createHash('sha256')
    .update(`${entityRef}\n${providerId}\n${externalId}`)
    .digest('hex')
    .slice(0, 40)}`;
}

/** Statuses that only a retirement sets and a discovery must not undo. */
const KEPT_STATUSES = new Set(['excepted']);

/**
 * Finds the trust anchors of an entity: asks every provider, with what the
 * catalog links to the entity, and stores the result.
 */
export class AnchorDiscovery {
  constructor(
    private readonly options: {
      catalog: CatalogService;
      auth: AuthService;
      providers: ProviderRegistry;
      store: RetirementStore;
      logger: LoggerService;
      /** A provider's discovery is cut off after this long. */
      timeoutMs?: number;
    },
  ) {}

  /** The entity as the caller may see it; 404 when it is not in the catalog. */
  async getEntity(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<Entity> {
    const entity = await this.options.catalog.getEntityByRef(entityRef, {
      credentials,
    });
    if (!entity) {
      throw new NotFoundError(`${entityRef} is not in the catalog`);
    }
    return entity;
  }

  /** Ids of the system providers the catalog links credentials of the entity to. */
  async linkedProviderIds(entity: Entity): Promise<Set<string>> {
    const { catalog, auth, providers } = this.options;
    const resources = await credentialResourcesOf(
      entity,
      catalog,
      await auth.getOwnServiceCredentials(),
    );
    return new Set(
      providers
        .list()
        .filter(
          p =>
            !p.manual && linkedCredentialsFor(p.id, entity, resources).length,
        )
        .map(p => p.id),
    );
  }

  /**
   * Asks every provider now. With `persist: false` (a dry run) the result is
   * returned but not stored.
   */
  async discover(
    entity: Entity,
    options: { persist: boolean } = { persist: true },
  ): Promise<{ items: TrustAnchor[]; problems: DiscoveryProblem[] }> {
    const { catalog, auth, providers, store, logger } = this.options;
    const entityRef = stringifyEntityRef(entity);
    const resources = await credentialResourcesOf(
      entity,
      catalog,
      await auth.getOwnServiceCredentials(),
    );
    const existing = new Map(
      (await store.listAnchors(entityRef)).map(a => [a.id, a]),
    );
    const problems: DiscoveryProblem[] = [];
    const found: TrustAnchor[] = [];
    const now = new Date().toISOString();

    await Promise.all(
      providers.list().map(async provider => {
        const linked = provider.manual
          ? []
          : linkedCredentialsFor(provider.id, entity, resources);
        let discovered: DiscoveredAnchor[];
        try {
          discovered = await withTimeout(
            signal => provider.discover({ entity, entityRef, linked, signal }),
            this.options.timeoutMs ?? provider.limits?.callTimeoutMs ?? 30_000,
            `discovery on ${provider.id}`,
          );
        } catch (error) {
          const message = (error as Error).message;
          logger.warn(
            `Discovery of ${entityRef} on provider ${provider.id} failed: ${message}`,
          );
          problems.push({ providerId: provider.id, message });
          return;
        }
        const sharedByLink = new Map(
          linked.map(l => [l.externalId, l.sharedWith]),
        );
        for (const d of discovered) {
          found.push(
            this.toAnchor(
              entityRef,
              provider,
              d,
              sharedByLink.get(d.externalId) ?? [],
              now,
              existing,
            ),
          );
        }
      }),
    );
    if (!options.persist) {
      const merged = new Map(existing);
      for (const anchor of found) merged.set(anchor.id, anchor);
      const items = [...merged.values()].sort((a, b) =>
        `${a.providerId}\n${a.externalId}`.localeCompare(
          `${b.providerId}\n${b.externalId}`,
        ),
      );
      return { items, problems };
    }
    await store.upsertAnchors(found);
    return { items: await store.listAnchors(entityRef), problems };
  }

  private toAnchor(
    entityRef: string,
    provider: TrustAnchorProvider,
    d: DiscoveredAnchor,
    sharedByCatalog: string[],
    now: string,
    existing: Map<string, TrustAnchor>,
  ): TrustAnchor {
    const id = anchorId(entityRef, provider.id, d.externalId);
    const before = existing.get(id);
    // A manual anchor's status is what its owner attested, not what the catalog says.
    const keep =
      before &&
      (KEPT_STATUSES.has(before.status) ||
        (provider.manual && before.status !== 'active'));
    return {
      id,
      entityRef,
      providerId: provider.id,
      kind: d.kind,
      externalId: d.externalId,
      displayName: d.displayName,
      fingerprint: d.fingerprint,
      scopes: d.scopes ?? [],
      owner: d.owner,
      sharedWith: [...new Set([...(d.sharedWith ?? []), ...sharedByCatalog])]
        .filter(ref => ref !== entityRef)
        .sort(),
      manual: Boolean(provider.manual),
      createdAt: d.createdAt,
      lastUsedAt: d.lastUsedAt,
      expiresAt: d.expiresAt,
      status: keep ? before!.status : d.status,
      discoveredAt: now,
      discoveredBy: provider.id,
      lastVerifiedAt: before?.lastVerifiedAt,
      lastVerifiedBy: before?.lastVerifiedBy,
      lastVerification: before?.lastVerification,
    };
  }
}
