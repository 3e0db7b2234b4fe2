import type { Entity } from '@backstage/catalog-model';
import { CatalogLookupCache } from './catalogLookupCache';

const entity = (name: string) =>
  ({ kind: 'Component', metadata: { name } } as Entity);

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
});
