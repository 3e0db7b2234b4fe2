import type { Knex } from 'knex';
import type {
  Retirement,
  RevocationDeadline,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { STAGE } from '../planning/stages';
import type { StepRow } from '../database/tables';
import { DRIFT_RATIONALE } from '../drift/reverificationChange';

/**
 * When access was first removed: a quarantine once the identity is disabled
 * and verified (every step up to the verify-disabled stage ended well), a
 * revoke when its first seal succeeded. Steps a later drift added are left
 * out: re-removing drifted access does not move the original time to revoke.
 */
export async function accessRemovedAtOf(
  db: Knex,
  retirements: Pick<Retirement, 'id' | 'mode'>[],
): Promise<Map<string, string | undefined>> {
  const result = new Map<string, string | undefined>();
  const modes = new Map(retirements.map(r => [r.id, r.mode]));
  for (let i = 0; i < retirements.length; i += 500) {
    const ids = retirements.slice(i, i + 500).map(r => r.id);
    const steps: Pick<
      StepRow,
      'retirement_id' | 'stage' | 'action' | 'status' | 'finished_at'
    >[] = await db<StepRow>('nhi_steps')
      .whereIn('retirement_id', ids)
      .whereNot('rationale', 'like', `${DRIFT_RATIONALE}%`)
      .where(q =>
        q.where('stage', '<=', STAGE.verifyDisabled).orWhere('action', 'seal'),
      )
      .select('retirement_id', 'stage', 'action', 'status', 'finished_at');
    const byRetirement = new Map<string, typeof steps>();
    for (const s of steps) {
      byRetirement.set(s.retirement_id, [
        ...(byRetirement.get(s.retirement_id) ?? []),
        s,
      ]);
    }
    for (const id of ids) {
      const own = byRetirement.get(id) ?? [];
      let removed: string | undefined;
      if (modes.get(id) === 'quarantine') {
        const first = own.filter(s => s.stage <= STAGE.verifyDisabled);
        if (
          first.length &&
          first.every(s => ['succeeded', 'excepted'].includes(s.status))
        ) {
          removed = first
            .map(s => s.finished_at ?? '')
            .sort()
            .pop();
        }
      } else {
        removed = own
          .filter(s => s.action === 'seal' && s.status === 'succeeded')
          .map(s => s.finished_at ?? '')
          .filter(Boolean)
          .sort()[0];
      }
      result.set(id, removed || undefined);
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
