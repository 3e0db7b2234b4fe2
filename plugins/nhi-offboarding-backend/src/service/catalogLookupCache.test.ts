import type { Entity } from '@backstage/catalog-model';
import { CatalogLookupCache } from './catalogLookupCache';

const entity = (name: string) =>
  ({ kind: 'Component', metadata: { name } } as Entity);

/** A fetch whose answers the test releases; records what it was asked. */
function controlledFetch() {
  const calls: string[][] = [];
  const releases: (() => void)[] = [];
  const failures: ((e: Error) => void)[] = [];
  const fetch = (refs: string[]) => {
    calls.push(refs);
    return new Promise<(Entity | undefined)[]>((resolve, reject) => {
      releases.push(() =>
        resolve(refs.map(r => (r.endsWith('gone') ? undefined : entity(r)))),
      );
      failures.push(reject);
    });
  };
  return { fetch, calls, releases, failures };
}

describe('CatalogLookupCache', () => {
  it('remembers entities and absences for the TTL only, and drops the oldest beyond its size', () => {
    let now = 0;
    const cache = new CatalogLookupCache(1000, 2, () => now);
    expect(cache.get('component:default/a')).toBeNull();
    cache.set('component:default/a', entity('a'));
    cache.set('component:default/gone', undefined);
    expect(cache.get('component:default/a')).toEqual(entity('a'));
    // Known to be missing is an answer, not a miss.
    expect(cache.get('component:default/gone')).toBeUndefined();
    now = 1001;
    expect(cache.get('component:default/a')).toBeNull();
    cache.set('component:default/b', entity('b'));
    cache.set('component:default/c', entity('c'));
    cache.set('component:default/d', entity('d'));
    expect(cache.get('component:default/b')).toBeNull();
    expect(cache.get('component:default/d')).toEqual(entity('d'));
  });

  it('fetches a ref once while it is being fetched: concurrent lookups wait for that answer', async () => {
    const cache = new CatalogLookupCache();
    const { fetch, calls, releases } = controlledFetch();
    cache.set('c:cached', entity('c:cached'));
    const first = cache.lookUp(['c:a', 'c:gone', 'c:cached', 'c:a'], fetch);
    const second = cache.lookUp(['c:a', 'c:b', 'c:gone'], fetch);
    // The second asks only for what nobody is fetching yet.
    expect(calls).toEqual([['c:a', 'c:gone'], ['c:b']]);
    releases[1]();
    releases[0]();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toEqual(
      new Map([
        ['c:cached', entity('c:cached')],
        ['c:a', entity('c:a')],
        ['c:gone', undefined],
      ]),
    );
    expect(b).toEqual(
      new Map([
        ['c:b', entity('c:b')],
        ['c:a', entity('c:a')],
        ['c:gone', undefined],
      ]),
    );
    // Answered from the cache now; the catalog is not asked again.
    await cache.lookUp(['c:a', 'c:b', 'c:gone'], fetch);
    expect(calls).toHaveLength(2);
  });

  it('passes a failed fetch to everyone waiting for it, keeps nothing, and asks again next time', async () => {
    const cache = new CatalogLookupCache();
    const { fetch, calls, releases, failures } = controlledFetch();
    const first = cache.lookUp(['c:a'], fetch);
    const second = cache.lookUp(['c:a'], fetch);
    failures[0](new Error('catalog unavailable'));
    await expect(first).rejects.toThrow('catalog unavailable');
    await expect(second).rejects.toThrow('catalog unavailable');
    expect(cache.get('c:a')).toBeNull();
    const again = cache.lookUp(['c:a'], fetch);
    expect(calls).toEqual([['c:a'], ['c:a']]);
    releases[1]();
    expect(await again).toEqual(new Map([['c:a', entity('c:a')]]));
  });

  it('fetches an answer again in the background near the end of its TTL, and gives out the old one meanwhile', async () => {
    let now = 0;
    const cache = new CatalogLookupCache(30_000, 100, () => now);
    const { fetch, calls, releases } = controlledFetch();
    cache.set('c:a', entity('old'));
    now = 20_000; // 67 % of the TTL: nothing to do
    expect(await cache.lookUp(['c:a'], fetch)).toEqual(
      new Map([['c:a', entity('old')]]),
    );
    expect(calls).toEqual([]);
    now = 25_000; // 83 %: answered at once, fetched again behind it
    expect(await cache.lookUp(['c:a'], fetch)).toEqual(
      new Map([['c:a', entity('old')]]),
    );
    expect(calls).toEqual([['c:a']]);
    // Once: a reader meanwhile does not start another fetch.
    await cache.lookUp(['c:a'], fetch);
    expect(calls).toHaveLength(1);
    releases[0]();
    await new Promise(r => setImmediate(r));
    // The new answer counts from now: still fresh when the old would be gone.
    now = 50_000;
    expect(cache.get('c:a')).toEqual(entity('c:a'));
  });
});
