/*
 * Benchmark 5, "API at scale": seed a world straight into the tables
 * (small: 1,000 entities, 50,000 anchors, 1,001 retirements, ~100,000
 * evidence records, one retirement of 501 steps), start the backend in a
 * SEPARATE process (bench/lib/api-server.ts), and load it from this process
 * with autocannon (50 connections) endpoint by endpoint: p50/p95/p99 and
 * requests/s. Then the SQL each endpoint runs is captured from the store and
 * explained (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite),
 * to show which queries need an index.
 *
 * Usage: node --require <nodeTransform> bench/api-scale.ts --db sqlite|postgres
 *   [--size small] [--duration 10] [--connections 50] [--reps 1]
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { Client } from 'pg';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const autocannon = require('autocannon');
import { mockCredentials } from '@backstage/backend-test-utils';
import { RetirementStore } from '../plugins/nhi-offboarding-backend/src/database/RetirementStore';
import {
  BenchOutput,
  Row,
  dbOf,
  loadNow,
  log,
  parseArgs,
  round,
  runMain,
  sizeOf,
  stats,
} from './lib/common';
import { PG_URL, createBenchDb } from './lib/db';
import type { Knex } from 'knex';
import { BIG_REF, SCALE, entityName, seedScale } from './lib/scaleData';

const ROOT = join(__dirname, '..');
const TRANSFORM = require.resolve(
  '@backstage/cli-node/config/nodeTransform.cjs',
  { paths: [ROOT] },
);

function startServer(
  args: string[],
): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        // BENCH_API_CPU_PROF=<dir>: CPU profiles of the server process, one
        // per loaded endpoint (its 50-connection window only; see
        // lib/api-server.ts; summarise with lib/profile-summary.mjs).
        '--require',
        TRANSFORM,
        join(__dirname, 'lib', 'api-server.ts'),
        ...args,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    const timer = setTimeout(
      () =>
        reject(
          new Error(`api-server did not start in 600 s: ${err.slice(-2000)}`),
        ),
      600_000,
    );
    child.stdout.on('data', d => {
      out += d;
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          pid: child.pid!,
          stop: () =>
            new Promise<void>(done => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
              setTimeout(() => {
                child.kill('SIGKILL');
                done();
              }, 10_000).unref();
            }),
        });
      }
    });
    child.stderr.on('data', d => {
      err += d;
      if (err.length > 100_000) err = err.slice(-20_000);
    });
    child.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`api-server exited (${code}): ${err.slice(-2000)}`));
    });
  });
}

/** With BENCH_API_CPU_PROF: starts, or stops and writes, the server's profile. */
function profileWindow(pid: number): void {
  if (process.env.BENCH_API_CPU_PROF) process.kill(pid, 'SIGUSR2');
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * CPU time (user + system) a process has used, in ms: the server's cost of
 * a load, steadier than its throughput on a machine shared with other work.
 * /proc counts clock ticks, 100 a second on Linux (USER_HZ).
 */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime, stime
    // are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * CPU time, in ms, of every PostgreSQL server process by pid (its backends,
 * one per pooled connection, and its background workers): on PostgreSQL a
 * read's cost is split between the server process and these, which share
 * the same two cores. SQLite runs inside the server process.
 */
function postgresCpuMs(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm === 'postgres') byPid.set(Number(entry), cpuMsOf(Number(entry)));
    } catch {
      // the process ended while being read
    }
  }
  return byPid;
}

/**
 * PostgreSQL's CPU during a load: each process's growth from its first
 * reading to its last, read every second, so a backend the pool closes
 * during the load keeps what it used up to its last reading (and one that
 * began during it counts whole).
 */
function meterPostgresCpu(): { stop(): number } {
  const first = postgresCpuMs();
  const last = new Map(first);
  const read = () => {
    for (const [pid, ms] of postgresCpuMs()) {
      if (!first.has(pid)) first.set(pid, 0);
      if (Number.isFinite(ms) && ms >= (last.get(pid) ?? 0)) last.set(pid, ms);
    }
  };
  const timer = setInterval(read, 1000);
  return {
    stop() {
      clearInterval(timer);
      read();
      let ms = 0;
      for (const [pid, end] of last) ms += end - (first.get(pid) ?? 0);
      return ms;
    },
  };
}

/** The item whose measure is the median (the lower middle for an even count). */
function medianBy<T>(items: T[], measure: (item: T) => number): T {
  const sorted = [...items].sort((x, y) => measure(x) - measure(y));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function load(
  port: number,
  header: string,
  path: () => string,
  seconds: number,
  connections: number,
  headers: Record<string, string> = {},
  serverPid?: number,
  database?: 'sqlite' | 'postgres',
) {
  const latencies: number[] = [];
  const codes = new Map<number, number>();
  let bytes = 0;
  const cpu0 = serverPid ? cpuMsOf(serverPid) : NaN;
  const dbMeter = database === 'postgres' ? meterPostgresCpu() : undefined;
  const t0 = performance.now();
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    timeout: 60,
    headers: { authorization: header, ...headers },
    requests: [
      { method: 'GET', setupRequest: (req: any) => ({ ...req, path: path() }) },
    ],
  });
  instance.on(
    'response',
    (
      _client: unknown,
      statusCode: number,
      resBytes: number,
      responseTime: number,
    ) => {
      latencies.push(responseTime);
      codes.set(statusCode, (codes.get(statusCode) ?? 0) + 1);
      bytes += resBytes;
    },
  );
  const result = await instance;
  const ms = performance.now() - t0;
  const cpuMs = serverPid ? cpuMsOf(serverPid) - cpu0 : NaN;
  const dbCpuMs = dbMeter ? dbMeter.stop() : NaN;
  const s = stats(latencies);
  return {
    ...s,
    rps: (latencies.length / ms) * 1000,
    /** Server CPU per request, µs. */
    cpuUs: (cpuMs * 1000) / latencies.length,
    /** PostgreSQL's CPU per request, µs (NaN on SQLite). */
    dbCpuUs: (dbCpuMs * 1000) / latencies.length,
    codes: [...codes].map(([c, n]) => `${c}x${n}`).join(' '),
    errors: result.errors + result.timeouts,
    meanBytes: latencies.length ? bytes / latencies.length : 0,
  };
}

interface Captured {
  label: string;
  sql: string;
  bindings: unknown[];
}

/** The world a previous --persist run seeded, or undefined when there is none. */
async function seededWorld(knex: Knex) {
  const big = await knex('nhi_retirements')
    .where('entity_ref', BIG_REF)
    .first('id')
    .catch(() => undefined);
  if (!big) return undefined;
  const count = async (table: string) =>
    Number((await knex(table).count({ n: '*' }).first())!.n);
  return {
    bigId: big.id as string,
    counts: {
      anchors: await count('nhi_anchors'),
      retirements: await count('nhi_retirements'),
      steps: await count('nhi_steps'),
      evidence: await count('nhi_evidence'),
    },
  };
}

const CATALOG_BY_NAME = 'GET catalog entities/by-name (yardstick)';
const SETTLED_FIRST_READS = 'GET a settled retirement of 1,000 (first page)';
const RUNNING_FIRST_READS = 'GET a running retirement of 1,000 (first page)';
/** Endpoints whose load reads most retirements for the first time. */
const FIRST_READS = new Set([SETTLED_FIRST_READS, RUNNING_FIRST_READS]);

async function main(): Promise<BenchOutput> {
  const args = parseArgs();
  const size = sizeOf(args);
  const dbKind = dbOf(args);
  const spec = SCALE[size];
  const seconds = Number(args.duration ?? 10);
  const connections = Number(args.connections ?? 50);
  // --reps N: N loaded windows per endpoint, each after its own catalog
  // window; the ratios are their median (p99 of one 10 s window on this
  // shared machine moved by a third between runs of the same code).
  const reps = Number(args.reps ?? 1);
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps N (N >= 1)');
  const rows: Row[] = [];
  const row = (
    metric: string,
    value: number | string,
    unit?: string,
    extra: Partial<Row> = {},
  ) =>
    rows.push({
      bench: '5 API at scale',
      db: dbKind,
      metric,
      value,
      unit,
      ...extra,
    });
  const appendix: string[] = [];

  // --persist: seed once into a database that outlives the run
  // (SQLite /tmp/nhi-bench-scale-<size>/, PostgreSQL
  // nhi_bench_scale_<size>_nhi-offboarding) and reuse it next time.
  const persist = args.persist === 'true';
  // Components the real catalog is given (see lib/api-server.ts).
  const catalogLimit = Number(
    args['catalog-limit'] ?? (size === 'full' ? 2000 : spec.entities),
  );
  const db = await createBenchDb(
    dbKind,
    'b5',
    persist
      ? {
          attach: {
            sqliteDir: `/tmp/nhi-bench-scale-${size}`,
            pgPrefix: `nhi_bench_scale_${size}_`,
          },
        }
      : {},
  );
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const t0 = performance.now();
    const reused = persist ? await seededWorld(db.knex) : undefined;
    const seeded = reused ?? (await seedScale(db.knex, spec));
    // As autovacuum leaves a long-lived database: statistics, and the
    // visibility map that lets index-only scans skip the table (without it
    // the list's marks of 50 retirements were 3x slower on a fresh seed).
    if (dbKind === 'postgres' && !reused) await db.knex.raw('VACUUM (ANALYZE)');
    const seedMs = performance.now() - t0;
    row(
      'seeded',
      `${seeded.counts.anchors} anchors, ${seeded.counts.retirements} retirements, ${seeded.counts.steps} steps, ${seeded.counts.evidence} evidence`,
      '',
      {
        note: `${spec.entities} entities; ${
          reused
            ? `reused the database seeded earlier (${db.where})`
            : `seeded in ${round(
                seedMs / 1000,
                1,
              )} s (multi-row INSERTs, 100 entities per transaction)`
        }`,
      },
    );
    if (args['seed-only'] === 'true') return { rows, appendix: '' };
    log(
      `bench 5 seeded ${JSON.stringify(seeded.counts)} in ${round(
        seedMs / 1000,
        1,
      )} s on ${db.where}`,
    );

    server = await startServer([
      '--catalog-limit',
      String(catalogLimit),
      '--db',
      dbKind,
      '--size',
      size,
      ...(db.attach.sqliteDir ? ['--sqlite-dir', db.attach.sqliteDir] : []),
      ...(db.attach.pgPrefix ? ['--pg-prefix', db.attach.pgPrefix] : []),
    ]);
    log(`api-server pid ${server.pid} on port ${server.port}`);
    const header = mockCredentials.user.header('user:default/alice');
    // The steps cursor after the 250th step of the big retirement.
    const bigStepCursor = await (async () => {
      const res = await fetch(
        `http://127.0.0.1:${server!.port}/api/nhi-offboarding/retirements/${
          seeded.bigId
        }/steps?limit=250`,
        { headers: { authorization: header } },
      );
      const body = await res.json();
      if (!body.nextCursor)
        throw new Error(
          `no steps cursor: ${JSON.stringify(body).slice(0, 300)}`,
        );
      return encodeURIComponent(body.nextCursor);
    })();
    const liveEntities = Array.from(
      { length: spec.entities },
      (_, i) => i,
    ).filter(i => i % 50 !== 49 && i < catalogLimit);
    const pick = () =>
      liveEntities[Math.floor(Math.random() * liveEntities.length)];
    const idsOf = async (status: string) =>
      (
        await db
          .knex('nhi_retirements')
          .where('status', status)
          .whereNot('id', seeded.bigId)
          .orderBy('id')
          .limit(1000)
          .select('id')
      ).map((r: { id: string }) => r.id as string);
    const settledIds = await idsOf('completed');
    const runningIds = await idsOf('running');
    const pickOf = (ids: string[]) =>
      ids[Math.floor(Math.random() * ids.length)];
    const base = '/api/nhi-offboarding';
    // The Retire tab polls a running retirement; its browser sends the ETag
    // of the answer it holds (If-None-Match) and gets a 304 while nothing
    // changed. (max-age=0 as a browser revalidating: fetch() would add
    // no-cache, which asks for the whole answer.)
    const bigEtag = (
      await fetch(
        `http://127.0.0.1:${server.port}/api/nhi-offboarding/retirements/${seeded.bigId}`,
        { headers: { authorization: header } },
      )
    ).headers.get('etag');
    if (!bigEtag) throw new Error('GET /retirements/{id} sent no ETag');
    const endpoints: [string, () => string, Record<string, string>?][] = [
      // The yardstick: the catalog's own read of one entity, same process, same run,
      // first, before any endpoint can leave a queue behind.
      [
        CATALOG_BY_NAME,
        () =>
          `/api/catalog/entities/by-name/component/default/${entityName(
            pick(),
          )}`,
      ],
      [
        'GET anchors of one entity (50)',
        () =>
          `${base}/entities/component/default/${entityName(
            pick(),
          )}/trust-anchors`,
      ],
      // The Retire tab's reads of the 501-step retirement: the retirement
      // with its progress and first page of steps, a later page of steps
      // (the cursor after step 250), a page of its evidence from the middle
      // of the chain. `?steps=all` and `format=export` are the whole thing.
      [
        'GET retirement with 501 steps (first page of 50)',
        () => `${base}/retirements/${seeded.bigId}`,
      ],
      [
        'GET it again, unchanged (If-None-Match: 304)',
        () => `${base}/retirements/${seeded.bigId}`,
        { 'if-none-match': bigEtag, 'cache-control': 'max-age=0' },
      ],
      // The same read spread over 1,000 other retirements: settled ones
      // (first read of each from the database, then from memory) and
      // running ones (no engine runs here, so their steps stay as seeded:
      // first read from the database, then from memory, like settled ones).
      [SETTLED_FIRST_READS, () => `${base}/retirements/${pickOf(settledIds)}`],
      [RUNNING_FIRST_READS, () => `${base}/retirements/${pickOf(runningIds)}`],
      [
        'GET its steps (page of 50, cursor)',
        () =>
          `${base}/retirements/${seeded.bigId}/steps?limit=50&cursor=${bigStepCursor}`,
      ],
      [
        'GET its evidence (page of 50 of 503)',
        () =>
          `${base}/retirements/${seeded.bigId}/evidence?limit=50&afterSeq=250`,
      ],
      [
        'GET its evidence/verify',
        () => `${base}/retirements/${seeded.bigId}/evidence/verify`,
      ],
      ['GET retirements list (limit 50)', () => `${base}/retirements?limit=50`],
      [
        'GET retirements of one entity',
        () =>
          `${base}/retirements?entityRef=${encodeURIComponent(
            `component:default/${entityName(pick())}`,
          )}`,
      ],
      [
        'GET residual-access (page of 100)',
        () => `${base}/residual-access?limit=100`,
      ],
    ];
    // --only <regex>: load only the matching endpoints (and the yardstick).
    if (args.only) {
      const only = new RegExp(String(args.only), 'i');
      for (let i = endpoints.length - 1; i > 0; i--) {
        if (!only.test(endpoints[i][0])) endpoints.splice(i, 1);
      }
    }
    // Warm-up: one request each, so the first-request costs stay out.
    for (const [, p, extra] of endpoints) {
      const res = await fetch(`http://127.0.0.1:${server.port}${p()}`, {
        headers: { authorization: header, ...extra },
      });
      const body = await res.text();
      if (res.status !== (extra?.['if-none-match'] ? 304 : 200))
        throw new Error(`${p()}: ${res.status} ${body.slice(0, 300)}`);
    }
    // Each endpoint against the catalog's read measured just before it: the
    // machine's speed drifts (other work shares it), and a yardstick taken
    // minutes earlier made ratios of 0.7 and 1.3 out of the same code.
    const catalogPath = endpoints[0][1];
    type Loaded = Awaited<ReturnType<typeof load>>;
    /** One loaded window of an endpoint and the catalog's just before it. */
    type Pair = { r: Loaded; catalog: Loaded };
    const compared: { name: string; pairs: Pair[] }[] = [];
    const loaded = (path: () => string, extra?: Record<string, string>) =>
      load(
        server!.port,
        header,
        path,
        seconds,
        connections,
        extra,
        server!.pid,
        dbKind,
      );
    for (const [name, path, extra] of endpoints) {
      // Unloaded first (1 connection), then the load.
      const one = await load(
        server.port,
        header,
        path,
        Math.max(2, Math.round(seconds / 5)),
        1,
        extra,
      );
      // A first read happens once: its windows are not repeated.
      const windows =
        name === CATALOG_BY_NAME || FIRST_READS.has(name) ? 1 : reps;
      const pairs: Pair[] = [];
      for (let rep = 0; rep < windows; rep++) {
        const catalog =
          name === CATALOG_BY_NAME ? undefined : await loaded(catalogPath);
        profileWindow(server.pid);
        const r = await loaded(path, extra);
        profileWindow(server.pid);
        if (catalog) pairs.push({ r, catalog });
        else pairs.push({ r, catalog: r });
      }
      if (name !== CATALOG_BY_NAME) compared.push({ name, pairs });
      // The row shows the window with the median p99 ratio.
      const { r, catalog } = medianBy(pairs, p => p.r.p99 / p.catalog.p99);
      row(
        name,
        `${round(r.p50, 0)} / ${round(r.p95, 0)} / ${round(r.p99, 0)}`,
        `ms p50/p95/p99 @${connections}`,
        {
          note: `${round(r.rps, 0)} req/s (${round(
            1000 / r.rps,
            1,
          )} ms of server per request, ${round(r.cpuUs, 0)} µs of its CPU${
            dbKind === 'postgres'
              ? ` and ${round(r.dbCpuUs, 0)} µs of PostgreSQL's`
              : ''
          }), ${r.n} requests (${r.codes}${
            r.errors ? `, ${r.errors} errors/timeouts` : ''
          }), ${round(
            r.meanBytes / 1024,
            1,
          )} KiB each; 1 connection: p50 ${round(one.p50, 0)} / p99 ${round(
            one.p99,
            0,
          )} ms; server RSS ${round(
            rssOf(server.pid),
            0,
          )} MB; load ${loadNow()}${
            name !== CATALOG_BY_NAME
              ? `; the catalog just before: p99 ${round(
                  catalog.p99,
                  0,
                )} ms, ${round(catalog.rps, 0)} req/s`
              : ''
          }${
            pairs.length > 1
              ? `; p99 of its ${pairs.length} windows: ${pairs
                  .map(x => round(x.r.p99, 0))
                  .join(', ')} ms (the catalog's: ${pairs
                  .map(x => round(x.catalog.p99, 0))
                  .join(', ')})`
              : ''
          }`,
        },
      );
      log(
        `  ${name}: p50 ${round(r.p50, 0)} p95 ${round(r.p95, 0)} p99 ${round(
          r.p99,
          0,
        )} ms, ${round(r.rps, 0)} req/s, ${r.codes}`,
      );
    }
    /** Each endpoint's median ratio over its windows, and all of them. */
    const ratios = (of: (pair: Pair) => number) =>
      compared
        .map(({ name, pairs }) => {
          const each = pairs.map(of);
          const all =
            each.length > 1
              ? ` (${each.map(x => round(x, 2)).join(', ')})`
              : '';
          return `${name.replace(/^GET /, '')} ${round(
            stats(each).p50,
            2,
          )}${all}`;
        })
        .join('; ');
    const catalogP99s = compared.flatMap(c => c.pairs.map(p => p.catalog.p99));
    const windowsNote =
      reps > 1
        ? `; the median of ${reps} windows each (in brackets), but one for the first reads of 1,000 retirements`
        : '';
    row(
      'p99 / catalog by-name p99',
      ratios(p => p.r.p99 / p.catalog.p99),
      'ratio',
      {
        target: '≤ 1 and p99 < 50 ms',
        note: `each against the catalog's by-name measured just before it (p99 ${round(
          Math.min(...catalogP99s),
          0,
        )}–${round(
          Math.max(...catalogP99s),
          0,
        )} ms @${connections})${windowsNote}`,
      },
    );
    row(
      'req/s / catalog by-name req/s',
      ratios(p => p.r.rps / p.catalog.rps),
      'ratio',
      {
        note: `throughput, each against the catalog just before it${windowsNote}`,
      },
    );
    row(
      'server CPU per request / catalog by-name',
      ratios(p => p.r.cpuUs / p.catalog.cpuUs),
      'ratio',
      {
        note: `CPU time of the server process per request (/proc), each against the catalog just before it: steadier than throughput on a shared machine${windowsNote}`,
      },
    );
    if (dbKind === 'postgres') {
      // The catalog's database is the same PostgreSQL server, so both sides
      // of each ratio count the same processes.
      const dbCpus = compared.flatMap(c => c.pairs.map(p => p.catalog.dbCpuUs));
      row(
        'server + PostgreSQL CPU per request / catalog by-name',
        ratios(
          p =>
            (p.r.cpuUs + p.r.dbCpuUs) / (p.catalog.cpuUs + p.catalog.dbCpuUs),
        ),
        'ratio',
        {
          note: `the server's CPU and that of every PostgreSQL process (backends and background workers, /proc) per request; the catalog's PostgreSQL CPU: ${round(
            Math.min(...dbCpus),
            0,
          )}–${round(Math.max(...dbCpus), 0)} µs per request${windowsNote}`,
        },
      );
    }
    await server.stop();
    server = undefined;

    // ---- the SQL behind those endpoints (and the engine's hot queries), explained
    const store = new RetirementStore(db.knex);
    const running = (
      await db.knex('nhi_retirements').where('status', 'running').first('id')
    ).id;
    // The engine's claim at this scale (100 running retirements with open
    // steps, 100 needing attention, 800 completed): mean of 20 claim passes.
    const claimMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await store.claimSteps({
        workerId: 'bench-claim',
        limit: 16,
        leaseMs: 30_000,
        now: new Date(),
      });
      claimMs.push(performance.now() - t);
    }
    const cs = stats(claimMs);
    row('engine claimSteps at this scale', round(cs.mean, 1), 'ms mean', {
      note: `20 passes of up to 16 steps; p50 ${round(cs.p50, 1)}, max ${round(
        cs.max,
        1,
      )} (bench 1 small: ~2 ms SQLite)`,
    });
    const mutateMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await store.setHold(
        running,
        'user:default/bench',
        i % 2 === 0,
        'bench',
        new Date(),
      );
      mutateMs.push(performance.now() - t);
    }
    const ms2 = stats(mutateMs);
    row(
      'one state change (mutate) at this scale',
      round(ms2.mean, 1),
      'ms mean',
      {
        note: `setHold x20 on a running retirement; p50 ${round(
          ms2.p50,
          1,
        )}, max ${round(ms2.max, 1)}`,
      },
    );

    const captured: Captured[] = [];
    let label = '';
    const onQuery = (q: any) => {
      if (/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(q.sql)) return;
      captured.push({ label, sql: q.sql, bindings: q.bindings ?? [] });
    };
    db.knex.on('query', onQuery);
    const steps: [string, () => Promise<unknown>][] = [
      [
        'anchors of one entity',
        () => store.listAnchors(`component:default/${entityName(1)}`),
      ],
      [
        'retirement with its first page of steps',
        async () => {
          await store.getRetirement(seeded.bigId, { withSteps: false });
          await store.listStepsJson(seeded.bigId, { limit: 50 });
        },
      ],
      [
        'a later page of steps',
        async () => {
          const first = await store.listStepsJson(seeded.bigId, { limit: 250 });
          await store.listStepsJson(seeded.bigId, {
            limit: 50,
            cursor: first.nextCursor,
          });
        },
      ],
      [
        'steps filtered by status',
        () =>
          store.listStepsJson(seeded.bigId, { limit: 50, status: ['failed'] }),
      ],
      [
        'evidence page',
        () => store.getEvidencePage(seeded.bigId, { limit: 50, afterSeq: 250 }),
      ],
      ['retirements list', () => store.listRetirements({ limit: 50 })],
      [
        'retirements of one entity',
        () =>
          store.listRetirements({
            limit: 50,
            entityRef: `component:default/${entityName(1)}`,
          }),
      ],
      [
        'residual access page',
        () => store.listLiveAnchors({ limit: 1000, afterId: 'anc_8' }),
      ],
      [
        'engine: claim',
        () =>
          store.claimSteps({
            workerId: 'bench-explain',
            limit: 16,
            leaseMs: 30_000,
            now: new Date(),
          }),
      ],
      [
        'engine: state change (mutate)',
        () =>
          store.setHold(
            running,
            'user:default/bench',
            true,
            'explain',
            new Date(),
          ),
      ],
      ['engine: startPending', () => store.startPending(new Date())],
    ];
    for (const [l, fn] of steps) {
      label = l;
      await fn();
    }
    db.knex.removeListener('query', onQuery);
    const seen = new Set<string>();
    const unique = captured.filter(c =>
      seen.has(c.sql) ? false : (seen.add(c.sql), true),
    );
    appendix.push(
      `#### Benchmark 5 on ${dbKind}: query plans of the endpoints' SQL (${seeded.counts.anchors} anchors, ${seeded.counts.steps} steps, ${seeded.counts.evidence} evidence)`,
      '',
    );
    const scans: string[] = [];
    if (dbKind === 'postgres') {
      const u = new URL(PG_URL);
      const client = new Client({
        host: u.hostname,
        port: Number(u.port || 5432),
        user: decodeURIComponent(u.username || 'postgres'),
        password: u.password ? decodeURIComponent(u.password) : undefined,
        database: `${db.attach.pgPrefix}nhi-offboarding`,
      });
      await client.connect();
      try {
        for (const c of unique) {
          const write = /^\s*(insert|update|delete)/i.test(c.sql);
          const sql = c.sql.replace(
            /\s+for update(\s+of\s+"?\w+"?)?(\s+skip locked)?/i,
            '',
          );
          const res = await client
            .query({
              text: `EXPLAIN (${write ? 'COSTS' : 'ANALYZE, BUFFERS'}) ${sql}`,
              values: c.bindings as any[],
            })
            .catch((e: Error) => ({
              rows: [{ 'QUERY PLAN': `EXPLAIN failed: ${e.message}` }],
            }));
          const plan = res.rows.map((r: any) => r['QUERY PLAN']).join('\n');
          const seq = /Seq Scan on (\w+)/.exec(plan);
          const time = /Execution Time: ([\d.]+) ms/.exec(plan);
          if (seq)
            scans.push(
              `${c.label}: Seq Scan on ${seq[1]}${
                time ? ` (${time[1]} ms)` : ''
              }`,
            );
          appendix.push(
            `**${c.label}**${time ? ` — ${time[1]} ms` : ''}`,
            '',
            '```sql',
            c.sql,
            '```',
            '',
            '```',
            plan,
            '```',
            '',
          );
        }
      } finally {
        await client.end();
      }
    } else {
      for (const c of unique) {
        const res: any[] = await db.knex.raw(
          `EXPLAIN QUERY PLAN ${c.sql}`,
          c.bindings as any[],
        );
        const plan = res.map((r: any) => r.detail).join('\n');
        const scan = /SCAN (\w+)(?! USING)/.exec(plan);
        if (
          scan &&
          !/USING (COVERING )?INDEX/.test(
            plan.split('\n').find(l => l.includes(`SCAN ${scan[1]}`)) ?? '',
          )
        ) {
          scans.push(`${c.label}: SCAN ${scan[1]}`);
        }
        appendix.push(
          `**${c.label}**`,
          '',
          '```sql',
          c.sql,
          '```',
          '',
          '```',
          plan,
          '```',
          '',
        );
      }
    }
    row('full scans in plans', scans.length ? scans.join('; ') : 'none', '', {
      note: 'see the appendix for each plan',
    });
  } finally {
    await server?.stop();
    await db.dispose();
  }
  return { rows, appendix: appendix.join('\n') };
}

runMain(main);
