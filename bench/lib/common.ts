/*
 * Shared helpers of the benchmarks: arguments, a quiet logger, statistics,
 * timing wrappers, and the result protocol the runner (bench/run.mjs) reads.
 *
 * Every benchmark script prints its progress to stderr and, at the end, one
 * line `BENCH_JSON <json>` to stdout with its rows. Nothing here asserts a
 * time: the figures are printed, and judged by people.
 */
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import type { LoggerService } from '@backstage/backend-plugin-api';

export type Size = 'small' | 'full';
export type DbKind = 'sqlite' | 'postgres';

/** `--key value` and `--flag` arguments. */
export function parseArgs(
  argv = process.argv.slice(2),
): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      out[a.slice(2)] = argv[++i];
    } else {
      out[a.slice(2)] = 'true';
    }
  }
  return out;
}

export function sizeOf(args: Record<string, string>): Size {
  const s = args.size ?? 'small';
  if (s !== 'small' && s !== 'full')
    throw new Error(`--size small|full, got ${s}`);
  return s;
}

export function dbOf(args: Record<string, string>): DbKind {
  const d = args.db ?? 'sqlite';
  if (d !== 'sqlite' && d !== 'postgres') {
    throw new Error(`--db sqlite|postgres, got ${d}`);
  }
  return d;
}

/** Progress lines go to stderr, so stdout carries only the result line. */
export function log(...parts: unknown[]): void {
  process.stderr.write(`${parts.map(String).join(' ')}\n`);
}

/** A LoggerService that keeps warnings and errors (and counts them) and drops the rest. */
export function quietLogger(tag = 'bench'): LoggerService & {
  counts: { warn: number; error: number };
} {
  const counts = { warn: 0, error: 0 };
  const make = (prefix: string): any => ({
    counts,
    info: () => {},
    debug: () => {},
    warn: (m: string) => {
      counts.warn++;
      if (counts.warn <= 5) log(`[${prefix}] WARN ${m}`);
    },
    error: (m: string) => {
      counts.error++;
      if (counts.error <= 5) log(`[${prefix}] ERROR ${m}`);
    },
    child: (meta: Record<string, unknown>) =>
      make(`${prefix}:${Object.values(meta).join(',')}`),
  });
  return make(tag);
}

export const sleep = (ms: number) =>
  new Promise<void>(resolve => setTimeout(resolve, ms));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return sorted[idx];
}

export interface Stats {
  n: number;
  sum: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    sum,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/**
 * Wraps async methods of an object (or a prototype) so each call's duration
 * is recorded under its name. Returns the recorder and a function that puts
 * the original methods back.
 */
export class Timings {
  readonly samples = new Map<string, number[]>();

  record(name: string, ms: number): void {
    let list = this.samples.get(name);
    if (!list) this.samples.set(name, (list = []));
    list.push(ms);
  }

  wrap<T extends object>(
    target: T,
    methods: string[],
    prefix = '',
  ): () => void {
    const originals: [string, unknown][] = [];
    for (const name of methods) {
      const original = (target as any)[name];
      if (typeof original !== 'function') continue;
      originals.push([name, original]);
      const timings = this;
      (target as any)[name] = function timed(
        this: unknown,
        ...args: unknown[]
      ) {
        const t0 = performance.now();
        const done = () =>
          timings.record(`${prefix}${name}`, performance.now() - t0);
        const result = original.apply(this, args);
        if (result && typeof (result as Promise<unknown>).then === 'function') {
          return (result as Promise<unknown>).finally(done);
        }
        done();
        return result;
      };
    }
    return () => {
      for (const [name, original] of originals)
        (target as any)[name] = original;
    };
  }

  summary(): Record<string, Stats> {
    const out: Record<string, Stats> = {};
    for (const [name, values] of this.samples) out[name] = stats(values);
    return out;
  }

  reset(): void {
    this.samples.clear();
  }
}

/** One line of the results table. */
export interface Row {
  bench: string;
  db: string;
  metric: string;
  value: number | string;
  unit?: string;
  target?: string;
  note?: string;
}

export interface BenchOutput {
  rows: Row[];
  /** Extra material for the results file (markdown), e.g. EXPLAIN plans. */
  appendix?: string;
}

export function emit(output: BenchOutput): void {
  process.stdout.write(`BENCH_JSON ${JSON.stringify(output)}\n`);
}

export const round = (v: number, digits = 2) =>
  Number.isFinite(v) ? Number(v.toFixed(digits)) : v;

/** `uptime` load averages, to put next to the figures (machines are shared). */
export function loadNow(): string {
  try {
    const out = execFileSync('uptime', { encoding: 'utf8' }).trim();
    const m = /load average[s]?:\s*(.*)$/.exec(out);
    return m ? m[1] : out;
  } catch {
    return 'n/a';
  }
}

export function mb(bytes: number): number {
  return round(bytes / 1024 / 1024, 1);
}

/** Runs `main`, emits its rows, and exits (non-zero with the error on failure). */
export function runMain(main: () => Promise<BenchOutput>): void {
  main().then(
    output => {
      emit(output);
      process.exit(0);
    },
    error => {
      const text = String(error?.stack ?? error);
      log(
        `FAILED: ${
          text.length > 3000
            ? `${text.slice(0, 1500)} ... ${text.slice(-1500)}`
            : text
        }`,
      );
      process.exit(1);
    },
  );
}

/**
 * Times every SQL statement a knex instance runs, grouped by its text
 * (knex 'query' / 'query-response' / 'query-error' events).
 */
export class QueryTimer {
  private readonly started = new Map<string, { sql: string; t0: number }>();
  readonly bySql = new Map<string, number[]>();
  private readonly onQuery = (q: any) => {
    this.started.set(q.__knexQueryUid, { sql: q.sql, t0: performance.now() });
  };
  private readonly onEnd = (_r: unknown, q: any) => {
    const s = this.started.get(q.__knexQueryUid);
    if (!s) return;
    this.started.delete(q.__knexQueryUid);
    const key = s.sql.replace(/\s+/g, ' ').replace(/\((\?, )+\?\)/g, '(?...)');
    let list = this.bySql.get(key);
    if (!list) this.bySql.set(key, (list = []));
    list.push(performance.now() - s.t0);
  };

  constructor(
    private readonly db: {
      on: Function;
      off?: Function;
      removeListener: Function;
    },
  ) {
    db.on('query', this.onQuery);
    db.on('query-response', this.onEnd);
    db.on('query-error', (e: unknown, q: any) => this.onEnd(e, q));
  }

  stop(): void {
    this.db.removeListener('query', this.onQuery);
    this.db.removeListener('query-response', this.onEnd);
  }

  reset(): void {
    this.bySql.clear();
  }

  /** Statements by total time, with count and mean (ms). */
  top(
    n = 15,
  ): { sql: string; count: number; totalMs: number; meanMs: number }[] {
    return [...this.bySql]
      .map(([sql, v]) => {
        const total = v.reduce((a, b) => a + b, 0);
        return {
          sql,
          count: v.length,
          totalMs: total,
          meanMs: total / v.length,
        };
      })
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, n);
  }

  /** A markdown table of top(n). */
  markdown(title: string, n = 15): string {
    const lines = [
      `#### ${title}`,
      '',
      '| total ms | count | mean ms | statement |',
      '| ---: | ---: | ---: | --- |',
      ...this.top(n).map(
        t =>
          `| ${t.totalMs.toFixed(0)} | ${t.count} | ${t.meanMs.toFixed(
            3,
          )} | \`${t.sql.slice(0, 260).replace(/\|/g, '\\|')}\` |`,
      ),
    ];
    return lines.join('\n');
  }
}

/** Time spent waiting for a connection from a knex pool (tarn events). */
export class PoolWaitTimer {
  private readonly pending = new Map<number, number>();
  readonly waits: number[] = [];
  constructor(db: any) {
    const pool = db?.client?.pool;
    if (!pool?.on) return;
    pool.on('acquireRequest', (id: number) =>
      this.pending.set(id, performance.now()),
    );
    pool.on('acquireSuccess', (id: number) => {
      const t0 = this.pending.get(id);
      if (t0 !== undefined) {
        this.pending.delete(id);
        this.waits.push(performance.now() - t0);
      }
    });
  }
  reset(): void {
    this.waits.length = 0;
  }
}
