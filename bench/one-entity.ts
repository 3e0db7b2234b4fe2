/*
 * Benchmark 2, "time to revoke one entity": from POST /retirements to
 * `completed` for an entity with 20 anchors on the REAL PostgreSQL provider
 * (type `postgres`, 20 real login roles created for the run, each with one
 * open session), through the REST API of a backend started in-process with
 * startTestBackend (the setup of src/service/postgresRetirement.test.ts).
 *
 * Where the time goes is measured three ways:
 *  - the steps' own timestamps from GET /retirements/:id (per stage: first
 *    start, last end; the gaps between stages are the engine's hand-over);
 *  - timing wrappers on PostgresProvider.prototype (every provider call);
 *  - timing wrappers on RetirementStore.prototype (claims, step ends, seal).
 *
 * The plugin's own store is on --db sqlite|postgres. The credential system
 * is the PostgreSQL server at BENCH_PG_URL (default 127.0.0.1:5432); the
 * roles (nhi_b2_<pid>_<run>_<i>) are dropped at the end.
 *
 * Usage: node --require <nodeTransform> bench/one-entity.ts --db sqlite|postgres
 *   [--anchors 20] [--runs 3] [--poll <engine pollIntervalMs, default 1000>]
 *   [--client-poll 25] [--sessions 1]
 */
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { Client } from 'pg';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { Retirement } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingPlugin } from '../plugins/nhi-offboarding-backend/src/plugin';
import { RetirementStore } from '../plugins/nhi-offboarding-backend/src/database/RetirementStore';
import { PostgresProvider } from '../plugins/nhi-offboarding-backend/src/providers/postgres/PostgresProvider';
import {
  BenchOutput,
  Row,
  Timings,
  dbOf,
  loadNow,
  log,
  parseArgs,
  round,
  runMain,
  sleep,
  stats,
} from './lib/common';
import { PG_URL, createBenchDb, pgAdmin } from './lib/db';

async function main(): Promise<BenchOutput> {
  const args = parseArgs();
  const dbKind = dbOf(args);
  const anchors = Number(args.anchors ?? 20);
  const runs = Number(args.runs ?? 3);
  const clientPoll = Number(args['client-poll'] ?? 25);
  const sessionsPerRole = Number(args.sessions ?? 1);
  const enginePoll = args.poll ? Number(args.poll) : undefined;
  const rows: Row[] = [];
  const row = (
    metric: string,
    value: number | string,
    unit?: string,
    extra: Partial<Row> = {},
  ) =>
    rows.push({
      bench: '2 one entity (pg provider)',
      db: dbKind,
      metric,
      value,
      unit,
      ...extra,
    });

  const storeTimings = new Timings();
  const providerTimings = new Timings();
  const unwrapStore = storeTimings.wrap(RetirementStore.prototype, [
    'createRetirement',
    'startPending',
    'claimSteps',
    'finishStep',
    'seal',
    'upsertAnchors',
  ]);
  const unwrapProvider = providerTimings.wrap(PostgresProvider.prototype, [
    'discover',
    'disable',
    'terminateSessions',
    'removeMemberships',
    'revoke',
    'verify',
  ]);

  const db = await createBenchDb(dbKind, 'b2');
  const admin = pgAdmin();
  const sessions: Client[] = [];
  const roleNames: string[] = [];
  const entities = Array.from({ length: runs }, (_, run) => {
    const roles = Array.from(
      { length: anchors },
      (_, i) => `nhi_b2_${process.pid}_${run}_${i}`,
    );
    roleNames.push(...roles);
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: `bench-ledger-${run}`,
        namespace: 'default',
        annotations: { 'nhi-offboarding/pg-bench': roles.join(', ') },
      },
      spec: {
        type: 'service',
        owner: 'group:default/payments',
        lifecycle: 'production',
      },
      roles,
    };
  });
  let backend: Awaited<ReturnType<typeof startTestBackend>> | undefined;
  try {
    for (const name of roleNames) {
      await admin.raw(`DROP ROLE IF EXISTS ${name}`);
      await admin.raw(
        `CREATE ROLE ${name} LOGIN PASSWORD 'bench-not-a-secret'`,
      );
    }
    const u = new URL(PG_URL);
    const tBackend = performance.now();
    backend = await startTestBackend({
      features: [
        nhiOffboardingPlugin,
        mockServices.database.factory({ knex: db.knex }),
        catalogServiceMock.factory({
          entities: entities.map(({ roles: _r, ...e }) => e),
        }),
        mockServices.rootConfig.factory({
          data: {
            nhiOffboarding: {
              ...(enginePoll ? { engine: { pollIntervalMs: enginePoll } } : {}),
              providers: [
                { id: 'pg-bench', type: 'postgres', connection: PG_URL },
              ],
            },
          },
        }),
      ],
    });
    log(
      `bench 2: backend up in ${round(
        performance.now() - tBackend,
        0,
      )} ms; store on ${db.where}; provider on ${u.hostname}:${
        u.port || 5432
      }; engine poll ${enginePoll ?? 'default (1000)'} ms`,
    );
    const auth = {
      Authorization: mockCredentials.user.header('user:default/alice'),
    };
    const api = (path: string) => `/api/nhi-offboarding${path}`;

    const totals: number[] = [];
    const serverTotals: number[] = [];
    const posts: number[] = [];
    const stageTable: string[] = [];
    const gapsAll: number[] = [];
    const startGaps: number[] = [];
    for (let run = 0; run < runs; run++) {
      const e = entities[run];
      // One open session per role, as a live service would have.
      for (const role of e.roles) {
        for (let s = 0; s < sessionsPerRole; s++) {
          const c = new Client({
            host: u.hostname,
            port: Number(u.port || 5432),
            database: 'postgres',
            user: role,
            password: 'bench-not-a-secret',
          });
          c.on('error', () => {});
          await c.connect();
          sessions.push(c);
        }
      }
      storeTimings.reset();
      providerTimings.reset();
      const tAnchors = performance.now();
      const anchorsRes = await request(backend.server)
        .get(
          api(`/entities/component/default/${e.metadata.name}/trust-anchors`),
        )
        .set(auth);
      const anchorsMs = performance.now() - tAnchors;
      if (anchorsRes.body.items?.length !== anchors) {
        throw new Error(
          `expected ${anchors} anchors, got ${JSON.stringify(
            anchorsRes.body,
          ).slice(0, 300)}`,
        );
      }
      storeTimings.reset();
      providerTimings.reset();

      const t0 = performance.now();
      const created = await request(backend.server)
        .post(api('/retirements'))
        .set(auth)
        .send({
          entityRef: `component:default/${e.metadata.name}`,
          mode: 'revoke',
          reason: 'benchmark',
        });
      const postMs = performance.now() - t0;
      if (created.status !== 201)
        throw new Error(
          `POST /retirements: ${created.status} ${JSON.stringify(
            created.body,
          )}`,
        );
      let r: Retirement = created.body;
      while (
        !['completed', 'needs-attention', 'cancelled'].includes(r.status)
      ) {
        if (performance.now() - t0 > 120_000)
          throw new Error('not completed in 120 s');
        await sleep(clientPoll);
        r = (
          await request(backend.server)
            .get(api(`/retirements/${r.id}`))
            .set(auth)
        ).body;
      }
      const totalMs = performance.now() - t0;
      if (r.status !== 'completed')
        throw new Error(`retirement ${r.status}: ${r.statusReason}`);
      const serverMs = Date.parse(r.completedAt!) - Date.parse(r.createdAt);
      totals.push(totalMs);
      serverTotals.push(serverMs);
      posts.push(postMs);

      // ---- where the time went, from the steps' timestamps
      const created0 = Date.parse(r.createdAt);
      const byStage = new Map<
        number,
        {
          action: string;
          n: number;
          start: number;
          end: number;
          durs: number[];
        }
      >();
      for (const s of r.steps!) {
        const st = Date.parse(s.startedAt!);
        const en = Date.parse(s.finishedAt!);
        const g = byStage.get(s.stage) ?? {
          action: s.action,
          n: 0,
          start: Infinity,
          end: -Infinity,
          durs: [],
        };
        g.n++;
        g.start = Math.min(g.start, st);
        g.end = Math.max(g.end, en);
        g.durs.push(en - st);
        byStage.set(s.stage, g);
      }
      const stages = [...byStage.entries()].sort((a, b) => a[0] - b[0]);
      let prevEnd = created0;
      if (run === 0) {
        stageTable.push(
          `#### Benchmark 2 on ${dbKind}, run 1: stages of one retirement (${anchors} PostgreSQL roles), from the steps' timestamps`,
        );
        stageTable.push(
          '',
          '| stage | action | steps | starts after previous stage ended (ms) | stage span (ms) | step claim-to-end p50 / max (ms) |',
          '| ---: | --- | ---: | ---: | ---: | ---: |',
        );
      }
      stages.forEach(([stage, g], i) => {
        const gap = g.start - prevEnd;
        if (i === 0) startGaps.push(gap);
        else gapsAll.push(gap);
        if (run === 0) {
          const d = stats(g.durs);
          stageTable.push(
            `| ${stage} | ${g.action} | ${g.n} | ${gap}${
              i === 0 ? ' (after createdAt)' : ''
            } | ${g.end - g.start} | ${d.p50} / ${d.max} |`,
          );
        }
        prevEnd = g.end;
      });
      if (run === 0)
        stageTable.push(
          `| | completedAt | | ${
            Date.parse(r.completedAt!) - prevEnd
          } after the seal step's end | | |`,
          '',
        );

      const p = providerTimings.summary();
      const s = storeTimings.summary();
      const providerSum = Object.values(p).reduce((a, v) => a + v.sum, 0);
      log(
        `run ${run + 1}: POST ${round(
          postMs,
          0,
        )} ms, completed seen after ${round(
          totalMs,
          0,
        )} ms (server ${serverMs} ms); anchors GET ${round(
          anchorsMs,
          0,
        )} ms; provider calls ${Object.values(p).reduce(
          (a, v) => a + v.n,
          0,
        )} summing ${round(providerSum, 0)} ms`,
      );
      if (run === 0) {
        stageTable.push(
          `#### Benchmark 2 on ${dbKind}, run 1: provider calls and store calls (timing wrappers)`,
          '',
          '| call | n | mean ms | p50 | max | sum ms |',
          '| --- | ---: | ---: | ---: | ---: | ---: |',
        );
        for (const [k, v] of [
          ...Object.entries(p).map(
            ([k, v]) => [`PostgresProvider.${k}`, v] as const,
          ),
          ...Object.entries(s).map(
            ([k, v]) => [`RetirementStore.${k}`, v] as const,
          ),
        ]) {
          stageTable.push(
            `| ${k} | ${v.n} | ${round(v.mean, 1)} | ${round(
              v.p50,
              1,
            )} | ${round(v.max, 1)} | ${round(v.sum, 0)} |`,
          );
        }
        stageTable.push('');
        const pTotal = providerSum;
        row(
          'provider calls (run 1)',
          Object.values(p).reduce((a, v) => a + v.n, 0),
          '',
          {
            note: Object.entries(p)
              .map(([k, v]) => `${k} ${v.n}x${round(v.mean, 0)}ms`)
              .join(', '),
          },
        );
        row('provider time / 4 lanes (run 1)', round(pTotal / 4, 0), 'ms', {
          note: 'sum of provider call times / provider concurrency 4: the provider-bound floor',
        });
        row(
          'store time (run 1)',
          round(
            [
              'createRetirement',
              'claimSteps',
              'finishStep',
              'seal',
              'startPending',
            ].reduce((a, k) => a + (s[k]?.sum ?? 0), 0),
            0,
          ),
          'ms',
          {
            note: [
              'createRetirement',
              'claimSteps',
              'finishStep',
              'seal',
              'startPending',
            ]
              .filter(k => s[k])
              .map(k => `${k} ${s[k].n}x${round(s[k].mean, 1)}ms`)
              .join(', '),
          },
        );
      }
    }
    const t = stats(totals);
    row(
      'POST -> completed (client saw)',
      round(t.p50 / 1000, 2),
      's (median)',
      {
        target: '< 5 s',
        note: `${runs} runs: ${totals
          .map(x => round(x / 1000, 2))
          .join(
            ', ',
          )} s; client polls every ${clientPoll} ms; load ${loadNow()}`,
      },
    );
    row(
      'createdAt -> completedAt (server)',
      round(stats(serverTotals).p50 / 1000, 2),
      's (median)',
      { note: serverTotals.join(', ') + ' ms' },
    );
    row(
      'POST /retirements latency',
      round(stats(posts).p50, 0),
      'ms (median)',
      { note: 'discovery of the roles + plan + createRetirement' },
    );
    row(
      'createdAt -> first step start',
      round(stats(startGaps).p50, 0),
      'ms (median)',
      { note: startGaps.join(', ') },
    );
    const g = stats(gapsAll);
    row('stage hand-over gap', round(g.mean, 1), 'ms mean', {
      note: `between a stage's last end and the next one's first start; max ${g.max}`,
    });
    return { rows, appendix: stageTable.join('\n') };
  } finally {
    unwrapStore();
    unwrapProvider();
    await backend?.stop().catch(e => log(`backend stop: ${e}`));
    await Promise.all(sessions.map(c => c.end().catch(() => {})));
    for (const name of roleNames) {
      await admin
        .raw(`DROP ROLE IF EXISTS ${name}`)
        .catch(e => log(`drop ${name}: ${e}`));
    }
    await admin.destroy();
    await db.dispose();
  }
}

runMain(main);
