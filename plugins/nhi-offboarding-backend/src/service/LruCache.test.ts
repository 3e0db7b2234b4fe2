import { LruCache } from './LruCache';

describe('LruCache', () => {
  it('stays within its cost, dropping the least recently used first', () => {
    const cache = new LruCache<string>(10, text => text.length);
    cache.set('a', 'aaaa');
    cache.set('b', 'bbbb');
    expect(cache.get('a')).toBe('aaaa'); // a is now the most recent
    cache.set('c', 'cccc'); // 12 > 10: b goes
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('aaaa');
    expect(cache.get('c')).toBe('cccc');
    expect(cache.cost).toBe(8);
    expect(cache.size).toBe(2);
  });

  it('replaces a key without counting it twice, and refuses what cannot fit', () => {
    const cache = new LruCache<string>(10, text => text.length);
    cache.set('a', 'aaaa');
    cache.set('a', 'aaaaaa');
    expect(cache.cost).toBe(6);
    cache.set('huge', 'x'.repeat(11));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('a')).toBe('aaaaaa');
  });

  it('counts entries when no cost is given', () => {
    const cache = new LruCache<number>(2);
    cache.set('1', 1);
    cache.set('2', 2);
    cache.set('3', 3);
    expect([cache.get('1'), cache.get('2'), cache.get('3')]).toEqual([
      undefined,
      2,
      3,
    ]);
  });
});
