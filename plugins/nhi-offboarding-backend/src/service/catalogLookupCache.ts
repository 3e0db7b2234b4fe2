import type { Entity } from '@backstage/catalog-model';
import { LruCache } from './LruCache';

/** The catalog's answer for a ref: the entity, or undefined = not in it. */
type Answer = Entity | undefined;

/**
 * What the catalog said about entity refs a short while ago (undefined =
 * not in the catalog). Residual access pages ask about the same few
 * thousand entities and owners again and again (the platform page, "Load
 * more", several readers); a lifecycle change seen 30 s late does not
 * matter for a report of access that should have ended days ago, a
 * catalog round trip per page does. Bounded: the least recently used go first.
 *
 * A ref being fetched is fetched once: when its answer runs out, every
 * request then reading a page needs it at the same moment, and without
 * this each of them would ask the catalog for the same entities (under
 * 50 concurrent readers that stalled them all for over a second). And an
 * answer is fetched again in the background when it is 80 % of its TTL
 * old, while it is still given out, so busy readers rarely wait at all.
 */
export class CatalogLookupCache {
  private readonly entries: LruCache<{ entity: Answer; at: number }>;
  private readonly inFlight = new Map<string, Promise<Answer>>();

  constructor(
    private readonly ttlMs = 30_000,
    maxEntries = 20_000,
    private readonly clock: () => number = Date.now,
  ) {
    this.entries = new LruCache(maxEntries);
  }

  /** The cached answer, or `null` when there is none (or it is too old). */
  get(ref: string): Answer | null {
    const hit = this.fresh(ref, this.clock());
    return hit ? hit.entity : null;
  }

  /** The entry for `ref` with its age, unless there is none or it ran out. */
  private fresh(ref: string, now: number) {
    const hit = this.entries.get(ref);
    return hit && now - hit.at <= this.ttlMs
      ? { entity: hit.entity, age: now - hit.at }
      : undefined;
  }

  set(ref: string, entity: Answer): void {
    this.entries.set(ref, { entity, at: this.clock() });
  }

  /**
   * Answers for `refs`: from the cache, from a fetch another caller has
   * under way, and the rest from `fetch` (called with the refs nobody has;
   * it answers in their order). Answers near the end of their TTL are
   * given out and fetched again without waiting.
   */
  async lookUp(
    refs: Iterable<string>,
    fetch: (refs: string[]) => Promise<Answer[]>,
  ): Promise<Map<string, Answer>> {
    const now = this.clock();
    const answers = new Map<string, Answer>();
    const waiting: Promise<void>[] = [];
    const missing: string[] = [];
    const ageing: string[] = [];
    for (const ref of new Set(refs)) {
      const hit = this.fresh(ref, now);
      const pending = this.inFlight.get(ref);
      if (hit) {
        answers.set(ref, hit.entity);
        if (hit.age > this.ttlMs * 0.8 && !pending) ageing.push(ref);
      } else if (pending) {
        waiting.push(pending.then(e => void answers.set(ref, e)));
      } else {
        missing.push(ref);
      }
    }
    // A failed refresh changes nothing: the answer runs out as it would
    // have, and the next reader fetches it and sees the error.
    if (ageing.length > 0) this.fetchOnce(ageing, fetch).catch(() => {});
    // Awaited at the end; marked handled so that a failure of our own
    // fetch first does not leave it unhandled.
    const waited = Promise.all(waiting);
    waited.catch(() => {});
    if (missing.length > 0) {
      const items = await this.fetchOnce(missing, fetch);
      missing.forEach((ref, i) => answers.set(ref, items[i]));
    }
    await waited;
    return answers;
  }

  /** Fetches `refs` for every caller: in flight until answered, then cached. */
  private fetchOnce(
    refs: string[],
    fetch: (refs: string[]) => Promise<Answer[]>,
  ): Promise<Answer[]> {
    const fetched = fetch(refs).then(items => {
      refs.forEach((ref, i) => this.set(ref, items[i]));
      return items;
    });
    refs.forEach((ref, i) => {
      const one = fetched.then(items => items[i]);
      one.catch(() => {}); // whoever waits for it sees the failure
      this.inFlight.set(ref, one);
    });
    const settle = () => refs.forEach(ref => this.inFlight.delete(ref));
    fetched.then(settle, settle);
    return fetched;
  }
}
