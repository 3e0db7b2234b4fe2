/*
 * Benchmark 6, governance: the re-verification sweep and the audit export.
 *
 * Sweep: M completed retirements with 3 anchors each are seeded (steps
 * marked verified untrusted, as a finished run leaves them), then
 * ReverificationSweep.run() re-asks a provider with a fixed latency and
 * declared limits: time per sweep, retirements and verify calls per second,
 * for a clean sweep (one evidence record per retirement, the first time),
 * a second clean sweep (no evidence: recordEveryHours not reached) and a
 * sweep in which 1% of the keys were re-enabled out of band (drift).
 *
 * Export: a chain of N records (shaped like the engine's action records)
 * is exported as one retirement's audit JSON (controls mapped, head hash):
 * build + stringify time, size, and the offline checker's run time
 * (bin/nhi-evidence-check.mjs, a separate node process).
 *
 * Usage: node --require <nodeTransform> bench/governance.ts --db sqlite|postgres
 *   --size small|full   (small: 200 retirements, 1k/10k/100k records; full: 2,000 / + 1M)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EvidenceRecord } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RetirementStore } from '../plugins/nhi-offboarding-backend/src/database/RetirementStore';
import { ReverificationSweep } from '../plugins/nhi-offboarding-backend/src/drift/ReverificationSweep';
import { chainEvidence } from '../plugins/nhi-offboarding-backend/src/evidence';
import { buildRetirementExport } from '../plugins/nhi-offboarding-backend/src/evidence/export/buildExport';
import { deadlineOf } from '../plugins/nhi-offboarding-backend/src/governance/deadlines';
import { ProviderRegistry } from '../plugins/nhi-offboarding-backend/src/providers/ProviderRegistry';
import {
  BenchOutput,
  Row,
  dbOf,
  log,
  parseArgs,
  quietLogger,
  round,
  runMain,
  sizeOf,
} from './lib/common';
import { createBenchDb } from './lib/db';
import { LatencyCredentialSystem } from './lib/LatencyCredentialSystem';
import { makeAnchors, startRetirement } from './lib/seed';

const SIZES = {
  small: { retirements: 200, records: [1_000, 10_000, 100_000] },
  full: { retirements: 2_000, records: [1_000, 10_000, 100_000, 1_000_000] },
};
const LATENCY_MS = 5;
const LIMITS = { concurrency: 16 };

async function sweepRows(
  dbKind: 'sqlite' | 'postgres',
  count: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  const db = await createBenchDb(dbKind, 'b6');
  try {
    const provider = new LatencyCredentialSystem(
      'bench-latency',
      LATENCY_MS,
      LIMITS,
    );
    const registry = new ProviderRegistry([provider]);
    const store = new RetirementStore(db.knex);
    const now = new Date();
    for (let i = 0; i < count; i++) {
      const ref = `component:default/gov-${i}`;
      const anchors = makeAnchors(ref, provider.id, 3, 'api-key', now);
      anchors.forEach(a => provider.revoked.set(a.externalId, true));
      const r = await startRetirement(store, registry, ref, anchors, now);
      await db
        .knex('nhi_steps')
        .where('retirement_id', r.id)
        .update({
          status: 'succeeded',
          outcome: db.knex.raw(
            "case when action = 'verify' then 'untrusted' else null end",
          ),
          finished_at: now.toISOString(),
        });
      await db.knex('nhi_retirements').where('id', r.id).update({
        status: 'completed',
        completed_at: now.toISOString(),
        active_entity_ref: null,
      });
    }
    log(`seeded ${count} completed retirements on ${db.where}`);
    const sweep = new ReverificationSweep({
      db: db.knex,
      store,
      providers: registry,
      logger: quietLogger('b6'),
      options: {
        batchSize: 50,
        recordEveryMs: 24 * 3600_000,
        callTimeoutMs: 30_000,
      },
    });
    const label = `${count} completed x 3 anchors, ${LATENCY_MS} ms/call, conc ${LIMITS.concurrency}`;
    for (const phase of [
      'first clean sweep',
      'second clean sweep',
      'sweep with 1% drift',
    ]) {
      if (phase === 'sweep with 1% drift') {
        let n = 0;
        for (const key of provider.revoked.keys()) {
          if (n++ % 100 === 0) provider.revoked.set(key, false);
        }
      }
      const calls = provider.calls;
      const t0 = performance.now();
      const result = await sweep.run();
      const ms = performance.now() - t0;
      const verifyCalls = provider.calls - calls;
      rows.push(
        {
          bench: '6 governance',
          db: dbKind,
          metric: `${phase}: time`,
          value: round(ms / 1000, 2),
          unit: 's',
          note: label,
        },
        {
          bench: '6 governance',
          db: dbKind,
          metric: `${phase}: retirements/s`,
          value: round((result.retirements / ms) * 1000, 1),
          note: `${result.clean} clean, ${
            result.drift
          } drift, ${verifyCalls} verify calls (${round(
            (verifyCalls / ms) * 1000,
            0,
          )}/s; ideal ${round((LIMITS.concurrency * 1000) / LATENCY_MS, 0)}/s)`,
        },
      );
    }
  } finally {
    await db.dispose();
  }
  return rows;
}

function exportRows(sizes: number[]): Row[] {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'nhi-bench-export-'));
  const checker = join(
    __dirname,
    '../plugins/nhi-offboarding-backend/bin/nhi-evidence-check.mjs',
  );
  try {
    for (const n of sizes) {
      const records: EvidenceRecord[] = [];
      const at = new Date().toISOString();
      for (let i = 0; i < n; i++) {
        records.push(
          chainEvidence(
            {
              retirementId: 'ret_00000000-0000-4000-8000-000000000001',
              kind: i === 0 ? 'planned' : 'action',
              stepId: `stp_00000000-0000-4000-8000-${i
                .toString(16)
                .padStart(12, '0')}`,
              anchorId: `anc_${i.toString(16).padStart(40, '0')}`,
              actor: 'provider:bench-latency',
              at,
              summary: `revoke svc-key-${i} on bench-latency: revoked`,
              data: {
                action: 'revoke',
                providerId: 'bench-latency',
                externalId: `svc-key-${i}`,
                changed: true,
                observed: { status: 'revoked' },
              },
            },
            records[i - 1],
          ),
        );
      }
      const retirement = {
        id: 'ret_00000000-0000-4000-8000-000000000001',
        entityRef: 'component:default/big',
        mode: 'revoke' as const,
        reason: 'benchmark',
        status: 'completed' as const,
        requestedBy: 'user:default/bench',
        legalHold: false,
        released: false,
        restoring: false,
        currentStage: 7,
        createdAt: at,
        updatedAt: at,
        completedAt: at,
        progress: { total: n, done: n, failed: 0, anchors: n, verified: n },
      };
      const t0 = performance.now();
      const exported = buildRetirementExport({
        retirement,
        deadline: deadlineOf(retirement, at, 4 * 3600_000, new Date()),
        records,
        exportedBy: 'user:default/bench',
        now: new Date(),
      });
      const text = JSON.stringify(exported);
      const buildMs = performance.now() - t0;
      const file = join(dir, `export-${n}.json`);
      writeFileSync(file, text);
      const t1 = performance.now();
      execFileSync(process.execPath, [checker, file], { stdio: 'ignore' });
      const checkMs = performance.now() - t1;
      const size = statSync(file).size;
      rows.push(
        {
          bench: '6 governance',
          db: '-',
          metric: `export ${n} records: build + stringify`,
          value: round(buildMs, 0),
          unit: 'ms',
          note: 'includes re-verifying the chain',
        },
        {
          bench: '6 governance',
          db: '-',
          metric: `export ${n} records: size`,
          value: round(size / 1024 / 1024, 2),
          unit: 'MB',
          note: `${round(size / n, 0)} bytes/record`,
        },
        {
          bench: '6 governance',
          db: '-',
          metric: `export ${n} records: offline check`,
          value: round(checkMs, 0),
          unit: 'ms',
          note: 'node bin/nhi-evidence-check.mjs, process start included',
        },
      );
      log(
        `export ${n}: ${round(buildMs, 0)} ms, ${size} bytes, check ${round(
          checkMs,
          0,
        )} ms`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

runMain(async (): Promise<BenchOutput> => {
  const args = parseArgs(process.argv.slice(2));
  const size = SIZES[sizeOf(args)];
  const rows = [
    ...(await sweepRows(dbOf(args), size.retirements)),
    ...exportRows(size.records),
  ];
  return { rows };
});
