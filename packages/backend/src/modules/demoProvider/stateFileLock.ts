/*
 * SIMULATION support. An exclusive lock between the processes that share one
 * demo state file (two backend replicas), so a read-modify-write of the file
 * by one process never loses the change of another.
 *
 * The lock is a file `<state file>.lock` holding `<pid> <token>`. It is
 * created atomically with link(2) (fails when it exists). A lock whose pid no
 * longer runs was left by a killed process: it is moved aside atomically with
 * rename(2) and only deleted when the moved file is still that dead holder's
 * (else it is put back). This is exact for processes on one host, which is
 * what a shared local state file means; it is not meant for network file
 * systems.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long to wait for the lock before giving up (a live holder hung). */
const DEFAULT_WAIT_MS = 30_000;

export function isProcessRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

export class StateFileLock {
  readonly lockFile: string;
  /** The content of the lock file while this instance holds it. */
  private held?: string;

  constructor(stateFile: string, private readonly waitMs = DEFAULT_WAIT_MS) {
    this.lockFile = `${stateFile}.lock`;
  }

  /** Runs `fn` while holding the lock. Callers in one process must not nest. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    const mine = `${process.pid} ${randomBytes(8).toString('hex')}`;
    const tmp = `${this.lockFile}.${process.pid}.${randomBytes(4).toString(
      'hex',
    )}.new`;
    // Written first, then linked: a reader never sees a half-written lock.
    fs.writeFileSync(tmp, mine, { mode: 0o600 });
    const deadline = Date.now() + this.waitMs;
    try {
      for (let round = 0; ; round++) {
        try {
          fs.linkSync(tmp, this.lockFile);
          this.held = mine;
          return;
        } catch (error) {
          if (code(error) !== 'EEXIST') throw error;
        }
        const holder = readOrUndefined(this.lockFile);
        if (holder !== undefined && this.isStale(holder)) {
          this.breakStale(holder);
          continue;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `The simulated credential store is locked by ${
              holder ?? 'another process'
            } for more than ${this.waitMs} ms (${this.lockFile})`,
          );
        }
        // Short, growing, jittered waits: the holder's critical section is
        // one read and one small write.
        await sleep(Math.min(20, 1 + round) * (0.5 + Math.random()));
      }
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /**
   * Stale: its process is gone, or it is an orphan of this very process (a
   * lock another process moved aside and put back after this one released).
   */
  private isStale(holder: string): boolean {
    const pid = Number(holder.split(' ')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return true;
    if (pid === process.pid) return holder !== this.held;
    return !isProcessRunning(pid);
  }

  private breakStale(holder: string): void {
    const aside = `${this.lockFile}.${process.pid}.${randomBytes(4).toString(
      'hex',
    )}.stale`;
    try {
      fs.renameSync(this.lockFile, aside);
    } catch (error) {
      if (code(error) === 'ENOENT') return; // someone else broke it
      throw error;
    }
    if (readOrUndefined(aside) === holder) {
      fs.rmSync(aside, { force: true });
      return;
    }
    // Between our read and the rename another process broke the stale lock
    // and took the lock itself: put its lock back.
    try {
      fs.linkSync(aside, this.lockFile);
    } catch (error) {
      if (code(error) !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(aside, { force: true });
    }
  }

  private release(): void {
    const mine = this.held;
    this.held = undefined;
    if (mine !== undefined && readOrUndefined(this.lockFile) === mine) {
      fs.rmSync(this.lockFile, { force: true });
    }
  }
}
