import { LruCache } from './LruCache';

/**
 * Pages of a report computed a moment ago, given to every reader of the
 * same page until they are `ttlMs` old (counted from when the computation
 * started, so no reader gets an answer older than that). A page being
 * computed is computed once for every reader that asks meanwhile; a failed
 * computation is not kept. Only for reads whose answer is the same for
 * every caller allowed to make them: the permission is checked before.
 */
export class RecentPages<T = string> {
  private readonly pages: LruCache<{ page: T; at: number }>;
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(
    private readonly ttlMs: number,
    /** Characters of JSON text kept at most. */
    maxChars = 16 * 1024 * 1024,
    private readonly clock: () => number = Date.now,
    /** The characters of a page (a page that is not a string says). */
    charsOf: (page: T) => number = page => (page as string).length,
  ) {
    this.pages = new LruCache(maxChars, kept => charsOf(kept.page));
  }

  async get(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.ttlMs <= 0) return compute();
    const hit = this.pages.get(key);
    if (hit && this.clock() - hit.at < this.ttlMs) return hit.page;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const startedAt = this.clock();
    const computing = compute().then(page => {
      this.pages.set(key, { page, at: startedAt });
      return page;
    });
    this.inFlight.set(key, computing);
    const settle = () => this.inFlight.delete(key);
    computing.then(settle, settle);
    return computing;
  }
}
