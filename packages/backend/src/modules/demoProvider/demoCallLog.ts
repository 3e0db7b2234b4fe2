/*
 * SIMULATION support: an append-only log of the calls the demo provider
 * received (one JSON object a line), so a test harness can count provider
 * calls across several backend processes and check that no two of them
 * worked on the same credential and action at the same time. It holds ids
 * and times only, never a secret.
 */
import fs from 'node:fs';

/** One line of the call log. */
export interface DemoCallLogLine {
  /** `start` when the call arrives, `end` when it answers (or is abandoned). */
  ev: 'start' | 'end';
  /** Unique per call: `<pid>-<n>`. */
  call: string;
  pid: number;
  provider: string;
  action: string;
  externalId?: string;
  retirementId?: string;
  stepId?: string;
  /** ms since the epoch. */
  at: number;
  /** end: whether the call changed the simulated store. */
  changed?: boolean;
  /** end: `ok`, or what went wrong (an injected fault, `aborted`, an error). */
  result?: string;
}

export class DemoCallLog {
  private counter = 0;

  constructor(readonly file: string) {}

  /** Logs the start of a call; returns the function that logs its end. */
  start(
    fields: Omit<DemoCallLogLine, 'ev' | 'call' | 'pid' | 'at'>,
  ): (end: { changed?: boolean; result: string }) => void {
    const call = `${process.pid}-${++this.counter}`;
    this.append({
      ev: 'start',
      call,
      pid: process.pid,
      at: Date.now(),
      ...fields,
    });
    let ended = false;
    return end => {
      if (ended) return;
      ended = true;
      this.append({
        ev: 'end',
        call,
        pid: process.pid,
        at: Date.now(),
        ...fields,
        ...end,
      });
    };
  }

  /**
   * One write(2) in append mode per line: lines of several processes never
   * interleave. Synchronous so the start line is on disk before the call acts.
   */
  private append(line: DemoCallLogLine): void {
    fs.appendFileSync(this.file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }
}
