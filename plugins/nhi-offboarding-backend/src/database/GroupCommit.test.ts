import { GroupCommit } from './GroupCommit';

/** A write whose batches the test ends one at a time. */
function controlledWrite(fail: (item: number) => boolean = () => false) {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const write = (batch: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(batch);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      pending.push(() => {
        inFlight--;
        if (batch.some(fail)) reject(new Error(`bad item in ${batch}`));
        else resolve(batch.map(i => `done ${i}`));
      });
    });
  /** Ends the oldest batch in flight and lets its caller go on. */
  const endOne = async () => {
    await new Promise(r => setImmediate(r));
    pending.shift()!();
    await new Promise(r => setImmediate(r));
  };
  return { write, batches, endOne, maxInFlight: () => maxInFlight };
}

describe('GroupCommit', () => {
  it('writes an item at once when nothing is in flight, and what queued meanwhile together', async () => {
    const w = controlledWrite();
    const group = new GroupCommit(w.write, { maxInFlight: 1, maxBatch: 10 });
    const first = group.add(1);
    expect(w.batches).toEqual([[1]]);
    const later = [2, 3, 4].map(i => group.add(i));
    expect(w.batches).toEqual([[1]]);
    await w.endOne();
    expect(await first).toBe('done 1');
    expect(w.batches).toEqual([[1], [2, 3, 4]]);
    await w.endOne();
    expect(await Promise.all(later)).toEqual(['done 2', 'done 3', 'done 4']);
  });

  it('keeps to its batch size and to the number of batches in flight', async () => {
    const w = controlledWrite();
    const group = new GroupCommit(w.write, { maxInFlight: 2, maxBatch: 3 });
    const all = Array.from({ length: 9 }, (_, i) => group.add(i));
    expect(w.batches).toEqual([[0], [1]]);
    while (w.batches.length < 5) await w.endOne();
    await w.endOne();
    await w.endOne();
    expect(await Promise.all(all)).toEqual(
      Array.from({ length: 9 }, (_, i) => `done ${i}`),
    );
    expect(w.batches).toEqual([[0], [1], [2, 3, 4], [5, 6, 7], [8]]);
    expect(w.maxInFlight()).toBe(2);
  });

  it('writes a failed batch again item by item, so only the bad item fails', async () => {
    const w = controlledWrite(item => item === 3);
    const group = new GroupCommit(w.write, { maxInFlight: 1, maxBatch: 10 });
    const first = group.add(1);
    const rest = [2, 3, 4].map(i =>
      group.add(i).then(
        r => r,
        (e: Error) => `failed: ${e.message}`,
      ),
    );
    await w.endOne(); // [1]
    await w.endOne(); // [2, 3, 4] fails
    await w.endOne(); // [2]
    await w.endOne(); // [3] fails
    await w.endOne(); // [4]
    expect(await first).toBe('done 1');
    expect(await Promise.all(rest)).toEqual([
      'done 2',
      'failed: bad item in 3',
      'done 4',
    ]);
    expect(w.batches).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });
});
