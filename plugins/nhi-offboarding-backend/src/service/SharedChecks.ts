/**
 * A check that must read what is stored now (the evidence chain's
 * verification: a verdict kept from earlier would miss a record changed
 * since), run at most once at a time per key and shared by the callers
 * that asked before it started. A check starts on the turn of the event
 * loop after it was asked for, so the requests read in the same turn share
 * it (on SQLite a check runs to its end without letting another request in,
 * so there is no "meanwhile" otherwise); a caller arriving while a check of
 * its key is under way waits for the next one, which starts when that one
 * ends and is shared with everyone who arrives before it starts. No caller
 * gets an answer from reads that began before it asked (as fresh as running
 * its own), and fifty readers of one chain cost a check or two, not fifty.
 */
export class SharedChecks<T> {
  /** The check of a key under way. */
  private readonly running = new Map<string, Promise<T>>();
  /** The check of a key not started yet, shared by whoever asks for it. */
  private readonly next = new Map<string, Promise<T>>();

  run(key: string, check: () => Promise<T>): Promise<T> {
    const queued = this.next.get(key);
    if (queued) return queued;
    const start = (): Promise<T> => {
      this.next.delete(key);
      const run = check();
      this.running.set(key, run);
      const ended = () => {
        if (this.running.get(key) === run) this.running.delete(key);
      };
      run.then(ended, ended);
      return run;
    };
    // The running check's outcome is its callers'; this one waits for it
    // to end either way.
    const running = this.running.get(key);
    const waiting = (
      running ? running.then(nextTurn, nextTurn) : nextTurn()
    ).then(start);
    this.next.set(key, waiting);
    return waiting;
  }
}

function nextTurn(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}
