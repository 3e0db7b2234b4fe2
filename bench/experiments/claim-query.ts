/*
 * Experiment (not part of run.mjs): the engine's claim query at scale, as
 * RetirementStore.claimSteps writes it today versus two other shapes, on the
 * world of benchmark 5 (100 running retirements, 100 needing attention, 800
 * completed; ~15,000 pending steps of which ~2,500 are claimable now).
 * Only the SELECT of candidates is run (nothing is claimed), 50 times each.
 *
 *   node --require <nodeTransform> bench/experiments/claim-query.ts --db sqlite|postgres
 */
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { FINAL_STAGE } from '../../plugins/nhi-offboarding-backend/src/planning/stages';
import {
  BenchOutput,
  Row,
  dbOf,
  loadNow,
  log,
  parseArgs,
  round,
  runMain,
  stats,
} from '../lib/common';
import { createBenchDb } from '../lib/db';
import { SCALE, seedScale } from '../lib/scaleData';

type Shape = (db: Knex, now: string, limit: number) => Knex.QueryBuilder;

/** Filters shared by every shape: copied from RetirementStore.claimSteps. */
function filters(q: Knex.QueryBuilder, now: string) {
  return q
    .where('r.status', 'running')
    .where(w =>
      w
        .where('r.legal_hold', false)
        .orWhere('s.stage', '<', FINAL_STAGE)
        .orWhere('s.action', 'enable'),
    )
    .where(w =>
      w
        .where(q2 =>
          q2
            .where('s.status', 'pending')
            .where(q3 =>
              q3.whereNull('s.not_before').orWhere('s.not_before', '<=', now),
            ),
        )
        .orWhere(q2 =>
          q2.where('s.status', 'running').where('s.lease_expires_at', '<', now),
        ),
    );
}

const SHAPES: [string, Shape][] = [
  [
    'today: steps JOIN retirements, ORDER BY s.id',
    (db, now, limit) =>
      filters(
        db('nhi_steps as s')
          .join('nhi_retirements as r', 'r.id', 's.retirement_id')
          .whereRaw('s.stage = r.current_stage'),
        now,
      )
        .select('s.id')
        .orderBy('s.id')
        .limit(limit),
  ],
  [
    'from running retirements, ORDER BY r.created_at, s.id (oldest first)',
    (db, now, limit) =>
      filters(
        db('nhi_retirements as r').join('nhi_steps as s', function on() {
          this.on('s.retirement_id', '=', 'r.id').andOn(
            's.stage',
            '=',
            'r.current_stage',
          );
        }),
        now,
      )
        .select('s.id')
        .orderBy([{ column: 'r.created_at' }, { column: 's.id' }])
        .limit(limit),
  ],
  [
    'from running retirements, no ORDER BY',
    (db, now, limit) =>
      filters(
        db('nhi_retirements as r').join('nhi_steps as s', function on() {
          this.on('s.retirement_id', '=', 'r.id').andOn(
            's.stage',
            '=',
            'r.current_stage',
          );
        }),
        now,
      )
        .select('s.id')
        .limit(limit),
  ],
];

async function main(): Promise<BenchOutput> {
  const args = parseArgs();
  const dbKind = dbOf(args);
  const rows: Row[] = [];
  const db = await createBenchDb(dbKind, 'xc');
  try {
    const seeded = await seedScale(db.knex, SCALE.small);
    if (dbKind === 'postgres') await db.knex.raw('ANALYZE');
    log(`claim experiment on ${db.where}: ${JSON.stringify(seeded.counts)}`);
    const run = async (label: string) => {
      for (const [name, shape] of SHAPES) {
        const now = new Date().toISOString();
        const ids = (await shape(db.knex, now, 16)).length;
        const times: number[] = [];
        for (let i = 0; i < 50; i++) {
          const t = performance.now();
          await shape(db.knex, now, 16);
          times.push(performance.now() - t);
        }
        const s = stats(times);
        rows.push({
          bench: 'x claim query',
          db: dbKind,
          metric: `${name}${label}`,
          value: round(s.p50, 2),
          unit: 'ms p50',
          note: `mean ${round(s.mean, 2)}, max ${round(
            s.max,
            1,
          )}; ${ids} ids; load ${loadNow()}`,
        });
      }
    };
    await run('');
    await db.knex.schema.alterTable('nhi_steps', t =>
      t.index(['retirement_id', 'stage', 'status'], 'nhi_steps_bench_rss_idx'),
    );
    if (dbKind === 'postgres') await db.knex.raw('ANALYZE nhi_steps');
    await run(' + index (retirement_id, stage, status)');
  } finally {
    await db.dispose();
  }
  return { rows };
}

runMain(main);
