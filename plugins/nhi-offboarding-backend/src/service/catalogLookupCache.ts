import type { Entity } from '@backstage/catalog-model';
import { LruCache } from './LruCache';

/**
 * What the catalog said about entity refs a short while ago (undefined =
 * not in the catalog). Residual access pages ask about the same few
 * thousand entities and owners again and again (the platform page, "Load
 * more", several readers); a lifecycle change seen 30 s late does not
 * matter for a report of access that should have ended days ago, a
 * catalog round trip per page does. Bounded: the least recently used go first.
 */
export class CatalogLookupCache {
  private readonly entries: LruCache<{
    entity: Entity | undefined;
    at: number;
  }>;

  constructor(
    private readonly ttlMs = 30_000,
    maxEntries = 20_000,
    private readonly clock: () => number = Date.now,
  ) {
    this.entries = new LruCache(maxEntries);
  }

  /** The cached answer, or `null` when there is none (or it is too old). */
  get(ref: string): Entity | undefined | null {
    const hit = this.entries.get(ref);
    if (!hit || this.clock() - hit.at > this.ttlMs) return null;
    return hit.entity;
  }

  set(ref: string, entity: Entity | undefined): void {
    this.entries.set(ref, { entity, at: this.clock() });
  }
}
