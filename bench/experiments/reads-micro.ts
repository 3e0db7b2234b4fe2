/*
 * Where a Retire-tab read's time goes, in process, no HTTP: each store and
 * RetirementReads call of the API's reads, timed over N calls on the
 * persistent full world of api-scale.ts (SQLite or PostgreSQL).
 *
 *   node --require <nodeTransform> bench/experiments/reads-micro.ts --db sqlite|postgres
 */
import { RetirementStore } from '../../plugins/nhi-offboarding-backend/src/database/RetirementStore';
import { RetirementReads } from '../../plugins/nhi-offboarding-backend/src/service/RetirementReads';
import {
  EvidenceRow,
  storedEvidenceFromRow,
} from '../../plugins/nhi-offboarding-backend/src/database/tables';
import {
  GENESIS_HASH,
  verifyEvidenceChainFrom,
} from '../../plugins/nhi-offboarding-backend/src/evidence';
import { createBenchDb } from '../lib/db';
import { dbOf, parseArgs } from '../lib/common';
import { BIG_REF } from '../lib/scaleData';

async function main() {
  const args = parseArgs();
  const db = await createBenchDb(dbOf(args), 'b5', {
    attach: {
      sqliteDir: '/tmp/nhi-bench-scale-full',
      pgPrefix: 'nhi_bench_scale_full_',
    },
    migrate: false,
  });
  const store = new RetirementStore(db.knex);
  const reads = new RetirementReads(store);
  const big = (
    await db.knex('nhi_retirements').where('entity_ref', BIG_REF).first('id')
  ).id;
  const running = (
    await db.knex('nhi_retirements').where('status', 'running').first('id')
  ).id;
  const n = Number(args.n ?? 500);
  const time = async (label: string, fn: () => Promise<unknown>) => {
    await fn();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    const ms = (performance.now() - t0) / n;
    console.log(`${label.padEnd(48)} ${ms.toFixed(3)} ms`);
  };
  // GET .../evidence/verify of the 501-step retirement (503 records) and
  // its parts: the two reads, and the hashing of the records read.
  await time('verifyEvidence(big)', () => store.verifyEvidence(big));
  await time('  stats read (max seq, count)', () =>
    db
      .knex('nhi_evidence')
      .where('retirement_id', big)
      .max({ head: 'seq' })
      .count({ n: '*' })
      .first(),
  );
  const pageRead = () =>
    db
      .knex<EvidenceRow>('nhi_evidence')
      .where('retirement_id', big)
      .whereBetween('seq', [1, 5000])
      .orderBy('seq', 'asc');
  await time('  page read (503 rows, knex)', () => pageRead());
  const rows = await pageRead();
  await time('  verifyEvidenceChainFrom(503 rows)', async () =>
    verifyEvidenceChainFrom(rows.map(storedEvidenceFromRow), {
      count: 0,
      hash: GENESIS_HASH,
    }),
  );
  if (args.part === 'verify') {
    await db.dispose();
    return;
  }
  await time('marked(big)', () => reads.marked(big));
  const mBig = (await reads.marked(big))!;
  await time('retirementJson(big) cached', () =>
    reads.retirementJson(mBig, 'page'),
  );
  await time('marked + retirementJson(big)', async () =>
    reads.retirementJson((await reads.marked(big))!, 'page'),
  );
  const mRun = (await reads.marked(running))!;
  await time('retirementJson(running)', () =>
    reads.retirementJson(mRun, 'page'),
  );
  await time('  store.progressOf(running)', () => store.progressOf([running]));
  await time('  store.listStepsJson(running, 50)', () =>
    store.listStepsJson(running, { limit: 50 }),
  );
  const idsWith = async (status: string): Promise<string[]> =>
    (
      await db
        .knex('nhi_retirements')
        .where('status', status)
        .limit(1000)
        .select('id')
    ).map((r: { id: string }) => r.id);
  const runningIds = await idsWith('running');
  let k = 0;
  for (let pass = 0; pass < 3; pass++)
    await time('retirementJson(random running of 1,000)', async () =>
      reads.retirementJson(
        (await reads.marked(runningIds[k++ % runningIds.length]))!,
        'page',
      ),
    );
  // The first read of each of 1,000 retirements (nothing kept yet), and
  // the store calls under it, per retirement.
  const settledIds = await idsWith('completed');
  const eachOnce = async (
    label: string,
    ids: string[],
    fn: (id: string) => Promise<unknown>,
  ) => {
    const t0 = performance.now();
    for (const id of ids) await fn(id);
    const ms = (performance.now() - t0) / ids.length;
    console.log(`${label.padEnd(48)} ${ms.toFixed(3)} ms`);
  };
  for (const [kind, list] of [
    ['settled', settledIds],
    ['running', runningIds],
  ] as const) {
    const fresh = new RetirementReads(store);
    await eachOnce(`first read of each ${kind} (1,000)`, list, async id =>
      fresh.retirementJson((await fresh.marked(id))!, 'page'),
    );
    await eachOnce(`  store.getRetirementMarked(${kind})`, list, id =>
      store.getRetirementMarked(id),
    );
    await eachOnce(`  store.progressOf(${kind})`, list, id =>
      store.progressOf([id]),
    );
    await eachOnce(`  store.listStepsJson(${kind}, 50)`, list, id =>
      store.listStepsJson(id, { limit: 50 }),
    );
  }
  if (process.env.PRAGMAS) {
    for (const p of process.env.PRAGMAS.split(';'))
      await db.knex.raw(`PRAGMA ${p}`);
    k = 0;
    await time(`  after PRAGMA ${process.env.PRAGMAS}`, async () =>
      reads.retirementJson(
        (await reads.marked(runningIds[k++ % runningIds.length]))!,
        'page',
      ),
    );
    await time(`  after PRAGMA ${process.env.PRAGMAS}`, async () =>
      reads.retirementJson(
        (await reads.marked(runningIds[k++ % runningIds.length]))!,
        'page',
      ),
    );
  }
  await time('listRetirementMarks(50)', () =>
    store.listRetirementMarks({ limit: 50 }),
  );
  await time('listJson(50)', () => reads.listJson({ limit: 50 }));
  await time('listAnchors(entity)', () =>
    store.listAnchors('component:default/ent-00101'),
  );
  await time('listLiveAnchorRefs(100)', () =>
    store.listLiveAnchorRefs({ limit: 100 }),
  );
  const ids = (await store.listLiveAnchorRefs({ limit: 100 })).map(a => a.id);
  await time('getAnchors(100)', () => store.getAnchors(ids));
  const text = await reads.listJson({ limit: 50 });
  await time('JSON.parse+stringify list (24 KiB)', async () =>
    JSON.stringify(JSON.parse(text)),
  );
  await db.dispose();
}
main().catch(e => {
  console.error(e);
  process.exit(1);
});
