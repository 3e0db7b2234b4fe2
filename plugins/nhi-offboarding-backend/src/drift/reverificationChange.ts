import type { Knex } from 'knex';
import type { VerificationOutcome } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { EvidenceFacts } from '../evidence';
import { STAGE } from '../planning/stages';
import type { RetirementRow, StepRow } from '../database/tables';

/** What a system answered for one anchor of a finished retirement. */
export interface AnchorReverification {
  anchorId: string;
  providerId: string;
  externalId: string;
  outcome: VerificationOutcome;
  detail: string;
  observed: Record<string, unknown>;
}

export interface Reverification {
  results: AnchorReverification[];
  /** A clean re-check is written to the evidence at most this often. */
  recordEveryMs: number;
  newStepId: () => string;
}

export type ReverificationVerdict =
  | 'clean'
  | 'drift'
  | 'inconclusive'
  | 'skipped';

/** Statuses whose anchors are re-verified: their access is meant to be gone. */
export const REVERIFIED_STATUSES = ['completed', 'quarantined'];

/** Actions that take an anchor's trust away, the strongest (latest stage) first. */
const ACTING = [
  'revoke',
  'rotate',
  'remove-memberships',
  'terminate-sessions',
  'disable',
];

const iso = (d: Date) => d.toISOString();

/** Rationale of the steps a drift adds (they do not count as the first removal). */
export const DRIFT_RATIONALE = 'Drift found by re-verification';

/**
 * Applies a re-verification inside the store's locked transaction.
 *
 * Clean (every anchor untrusted): the retirement's last re-verification time
 * moves on; an evidence record is written only when the last one is older
 * than `recordEveryMs`, so an hourly check does not grow the chain 24 times
 * a day. Inconclusive (a system could not answer): nothing moves, so the
 * time since the last verification keeps growing (fail closed).
 * Drift (a system trusts an anchor again): a `drift` record per anchor, and
 * the removal is planned again as a failed step (the reason is the drift) so
 * the retirement needs attention and its Retry re-removes the access, then
 * verifies and (for a completed one) seals again.
 */
export async function applyReverification(
  trx: Knex.Transaction,
  facts: EvidenceFacts[],
  row: RetirementRow,
  input: Reverification,
  actor: string,
  now: Date,
): Promise<ReverificationVerdict> {
  if (!REVERIFIED_STATUSES.includes(row.status) || !input.results.length) {
    return 'skipped';
  }
  const trusted = input.results.filter(r => r.outcome === 'trusted');
  if (trusted.length === 0) {
    if (input.results.some(r => r.outcome !== 'untrusted')) {
      return 'inconclusive';
    }
    const recordedAt = row.reverification_recorded_at;
    const record =
      !recordedAt ||
      now.getTime() - new Date(recordedAt).getTime() >= input.recordEveryMs;
    await trx('nhi_retirements')
      .where('id', row.id)
      .update({
        last_reverified_at: iso(now),
        ...(record ? { reverification_recorded_at: iso(now) } : {}),
      });
    if (record) {
      facts.push({
        retirementId: row.id,
        kind: 'reverification',
        actor,
        at: iso(now),
        summary: `Re-verified: ${input.results.length} trust anchor(s) still untrusted by their systems`,
        data: {
          anchors: input.results.map(r => ({
            anchorId: r.anchorId,
            providerId: r.providerId,
            externalId: r.externalId,
            outcome: r.outcome,
          })),
        },
      });
    }
    return 'clean';
  }

  const steps = await trx<StepRow>('nhi_steps').where('retirement_id', row.id);
  const newRows: StepRow[] = [];
  const blank = {
    retirement_id: row.id,
    manual: false,
    after_quarantine: false,
    attempts: 0,
    outcome: null,
    not_before: null,
    lease_owner: null,
    lease_expires_at: null,
    first_attempt_at: null,
    started_at: null,
    finished_at: null,
  };
  const quarantined = row.status === 'quarantined';
  for (const drift of trusted) {
    facts.push({
      retirementId: row.id,
      kind: 'drift',
      anchorId: drift.anchorId,
      actor,
      at: iso(now),
      summary: `Drift: ${drift.providerId} trusts ${drift.externalId} again. ${drift.detail}`,
      data: {
        providerId: drift.providerId,
        externalId: drift.externalId,
        outcome: drift.outcome,
        statusBefore: row.status,
        observed: drift.observed,
      },
    });
    const own = steps.filter(s => s.anchor_id === drift.anchorId);
    const acted = quarantined
      ? own.find(s => s.action === 'disable')
      : own
          .filter(s => ACTING.includes(s.action) && s.status === 'succeeded')
          .sort((a, b) => b.stage - a.stage)[0];
    const redo = {
      action: acted?.action ?? (quarantined ? 'disable' : 'revoke'),
      stage: acted?.stage ?? (quarantined ? STAGE.disable : STAGE.secrets),
      phase: acted?.phase ?? (quarantined ? 1 : 3),
    };
    newRows.push({
      ...blank,
      ...redo,
      id: input.newStepId(),
      anchor_id: drift.anchorId,
      rationale: `${DRIFT_RATIONALE}: ${redo.action} again`,
      status: 'failed',
      last_error: `Drift: the system trusts this anchor again (${drift.detail}) Retry removes the access again.`,
      finished_at: iso(now),
    });
    newRows.push({
      ...blank,
      id: input.newStepId(),
      anchor_id: drift.anchorId,
      stage: quarantined ? STAGE.verifyDisabled : STAGE.verify,
      phase: 4,
      action: 'verify',
      rationale: `${DRIFT_RATIONALE}: verify again`,
      status: 'pending',
      last_error: null,
    });
  }
  if (!quarantined) {
    newRows.push({
      ...blank,
      id: input.newStepId(),
      anchor_id: null,
      stage: STAGE.seal,
      phase: 5,
      action: 'seal',
      rationale: `${DRIFT_RATIONALE}: seal again`,
      status: 'pending',
      last_error: null,
    });
  }
  await trx('nhi_steps').insert(newRows);
  const reason = `Drift: ${
    trusted.length
  } trust anchor(s) trusted again (${trusted
    .map(t => `${t.providerId}/${t.externalId}`)
    .join(', ')}); retry to remove the access again`;
  // A completed run gave up the entity's "one active retirement" slot; it
  // takes it back so no second run starts while this one needs attention
  // (unless another run holds it already: then both stay visible).
  const holder = await trx<RetirementRow>('nhi_retirements')
    .where('active_entity_ref', row.entity_ref)
    .first('id');
  await trx('nhi_retirements')
    .where('id', row.id)
    .update({
      status: 'needs-attention',
      status_reason: reason,
      drift_detected_at: iso(now),
      updated_at: iso(now),
      ...(holder ? {} : { active_entity_ref: row.entity_ref }),
    });
  facts.push({
    retirementId: row.id,
    kind: 'status',
    actor,
    at: iso(now),
    summary: reason,
    data: { status: 'needs-attention', from: row.status },
  });
  return 'drift';
}
