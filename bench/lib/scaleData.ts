/*
 * The world of benchmark 5, generated the same way in the seeding process and
 * in the API server process (which needs the catalog entities).
 *
 * Entities ent-00000.. with `anchorsPer` anchors each; one retirement per
 * entity: 80 % completed (anchors revoked), 10 % running, 10 % needs-attention
 * (anchors still active); entity lifecycles make some live anchors residual
 * (retired / deprecated entities; 2 % of entities are missing from the
 * catalog). One extra entity `big-ledger` has a retirement of 500 steps
 * (250 anchors x revoke + verify, plus seal) and its ~500 evidence records.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Entity } from '@backstage/catalog-model';
import type { EvidenceRecord } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { anchorId } from '../../plugins/nhi-offboarding-backend/src/discovery/AnchorDiscovery';
import { chainEvidence } from '../../plugins/nhi-offboarding-backend/src/evidence';
import { evidenceToRow } from '../../plugins/nhi-offboarding-backend/src/database/tables';
import { log } from './common';

export interface ScaleSpec {
  entities: number;
  anchorsPer: number;
  /** Evidence records per ordinary retirement. */
  evidencePer: number;
  bigAnchors: number;
  /** One entity in `retirementEvery` has a retirement (the others only anchors). */
  retirementEvery: number;
}

export const SCALE: Record<'small' | 'full', ScaleSpec> = {
  // 1,000 entities, 50,000 anchors, 1,001 retirements, ~100,000 evidence records
  small: {
    entities: 1000,
    anchorsPer: 50,
    evidencePer: 100,
    bigAnchors: 250,
    retirementEvery: 1,
  },
  // 30,000 entities x 33 anchors = 1M anchors; 10,000 retirements (one
  // entity in three) with ~670,000 steps and 1M evidence records.
  full: {
    entities: 30000,
    anchorsPer: 33,
    evidencePer: 100,
    bigAnchors: 250,
    retirementEvery: 3,
  },
};

export const entityName = (i: number) => `ent-${String(i).padStart(5, '0')}`;
export const entityRefOf = (i: number) => `component:default/${entityName(i)}`;
export const BIG_REF = 'component:default/big-ledger';

type Fate = 'completed' | 'running' | 'needs-attention';
export const fateOf = (i: number): Fate =>
  i % 10 === 3 ? 'running' : i % 10 === 7 ? 'needs-attention' : 'completed';
const lifecycleOf = (i: number) =>
  fateOf(i) === 'needs-attention'
    ? 'retired'
    : i % 10 === 5
    ? 'deprecated'
    : fateOf(i) === 'completed'
    ? 'retired'
    : 'production';
const missingFromCatalog = (i: number) => i % 50 === 49;

/** The catalog entities of the world (what the API server's catalog holds). */
export function catalogEntities(spec: ScaleSpec): Entity[] {
  const out: Entity[] = [];
  for (let i = 0; i < spec.entities; i++) {
    if (missingFromCatalog(i)) continue;
    out.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: entityName(i), namespace: 'default' },
      spec: {
        type: 'service',
        owner: 'group:default/payments',
        lifecycle: lifecycleOf(i),
      },
    });
  }
  out.push({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'big-ledger', namespace: 'default' },
    spec: {
      type: 'service',
      owner: 'group:default/payments',
      lifecycle: 'retired',
    },
  });
  out.push({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'payments', namespace: 'default' },
    spec: { type: 'team', children: [] },
  });
  return out;
}

async function insertChunks(db: Knex, table: string, rows: object[]) {
  // SQLite allows 32,766 bound values per statement; stay well below.
  const cols = rows.length ? Object.keys(rows[0]).length : 1;
  // knex writes a multi-row insert as a compound SELECT there (at most 500 terms).
  const chunk = Math.max(1, Math.min(400, Math.floor(8000 / cols)));
  await db.transaction(async trx => {
    for (let i = 0; i < rows.length; i += chunk) {
      await trx(table).insert(rows.slice(i, i + chunk));
    }
  });
}

/**
 * Writes the world straight into the tables (no engine), in the shapes the
 * store writes. Returns the ids the load generator needs.
 */
export async function seedScale(
  db: Knex,
  spec: ScaleSpec,
): Promise<{
  bigId: string;
  retirementIds: string[];
  counts: Record<string, number>;
}> {
  const T0 = Date.parse('2026-06-01T00:00:00.000Z');
  const counts = { anchors: 0, retirements: 0, steps: 0, evidence: 0 };
  const retirementIds: string[] = [];
  let bigId = '';
  const group = 100; // entities written per batch
  const all = [...Array.from({ length: spec.entities }, (_, i) => i), -1];
  for (let g = 0; g < all.length; g += group) {
    const anchors: object[] = [];
    const retirements: object[] = [];
    const steps: object[] = [];
    const evidence: object[] = [];
    for (const i of all.slice(g, g + group)) {
      const big = i === -1;
      const ref = big ? BIG_REF : entityRefOf(i);
      const retired = big || i % spec.retirementEvery === 0;
      // Entities without a retirement: live anchors, nothing else.
      const fate: Fate | 'none' = !retired
        ? 'none'
        : big
        ? 'completed'
        : fateOf(i);
      const n = big ? spec.bigAnchors : spec.anchorsPer;
      const created = new Date(
        T0 + (big ? spec.entities : i) * 60_000,
      ).toISOString();
      const finished = new Date(
        T0 + (big ? spec.entities : i) * 60_000 + 4_000,
      ).toISOString();
      const rid = `ret_${randomUUID()}`;
      if (big) bigId = rid;
      if (retired) retirementIds.push(rid);
      if (retired)
        retirements.push({
          id: rid,
          entity_ref: ref,
          entity_owner: 'group:default/payments',
          active_entity_ref: fate === 'completed' ? null : ref,
          mode: 'revoke',
          reason: 'benchmark world',
          status: fate,
          status_reason:
            fate === 'needs-attention'
              ? '1 step(s) failed. First: bench'
              : null,
          requested_by: 'user:default/alice',
          legal_hold: false,
          hold_reason: null,
          quarantine_days: null,
          quarantine_until: null,
          released: false,
          restoring: false,
          current_stage: fate === 'completed' ? 7 : 5,
          created_at: created,
          updated_at: finished,
          completed_at: fate === 'completed' ? finished : null,
        });
      const stepRows: any[] = [];
      for (let a = 0; a < n; a++) {
        const ext = `${ref.split('/')[1]}-key-${a}`;
        const aid = anchorId(ref, 'bench-latency', ext);
        anchors.push({
          id: aid,
          entity_ref: ref,
          provider_id: 'bench-latency',
          kind: 'api-key',
          external_id: ext,
          display_name: ext,
          fingerprint: `sha256:${ext}`,
          scopes: '[]',
          owner: 'group:default/payments',
          shared_with: '[]',
          manual: false,
          source_created_at: null,
          last_used_at: null,
          expires_at: null,
          status: fate === 'completed' ? 'revoked' : 'active',
          discovered_at: created,
          discovered_by: 'bench-latency',
          last_verified_at: fate === 'completed' ? finished : null,
          last_verified_by: fate === 'completed' ? 'bench-latency' : null,
          last_verification: fate === 'completed' ? 'untrusted' : null,
        });
        for (const [stage, action] of retired
          ? ([
              [5, 'revoke'],
              [6, 'verify'],
            ] as const)
          : []) {
          const done = fate === 'completed' || (stage === 5 && a % 2 === 0);
          stepRows.push({
            id: `stp_${randomUUID()}`,
            retirement_id: rid,
            anchor_id: aid,
            anchor_name: ext,
            anchor_kind: 'api-key',
            provider_id: 'bench-latency',
            stage,
            phase: stage === 5 ? 3 : 4,
            action,
            manual: false,
            after_quarantine: false,
            rationale:
              stage === 5
                ? 'Own credential revoked'
                : 'Asked the system that holds it whether it still trusts it',
            status: done
              ? 'succeeded'
              : fate === 'needs-attention' && a === 1 && stage === 5
              ? 'failed'
              : 'pending',
            attempts: done ? 1 : 0,
            last_error: null,
            outcome: done && stage === 6 ? 'untrusted' : null,
            not_before: null,
            lease_owner: null,
            lease_expires_at: null,
            first_attempt_at: done ? created : null,
            started_at: done ? created : null,
            finished_at: done ? finished : null,
          });
        }
      }
      if (!retired) {
        counts.anchors += n;
        continue;
      }
      stepRows.push({
        id: `stp_${randomUUID()}`,
        retirement_id: rid,
        anchor_id: null,
        stage: 7,
        phase: 5,
        action: 'seal',
        manual: false,
        after_quarantine: false,
        rationale:
          'Completion checked (fail closed) and the evidence chain sealed',
        status: fate === 'completed' ? 'succeeded' : 'pending',
        attempts: fate === 'completed' ? 1 : 0,
        last_error: null,
        outcome: null,
        not_before: null,
        lease_owner: null,
        lease_expires_at: null,
        first_attempt_at: null,
        started_at: fate === 'completed' ? finished : null,
        finished_at: fate === 'completed' ? finished : null,
      });
      steps.push(...stepRows);
      // Evidence: planned, then action/verification records, chained.
      const records: EvidenceRecord[] = [];
      const m = big ? stepRows.length + 2 : spec.evidencePer;
      for (let k = 0; k < m; k++) {
        const s = stepRows[(k - 1 + stepRows.length) % stepRows.length];
        const facts =
          k === 0
            ? {
                retirementId: rid,
                kind: 'planned' as const,
                actor: 'user:default/alice',
                at: created,
                summary: `Retirement of ${ref} planned (revoke): ${n} trust anchor(s), ${stepRows.length} step(s)`,
                data: {
                  entityRef: ref,
                  mode: 'revoke',
                  reason: 'benchmark world',
                  anchors: stepRows
                    .filter(x => x.action === 'revoke')
                    .map(x => ({
                      id: x.anchor_id,
                      providerId: 'bench-latency',
                      kind: 'api-key',
                      status: 'active',
                    })),
                  steps: stepRows.map(x => ({
                    id: x.id,
                    stage: x.stage,
                    action: x.action,
                    anchorId: x.anchor_id,
                  })),
                },
              }
            : {
                retirementId: rid,
                kind: (s.action === 'verify'
                  ? 'verification'
                  : 'action') as 'action',
                stepId: s.id,
                anchorId: s.anchor_id ?? undefined,
                actor: 'provider:bench-latency',
                at: finished,
                summary: `${s.action} on bench-latency`,
                data: {
                  action: s.action,
                  providerId: 'bench-latency',
                  simulated: true,
                  changed: true,
                  observed: { revoked: true },
                  attempt: 1,
                },
              };
        records.push(chainEvidence(facts, records[k - 1]));
      }
      evidence.push(...records.map(evidenceToRow));
      counts.retirements++;
      counts.anchors += n;
      counts.steps += stepRows.length;
      counts.evidence += records.length;
    }
    await insertChunks(db, 'nhi_anchors', anchors);
    await insertChunks(db, 'nhi_retirements', retirements);
    await insertChunks(db, 'nhi_steps', steps);
    await insertChunks(db, 'nhi_evidence', evidence);
    if ((g / group) % 5 === 4)
      log(
        `  seeded ${Math.min(g + group, all.length)} / ${all.length} entities`,
      );
  }
  return { bigId, retirementIds, counts };
}
