/*
 * Benchmark 3, evidence: append and verify throughput.
 *
 * Append, through the store's normal paths:
 *  a) store.setHold on/off on one retirement, one after another: each call is
 *     one mutate() transaction (lock, change, transition check, append) that
 *     writes one `hold` record: the cost of one state change + its evidence;
 *  b) the same from 8 retirements at once (8 concurrent writers);
 *  c) appendEvidence(trx, facts) with 1,000 facts per transaction (the
 *     evidence log alone: chain + one INSERT per record), which also seeds
 *     the chain read back below.
 * Verify:
 *  d) verifyEvidenceChain over N records in memory (target >= 50,000/s);
 *  e) store.getEvidence (read + parse N rows) and then verify, from the DB;
 *  f) store.verifyEvidence: the same page by page (what the API runs).
 *
 * Usage: node --require <nodeTransform> bench/evidence.ts --db sqlite|postgres
 *   --size small|full   (small: 2,000 mutations, 100k records; full: 10,000 / 1M)
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EvidenceRecord } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RetirementStore } from '../plugins/nhi-offboarding-backend/src/database/RetirementStore';
import { appendEvidence } from '../plugins/nhi-offboarding-backend/src/database/evidenceLog';
import { canonicalJson } from '../plugins/nhi-offboarding-backend/src/evidence/canonicalJson';
import {
  chainEvidence,
  EvidenceFacts,
  verifyEvidenceChain,
} from '../plugins/nhi-offboarding-backend/src/evidence';
import { ProviderRegistry } from '../plugins/nhi-offboarding-backend/src/providers/ProviderRegistry';
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
} from './lib/common';
import { createBenchDb } from './lib/db';
import { LatencyCredentialSystem } from './lib/LatencyCredentialSystem';
import { makeAnchors, startRetirement } from './lib/seed';

const SIZES = {
  small: { mutations: 2_000, records: 100_000 },
  full: { mutations: 10_000, records: 1_000_000 },
};

/** A record shaped like the engine's action evidence (about 600 bytes of JSON). */
function actionFacts(
  retirementId: string,
  i: number,
  at: string,
): EvidenceFacts {
  const ext = `svc-key-${i}`;
  return {
    retirementId,
    kind: 'action',
    stepId: `stp_00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    anchorId: `anc_${i.toString(16).padStart(40, '0')}`,
    actor: 'provider:bench-latency',
    at,
    summary: `revoke ${ext} on bench-latency: revoked`,
    data: {
      action: 'revoke',
      providerId: 'bench-latency',
      providerType: 'bench-latency',
      simulated: true,
      externalId: ext,
      fingerprint: `sha256:${ext}`,
      changed: true,
      newFingerprint: null,
      observed: { status: 'revoked', sessions: 0 },
      attempt: 1,
    },
  };
}

async function main(): Promise<BenchOutput> {
  const args = parseArgs();
  const size = sizeOf(args);
  const dbKind = dbOf(args);
  const mutations = Number(args.mutations ?? SIZES[size].mutations);
  const records = Number(args.records ?? SIZES[size].records);
  const rows: Row[] = [];
  const row = (
    metric: string,
    value: number | string,
    unit?: string,
    extra: Partial<Row> = {},
  ) =>
    rows.push({
      bench: '3 evidence',
      db: dbKind,
      metric,
      value,
      unit,
      ...extra,
    });

  const db = await createBenchDb(dbKind, 'b3');
  log(`bench 3 on ${db.where}`);
  const provider = new LatencyCredentialSystem('bench-latency', 0, {});
  const registry = new ProviderRegistry([provider]);
  const store = new RetirementStore(db.knex);
  try {
    // ---- a) one writer: setHold toggles on one retirement
    const r1 = await startRetirement(
      store,
      registry,
      'component:default/ev-1',
      makeAnchors('component:default/ev-1', provider.id, 5),
    );
    let t0 = performance.now();
    for (let i = 0; i < mutations; i++) {
      await store.setHold(
        r1.id,
        'user:default/bench',
        i % 2 === 0,
        'bench',
        new Date(),
      );
    }
    let ms = performance.now() - t0;
    row(
      'append via mutate (setHold), 1 writer',
      round((mutations / ms) * 1000, 0),
      'records/s',
      {
        note: `${mutations} transactions, ${round(
          ms / mutations,
          2,
        )} ms each; load ${loadNow()}`,
      },
    );

    // ---- b) 8 writers on 8 retirements
    const writers = 8;
    const rs = [];
    for (let w = 0; w < writers; w++) {
      const ref = `component:default/ev-w${w}`;
      rs.push(
        await startRetirement(
          store,
          registry,
          ref,
          makeAnchors(ref, provider.id, 5),
        ),
      );
    }
    const per = Math.ceil(mutations / writers);
    t0 = performance.now();
    await Promise.all(
      rs.map(async r => {
        for (let i = 0; i < per; i++) {
          await store.setHold(
            r.id,
            'user:default/bench',
            i % 2 === 0,
            'bench',
            new Date(),
          );
        }
      }),
    );
    ms = performance.now() - t0;
    row(
      `append via mutate (setHold), ${writers} writers`,
      round(((per * writers) / ms) * 1000, 0),
      'records/s',
      {
        note: `${per * writers} transactions on ${writers} retirements at once`,
      },
    );

    // ---- c) appendEvidence, 1,000 facts per transaction, into one new chain
    const chainId = 'ret_bench-evidence-chain';
    const batch = 1000;
    const at = new Date().toISOString();
    t0 = performance.now();
    for (let i = 0; i < records; i += batch) {
      const facts: EvidenceFacts[] = [];
      for (let j = i; j < Math.min(records, i + batch); j++)
        facts.push(actionFacts(chainId, j, at));
      await db.knex.transaction(trx => appendEvidence(trx, facts));
      if ((i / batch) % 20 === 19) log(`  appended ${i + batch}`);
    }
    ms = performance.now() - t0;
    row(
      'appendEvidence, 1,000 per transaction',
      round((records / ms) * 1000, 0),
      'records/s',
      {
        note: `${records} records in ${round(
          ms / 1000,
          1,
        )} s (chain + one INSERT each)`,
      },
    );

    // ---- d) verify in memory
    const inMemory: EvidenceRecord[] = [];
    t0 = performance.now();
    for (let i = 0; i < records; i++)
      inMemory.push(
        chainEvidence(actionFacts(chainId, i, at), inMemory[i - 1]),
      );
    const chainMs = performance.now() - t0;
    t0 = performance.now();
    const v = verifyEvidenceChain(inMemory);
    ms = performance.now() - t0;
    if (!v.valid) throw new Error(`in-memory chain invalid: ${v.problem}`);
    // Where verify's time goes: the canonical JSON text, and SHA-256 over it.
    let texts: string[] = [];
    t0 = performance.now();
    for (const r of inMemory) {
      const { hash: _h, ...rest } = r;
      texts.push(
        canonicalJson({
          ...rest,
          stepId: rest.stepId ?? null,
          anchorId: rest.anchorId ?? null,
        }),
      );
    }
    const canonMs = performance.now() - t0;
    t0 = performance.now();
    for (const t of texts) createHash('sha256').update(t).digest('hex');
    const shaMs = performance.now() - t0;
    texts = [];
    t0 = performance.now();
    for (const r of inMemory) JSON.parse(JSON.stringify(r.data));
    const parseMs = performance.now() - t0;
    row(
      'verifyEvidenceChain in memory',
      round((records / ms) * 1000, 0),
      'records/s',
      {
        target: '>= 50,000/s',
        note: `${records} records in ${round(ms, 0)} ms (building them: ${round(
          (records / chainMs) * 1000,
          0,
        )}/s)`,
      },
    );
    row(
      'of which canonicalJson / sha256',
      `${round(canonMs, 0)} / ${round(shaMs, 0)}`,
      'ms',
      {
        note: `per 100k: canonical text ${round(
          (canonMs / records) * 1e5,
          0,
        )} ms, hash ${round(
          (shaMs / records) * 1e5,
          0,
        )} ms; JSON.stringify+parse of data (what a DB round trip adds) ${round(
          parseMs,
          0,
        )} ms`,
      },
    );
    inMemory.length = 0;

    {
      // A block: the whole chain read here is garbage before f) runs.
      // ---- e) read from the DB, then verify
      global.gc?.();
      t0 = performance.now();
      const read = await store.getEvidence(chainId);
      const readMs = performance.now() - t0;
      t0 = performance.now();
      const v2 = verifyEvidenceChain(read);
      const verifyMs = performance.now() - t0;
      if (!v2.valid || v2.count !== records)
        throw new Error(`DB chain invalid: ${v2.problem} (${v2.count})`);
      row(
        'store.getEvidence (read + parse)',
        round((records / readMs) * 1000, 0),
        'records/s',
        {
          note: `${records} rows in ${round(readMs, 0)} ms; heap ${round(
            process.memoryUsage().heapUsed / 1048576,
            0,
          )} MB after`,
        },
      );
      row(
        'read + verify from DB',
        round((records / (readMs + verifyMs)) * 1000, 0),
        'records/s',
        {
          target: '>= 50,000/s',
          note: `verify alone ${round(
            (records / verifyMs) * 1000,
            0,
          )}/s; load ${loadNow()}`,
        },
      );
    }
    // ---- f) what the verify endpoint does: read and verify page by page
    global.gc?.();
    t0 = performance.now();
    const v3 = await store.verifyEvidence(chainId);
    const pagedMs = performance.now() - t0;
    if (!v3.valid || v3.count !== records)
      throw new Error(`paged check invalid: ${v3.problem} (${v3.count})`);
    row(
      'paged read + verify from DB (verifyEvidence)',
      round((records / pagedMs) * 1000, 0),
      'records/s',
      {
        target: '>= 50,000/s',
        note: `5,000 records per page, what GET .../evidence/verify runs; heap ${round(
          process.memoryUsage().heapUsed / 1048576,
          0,
        )} MB after; load ${loadNow()}`,
      },
    );
  } finally {
    await db.dispose();
  }
  return { rows };
}

runMain(main);
