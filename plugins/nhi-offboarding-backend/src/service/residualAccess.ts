import { Entity } from '@backstage/catalog-model';
import type { AuthService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { ResidualAccessItem } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import type { CatalogLookupCache } from './catalogLookupCache';

const PAGE = 1000;
const CATALOG_BATCH = 200;
/** Live anchors read per request at most; the rest is the next page's. */
const SCAN_BUDGET = 20 * PAGE;

/**
 * Live anchors (active or unknown) that should not be: their entity is
 * retired, deprecated or gone from the catalog, or their owner is gone.
 * A page as the API's JSON text ({ items: ResidualAccessItem[], nextCursor }).
 */
export async function residualAccessPageJson(options: {
  store: RetirementStore;
  catalog: CatalogService;
  auth: AuthService;
  retiredLifecycles: string[];
  limit: number;
  /** Continue after this anchor id (the nextCursor of the previous page). */
  cursor?: string;
  /** Recent catalog answers shared between requests. */
  cache: CatalogLookupCache;
}): Promise<string> {
  const { store, catalog, auth, cache } = options;
  const fetchFromCatalog = async (refs: string[]) => {
    const credentials = await auth.getOwnServiceCredentials();
    const answers: (Entity | undefined)[] = [];
    for (let i = 0; i < refs.length; i += CATALOG_BATCH) {
      const { items } = await catalog.getEntitiesByRefs(
        {
          entityRefs: refs.slice(i, i + CATALOG_BATCH),
          fields: [
            'kind',
            'metadata.name',
            'metadata.namespace',
            'spec.lifecycle',
          ],
        },
        { credentials },
      );
      // In the order asked; null = not in the catalog.
      answers.push(...items.map(e => e ?? undefined));
    }
    return answers;
  };
  const entities = new Map<string, Entity | undefined>();
  const lookUp = async (refs: string[]) => {
    const needed = refs.filter(r => !entities.has(r));
    if (needed.length === 0) return;
    for (const [ref, entity] of await cache.lookUp(needed, fetchFromCatalog))
      entities.set(ref, entity);
  };

  const found: {
    id: string;
    reason: ResidualAccessItem['reason'];
    entityLifecycle?: string;
  }[] = [];
  // The scan reads ids, entities and owners from the index; only the
  // anchors found residual are read whole, once, at the end, as the JSON
  // the database writes (RetirementStore.getAnchorsJson).
  const finish = async (nextCursor: string | undefined) => {
    const anchors = new Map(
      (await store.getAnchorsJson(found.map(f => f.id))).map(a => [a.id, a]),
    );
    const items: string[] = [];
    for (const f of found) {
      const anchor = anchors.get(f.id);
      // Revoked between the scan and this read: no longer residual.
      if (anchor && (anchor.status === 'active' || anchor.status === 'unknown'))
        items.push(
          `{"anchor":${anchor.json},"reason":${JSON.stringify(f.reason)}${
            f.entityLifecycle === undefined
              ? ''
              : `,"entityLifecycle":${JSON.stringify(f.entityLifecycle)}`
          }}`,
        );
    }
    return `{"items":[${items.join(',')}]${
      nextCursor ? `,"nextCursor":${JSON.stringify(nextCursor)}` : ''
    }}`;
  };
  let afterId = options.cursor;
  // A small page needs few rows (most live anchors in a retired estate are
  // residual); a big one reads 1,000 at a time.
  const page = Math.min(PAGE, Math.max(100, options.limit));
  // A page ends at `limit` items or after SCAN_BUDGET live anchors, so a
  // request costs the same with a million anchors as with a thousand.
  for (let scanned = 0; ; scanned += page) {
    if (scanned >= SCAN_BUDGET) return finish(afterId);
    const anchors = await store.listLiveAnchorRefs({ limit: page, afterId });
    if (anchors.length === 0) break;
    afterId = anchors[anchors.length - 1].id;
    await lookUp([
      ...anchors.map(a => a.entityRef),
      ...anchors.map(a => a.owner).filter((o): o is string => !!o),
    ]);
    for (const anchor of anchors) {
      const entity = entities.get(anchor.entityRef);
      const lifecycle = entity?.spec?.lifecycle as string | undefined;
      let reason: ResidualAccessItem['reason'] | undefined;
      if (!entity) reason = 'entity-missing';
      else if (lifecycle && options.retiredLifecycles.includes(lifecycle))
        reason = 'entity-retired';
      else if (lifecycle === 'deprecated') reason = 'entity-deprecated';
      else if (anchor.owner && !entities.get(anchor.owner))
        reason = 'owner-missing';
      if (reason) {
        found.push({ id: anchor.id, reason, entityLifecycle: lifecycle });
        if (found.length >= options.limit) return finish(anchor.id);
      }
    }
  }
  return finish(undefined);
}
