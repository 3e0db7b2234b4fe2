import type { Knex } from 'knex';
import type {
  Retirement,
  RevocationDeadline,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { STAGE } from '../planning/stages';

/**
 * When access was removed: a quarantine removes it once the identity is
 * disabled and verified (the steps up to the verify-disabled stage have
 * ended), a revoke once the retirement completed.
 */
export async function accessRemovedAtOf(
  db: Knex,
  retirements: Pick<Retirement, 'id' | 'mode' | 'status' | 'completedAt'>[],
): Promise<Map<string, string | undefined>> {
  const result = new Map<string, string | undefined>();
  const quarantines = retirements.filter(
    r =>
      r.mode === 'quarantine' &&
      ['quarantined', 'completed'].includes(r.status),
  );
  for (const r of retirements) {
    result.set(r.id, r.mode === 'revoke' ? r.completedAt : undefined);
  }
  for (let i = 0; i < quarantines.length; i += 500) {
    const batch = quarantines.slice(i, i + 500);
    const rows: { retirement_id: string; removed: string | null }[] = await db(
      'nhi_steps',
    )
      .whereIn(
        'retirement_id',
        batch.map(r => r.id),
      )
      .where('stage', '<=', STAGE.verifyDisabled)
      .where('status', 'succeeded')
      .groupBy('retirement_id')
      .select('retirement_id')
      .max({ removed: 'finished_at' });
    for (const row of rows) {
      result.set(row.retirement_id, row.removed ?? undefined);
    }
  }
  return result;
}

/** Elapsed time to remove access, against the objective (pure). */
export function deadlineOf(
  retirement: Pick<
    Retirement,
    'id' | 'entityRef' | 'owner' | 'status' | 'mode' | 'createdAt' | 'updatedAt'
  >,
  accessRemovedAt: string | undefined,
  objectiveMs: number,
  now: Date,
): RevocationDeadline {
  const start = new Date(retirement.createdAt).getTime();
  // A cancelled retirement stopped trying: its clock stops when it was
  // cancelled and it cannot breach (nothing was meant to be removed any more).
  const cancelled = retirement.status === 'cancelled';
  let end = now.getTime();
  if (accessRemovedAt) end = new Date(accessRemovedAt).getTime();
  else if (cancelled) end = new Date(retirement.updatedAt).getTime();
  const elapsedMs = Math.max(0, end - start);
  return {
    retirementId: retirement.id,
    entityRef: retirement.entityRef,
    owner: retirement.owner,
    status: retirement.status,
    mode: retirement.mode,
    startedAt: retirement.createdAt,
    accessRemovedAt,
    elapsedMs,
    objectiveMs,
    breached: !cancelled && elapsedMs > objectiveMs,
  };
}
