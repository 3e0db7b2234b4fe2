import { RecentPages } from './RecentPages';

describe('RecentPages', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('gives a page out until it is ttl old, then computes it again', async () => {
    const pages = new RecentPages(5_000, undefined, clock);
    let n = 0;
    const compute = jest.fn(async () => `page ${++n}`);
    expect(await pages.get('a', compute)).toBe('page 1');
    now += 4_999;
    expect(await pages.get('a', compute)).toBe('page 1');
    expect(compute).toHaveBeenCalledTimes(1);
    now += 1;
    expect(await pages.get('a', compute)).toBe('page 2');
    expect(compute).toHaveBeenCalledTimes(2);
  });

  it('counts the age from when the computation started', async () => {
    const pages = new RecentPages(5_000, undefined, clock);
    await pages.get('a', async () => {
      now += 3_000; // a slow computation
      return 'slow';
    });
    now += 2_000;
    expect(await pages.get('a', async () => 'fresh')).toBe('fresh');
  });

  it('computes a page once for readers that ask while it is computed', async () => {
    const pages = new RecentPages(5_000, undefined, clock);
    let finish!: (text: string) => void;
    const compute = jest.fn(
      () => new Promise<string>(resolve => (finish = resolve)),
    );
    const readers = [1, 2, 3].map(() => pages.get('a', compute));
    finish('shared');
    expect(await Promise.all(readers)).toEqual(['shared', 'shared', 'shared']);
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('keeps pages apart by key', async () => {
    const pages = new RecentPages(5_000, undefined, clock);
    expect(await pages.get('a', async () => 'A')).toBe('A');
    expect(await pages.get('b', async () => 'B')).toBe('B');
    expect(await pages.get('a', async () => 'other')).toBe('A');
  });

  it('keeps no failure: every waiting reader sees it, the next one computes again', async () => {
    const pages = new RecentPages(5_000, undefined, clock);
    let fail!: (e: Error) => void;
    const failing = () => new Promise<string>((_, reject) => (fail = reject));
    const readers = [1, 2].map(() => pages.get('a', failing));
    fail(new Error('catalog unavailable'));
    for (const r of readers) await expect(r).rejects.toThrow('unavailable');
    expect(await pages.get('a', async () => 'ok')).toBe('ok');
  });

  it('computes every time when the ttl is 0', async () => {
    const pages = new RecentPages(0, undefined, clock);
    const compute = jest.fn(async () => 'x');
    await pages.get('a', compute);
    await pages.get('a', compute);
    expect(compute).toHaveBeenCalledTimes(2);
  });
});
