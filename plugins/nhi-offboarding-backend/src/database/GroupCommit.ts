/**
 * Writes that arrive while earlier ones are being committed go together in
 * the next transaction ("group commit"). Nothing waits for a timer: with
 * nothing in flight an item is written at once, alone; under load each
 * transaction takes everything that queued up during the previous one, so
 * the fixed cost of a transaction (BEGIN, the locks, the evidence INSERT,
 * COMMIT) is paid once for many items.
 *
 * When a batch fails, its items are written again one by one, so one bad
 * item (or a deadlock between two batches) fails only its own caller.
 */
export class GroupCommit<T, R> {
  private readonly queue: {
    item: T;
    resolve: (r: R) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private inFlight = 0;

  constructor(
    /** Writes a batch in one transaction; one result per item, in order. */
    private readonly write: (batch: T[]) => Promise<R[]>,
    private readonly options: {
      /** Batches committed side by side (connections held at once). */
      maxInFlight: number;
      /** Items in one batch at most. */
      maxBatch: number;
    },
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.inFlight < this.options.maxInFlight) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight++;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        try {
          const results = await this.write(batch.map(b => b.item));
          batch.forEach((b, i) => b.resolve(results[i]));
        } catch (error) {
          if (batch.length === 1) {
            batch[0].reject(error);
            continue;
          }
          for (const b of batch) {
            try {
              b.resolve((await this.write([b.item]))[0]);
            } catch (alone) {
              b.reject(alone);
            }
          }
        }
      }
    } finally {
      this.inFlight--;
    }
  }
}
