/*
 * Benchmark 1, "runner against its limit" (and benchmark 4, memory, with
 * --repeat 3 --memory).
 *
 * The real RetirementEngine and RetirementStore on a real database (SQLite
 * file or PostgreSQL, through Backstage's DatabaseManager) retire
 * <components> entities of <anchors> api-key anchors each; every anchor is
 * planned revoke -> verify -> seal. The provider is LatencyCredentialSystem
 * (bench/lib): a fixed latency per call and a declared concurrency cap
 * and/or rate cap, nothing else. The physical limit of the run is
 *
 *   limit = max( calls / throughput , depth x latency )
 *   throughput = min( concurrency / latency , ratePerSecond )
 *   depth = 2 (revoke, then verify, per anchor)
 *
 * and the figure of merit is wall / limit (1.0 = the provider was the only
 * thing waited for). Engine options are the production defaults
 * (DEFAULT_ENGINE_OPTIONS) unless given.
 *
 * Usage: node --require <nodeTransform> bench/runner-limit.ts
 *   --db sqlite|postgres --size small|full [--latency 20] [--concurrency 8]
 *   [--rate N] [--worker-concurrency 32] [--poll 1000] [--repeat 1] [--memory]
 *   [--naive-sample N] [--label text]
 */
import { performance } from 'node:perf_hooks';
import type { EvidenceRecord } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RetirementStore } from '../plugins/nhi-offboarding-backend/src/database/RetirementStore';
import {
  DEFAULT_ENGINE_OPTIONS,
  EngineOptions,
  RetirementEngine,
} from '../plugins/nhi-offboarding-backend/src/engine/RetirementEngine';
import { verifyEvidenceChain } from '../plugins/nhi-offboarding-backend/src/evidence';
import { ProviderRegistry } from '../plugins/nhi-offboarding-backend/src/providers/ProviderRegistry';
import {
  BenchOutput,
  PoolWaitTimer,
  QueryTimer,
  Row,
  Timings,
  dbOf,
  loadNow,
  log,
  mb,
  parseArgs,
  quietLogger,
  round,
  runMain,
  sizeOf,
  sleep,
  stats,
} from './lib/common';
import { createBenchDb } from './lib/db';
import {
  LatencyCredentialSystem,
  maxStartsPerSecond,
} from './lib/LatencyCredentialSystem';
import { makeAnchors, startRetirement } from './lib/seed';

const SIZES = {
  small: { components: 20, anchors: 10 },
  full: { components: 200, anchors: 50 },
};

async function main(): Promise<BenchOutput> {
  const args = parseArgs();
  const size = sizeOf(args);
  const dbKind = dbOf(args);
  const components = Number(args.components ?? SIZES[size].components);
  const anchorsPer = Number(args.anchors ?? SIZES[size].anchors);
  const latency = Number(args.latency ?? 20);
  const concurrency = Number(args.concurrency ?? 8);
  const rate = args.rate ? Number(args.rate) : undefined;
  const repeat = Number(args.repeat ?? 1);
  const memory = args.memory === 'true';
  const label = args.label ?? (rate ? `rate ${rate}/s` : `conc ${concurrency}`);
  const bench = memory ? '4 memory' : `1 runner (${label})`;
  const engineOptions: EngineOptions = {
    ...DEFAULT_ENGINE_OPTIONS,
    workerConcurrency: Number(
      args['worker-concurrency'] ?? DEFAULT_ENGINE_OPTIONS.workerConcurrency,
    ),
    pollIntervalMs: Number(args.poll ?? DEFAULT_ENGINE_OPTIONS.pollIntervalMs),
  };
  const rows: Row[] = [];
  const row = (
    metric: string,
    value: number | string,
    unit?: string,
    extra: Partial<Row> = {},
  ) => rows.push({ bench, db: dbKind, metric, value, unit, ...extra });

  const rssBefore = process.memoryUsage().rss;
  const db = await createBenchDb(dbKind, 'b1');
  log(
    `bench 1 on ${
      db.where
    }: ${components} x ${anchorsPer} anchors, latency ${latency} ms, concurrency ${concurrency}${
      rate ? `, rate ${rate}/s` : ''
    }, engine ${JSON.stringify({
      workerConcurrency: engineOptions.workerConcurrency,
      pollIntervalMs: engineOptions.pollIntervalMs,
    })}`,
  );
  const provider = new LatencyCredentialSystem(
    'bench-latency',
    latency,
    { concurrency, ...(rate ? { ratePerSecond: rate } : {}) },
    Boolean(rate),
  );
  const registry = new ProviderRegistry([provider]);

  // Completion is observed through the store's evidence hook: exact and free.
  const done = new Map<string, { at: number; ok: boolean }>();
  let waiter: (() => void) | undefined;
  const onEvidence = (records: EvidenceRecord[]) => {
    for (const r of records) {
      if (r.kind === 'completion')
        done.set(r.retirementId, { at: performance.now(), ok: true });
      if (r.kind === 'status' && (r.data as any).status === 'needs-attention') {
        done.set(r.retirementId, { at: performance.now(), ok: false });
        log(`needs attention: ${r.retirementId}: ${r.summary}`);
      }
    }
    waiter?.();
  };
  const store = new RetirementStore(db.knex, onEvidence);
  const timings = new Timings();
  timings.wrap(store, [
    'startPending',
    'claimSteps',
    'finishStep',
    'seal',
    'heartbeat',
  ]);
  const queries = new QueryTimer(db.knex as any);
  const poolWaits = new PoolWaitTimer(db.knex);
  let appendix = '';
  const logger = quietLogger('engine');
  const engine = new RetirementEngine(store, registry, logger, engineOptions);

  const memSamples: { rep: number; rss: number; heap: number }[] = [];
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    memSamples.push({ rep: currentRep, rss: m.rss, heap: m.heapUsed });
  }, 200);
  let currentRep = 0;
  const gcNow = () => (global as any).gc?.();
  const afterRep: { rss: number; heap: number }[] = [];
  gcNow();
  const base = process.memoryUsage();
  const wallTimes: number[] = [];

  try {
    for (let rep = 1; rep <= repeat; rep++) {
      currentRep = rep;
      provider.reset();
      timings.reset();
      done.clear();
      queries.reset();
      // ---- setup: what POST /retirements does for each entity (not timed in the ratio)
      const tSetup = performance.now();
      const ids: string[] = [];
      for (let c = 0; c < components; c++) {
        const ref = `component:default/r${rep}-svc-${c}`;
        const r = await startRetirement(
          store,
          registry,
          ref,
          makeAnchors(ref, provider.id, anchorsPer),
        );
        ids.push(r.id);
      }
      const setupMs = performance.now() - tSetup;
      const stepCount = components * (anchorsPer * 2 + 1);
      log(
        `rep ${rep}: ${
          ids.length
        } retirements, ${stepCount} steps created in ${round(
          setupMs / 1000,
        )} s`,
      );

      // ---- run: from engine start to the last completion record
      queries.reset();
      poolWaits.reset();
      const elu0 = performance.eventLoopUtilization();
      const woken = performance.now();
      if (rep === 1) engine.start();
      else engine.wake();
      // From rep 2 the engine is already running: its poll may find this
      // rep's retirements while they are still being created, so the run
      // starts at the first provider call if that came first.
      const t0 = Math.min(woken, provider.firstCallAt ?? woken);
      if (t0 < woken)
        log(
          `rep ${rep}: the engine began ${round(
            (woken - t0) / 1000,
          )} s before the setup ended (counted in the wall)`,
        );
      const deadline = woken + 15 * 60_000;
      while (ids.some(id => !done.has(id))) {
        if (performance.now() > deadline)
          throw new Error('run did not finish in 15 min');
        await new Promise<void>(resolve => {
          waiter = resolve;
          setTimeout(resolve, 1000);
        });
      }
      waiter = undefined;
      await sleep(50); // let the last store calls record their timings
      const tEnd = Math.max(...ids.map(id => done.get(id)!.at));
      const wall = tEnd - t0;
      wallTimes.push(wall);
      const elu = performance.eventLoopUtilization(elu0);
      const failed = ids.filter(id => !done.get(id)!.ok).length;

      // ---- the limit
      const calls = provider.calls;
      const throughput = Math.min(
        (concurrency / latency) * 1000,
        rate ?? Number.POSITIVE_INFINITY,
      );
      const depth = 2;
      const limit = Math.max((calls / throughput) * 1000, depth * latency);
      const s = timings.summary();
      const dbSum = ['startPending', 'claimSteps', 'finishStep', 'seal'].reduce(
        (acc, k) => acc + (s[k]?.sum ?? 0),
        0,
      );

      // Sanity: one retirement's evidence chain is valid and complete.
      const evidence = await store.getEvidence(ids[0]);
      const chain = verifyEvidenceChain(evidence);
      log(
        `rep ${rep}: wall ${round(wall / 1000, 2)} s, limit ${round(
          limit / 1000,
          2,
        )} s, ratio ${round(
          wall / limit,
          2,
        )}, calls ${calls}, failed ${failed}, chain ${
          chain.valid ? 'valid' : 'INVALID'
        } (${chain.count})`,
      );

      if (rep === 1) {
        appendix += `${queries.markdown(
          `Benchmark 1 on ${dbKind} (${components} x ${anchorsPer}, ${label}): SQL statements during the run, by total time`,
          20,
        )}\n\n`;
      }
      if (!memory || rep === 1) {
        const load = loadNow();
        row('entities x anchors', `${components} x ${anchorsPer}`, '', {
          note: `${stepCount} steps, setup ${round(
            setupMs / 1000,
            1,
          )} s (not in wall)`,
        });
        row('provider calls', calls, '', {
          note: `latency ${latency} ms, conc ${concurrency}${
            rate ? `, rate ${rate}/s` : ''
          }; engine workerConcurrency ${
            engineOptions.workerConcurrency
          }, poll ${engineOptions.pollIntervalMs} ms`,
        });
        row('physical limit', round(limit / 1000, 3), 's', {
          note: `max(${calls} calls / ${round(
            throughput,
          )} per s, depth ${depth} x ${latency} ms)`,
        });
        row('wall time', round(wall / 1000, 3), 's', { note: `load ${load}` });
        row('wall / limit', round(wall / limit, 3), 'x', { target: '<= 1.2' });
        row(
          'steps per second',
          round((stepCount / wall) * 1000, 0),
          'steps/s',
          { note: `${round((calls / wall) * 1000, 0)} provider calls/s` },
        );
        row(
          'provider occupancy',
          round(provider.meanInFlight(), 2),
          'calls in flight (mean)',
          {
            note: `max ${
              provider.maxInFlight
            } (cap ${concurrency}); mean call ${round(
              (provider as any).busyIntegral / Math.max(1, calls),
              1,
            )} ms`,
          },
        );
        if (rate) {
          row(
            'max starts in any 1 s',
            maxStartsPerSecond(provider.startTimes),
            'calls',
            { note: `cap ${rate}/s` },
          );
        }
        row('failed retirements', failed, '', {
          note: `evidence chain of one: ${chain.valid ? 'valid' : 'INVALID'}, ${
            chain.count
          } records`,
        });
        row('event loop utilisation', round(elu.utilization * 100, 1), '%', {
          note: 'share of the wall the JS thread was busy',
        });
        row('DB time per step (sum)', round(dbSum / stepCount, 2), 'ms', {
          note: 'claim + finish/seal + startPending, summed over overlapping calls',
        });
        for (const k of ['claimSteps', 'finishStep', 'seal', 'startPending']) {
          const v = s[k];
          if (!v) continue;
          row(`store.${k}`, round(v.mean, 2), 'ms mean', {
            note: `n ${v.n}, p50 ${round(v.p50, 1)}, p95 ${round(
              v.p95,
              1,
            )}, p99 ${round(v.p99, 1)}, max ${round(v.max, 1)}`,
          });
        }
        const pw = stats(poolWaits.waits);
        row('DB pool wait', round(pw.mean, 2), 'ms mean', {
          note: `n ${pw.n}, p95 ${round(pw.p95, 1)}, max ${round(
            pw.max,
            1,
          )}; pool max ${(db.knex.client as any).pool?.max}`,
        });
        const sqlCount = [...queries.bySql.values()].reduce(
          (a, v) => a + v.length,
          0,
        );
        row('SQL statements per step', round(sqlCount / stepCount, 1), '', {
          note: 'without BEGIN/COMMIT',
        });
        const claims = s.claimSteps;
        if (claims) {
          row(
            'steps per claim',
            round(stepCount / Math.max(1, claims.n), 2),
            '',
            { note: `${claims.n} claim passes for ${stepCount} steps` },
          );
        }
        if (logger.counts.warn || logger.counts.error) {
          row(
            'engine warnings/errors',
            `${logger.counts.warn}/${logger.counts.error}`,
            '',
          );
        }
      }
      gcNow();
      await sleep(100);
      gcNow();
      const m = process.memoryUsage();
      afterRep.push({ rss: m.rss, heap: m.heapUsed });
    }
  } finally {
    clearInterval(sampler);
    await engine.stop();
  }

  if (memory) {
    row('RSS before (process start)', mb(rssBefore), 'MB');
    row(
      'RSS / heap before rep 1',
      `${mb(base.rss)} / ${mb(base.heapUsed)}`,
      'MB',
      { note: 'after DB open, after gc' },
    );
    for (let rep = 1; rep <= repeat; rep++) {
      const during = memSamples.filter(x => x.rep === rep);
      const peakRss = Math.max(...during.map(x => x.rss));
      const peakHeap = Math.max(...during.map(x => x.heap));
      row(
        `rep ${rep}: peak RSS / heap during`,
        `${mb(peakRss)} / ${mb(peakHeap)}`,
        'MB',
        { note: `wall ${round(wallTimes[rep - 1] / 1000, 1)} s` },
      );
      row(
        `rep ${rep}: RSS / heap after (gc)`,
        `${mb(afterRep[rep - 1].rss)} / ${mb(afterRep[rep - 1].heap)}`,
        'MB',
      );
    }
    const growth = afterRep[repeat - 1].heap - afterRep[0].heap;
    row('heap growth rep 1 -> last (after gc)', mb(growth), 'MB', {
      target: '~0 (bounded)',
      note: `RSS ${mb(
        afterRep[repeat - 1].rss - afterRep[0].rss,
      )} MB; load ${loadNow()}`,
    });
  } else if (!args['naive-sample'] || args['naive-sample'] !== '0') {
    // ---- the naive sequential loop, for scale (no engine, no database)
    const total = components * anchorsPer;
    const sample = Math.min(total, Number(args['naive-sample'] ?? 200));
    const anchors = makeAnchors('component:default/naive', provider.id, sample);
    const t0 = performance.now();
    for (const a of anchors) {
      await provider.revoke(a);
      await provider.verify(a);
    }
    const ms = performance.now() - t0;
    const est = (ms / sample) * total;
    row('naive sequential loop', round(est / 1000, 2), 's', {
      note:
        sample < total
          ? `measured ${round(
              ms / 1000,
              2,
            )} s on ${sample} of ${total} anchors, extrapolated`
          : `revoke+verify of ${total} anchors one after another`,
    });
  }
  queries.stop();
  await db.dispose();
  return { rows, appendix: memory ? undefined : appendix };
}

runMain(main);
