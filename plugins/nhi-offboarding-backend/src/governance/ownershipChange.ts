import type { Knex } from 'knex';
import { ConflictError } from '@backstage/errors';
import type { EvidenceFacts } from '../evidence';
import type { RetirementRow, StepRow } from '../database/tables';

export interface OwnershipReassignment {
  anchorId: string;
  owner: string;
  previousOwner?: string;
}

const iso = (d: Date) => d.toISOString();

/**
 * Records a new owner for a shared anchor of this retirement, inside the
 * store's locked transaction: the override (which discovery does not
 * overwrite) and an `ownership` evidence record are written together.
 * Idempotent: the same owner again changes nothing.
 */
export async function applyOwnershipReassignment(
  trx: Knex.Transaction,
  facts: EvidenceFacts[],
  row: RetirementRow,
  input: OwnershipReassignment,
  actor: string,
  now: Date,
): Promise<void> {
  const step = await trx<StepRow>('nhi_steps')
    .where({ retirement_id: row.id, anchor_id: input.anchorId })
    .first('id');
  if (!step) {
    throw new ConflictError(
      `Trust anchor ${input.anchorId} is not part of retirement ${row.id}`,
    );
  }
  const existing = await trx('nhi_anchor_owners')
    .where('anchor_id', input.anchorId)
    .first();
  if (existing?.owner === input.owner) return;
  const record = {
    anchor_id: input.anchorId,
    owner: input.owner,
    previous_owner: existing?.owner ?? input.previousOwner ?? null,
    retirement_id: row.id,
    reassigned_by: actor,
    reassigned_at: iso(now),
  };
  if (existing) {
    await trx('nhi_anchor_owners')
      .where('anchor_id', input.anchorId)
      .update(record);
  } else {
    await trx('nhi_anchor_owners').insert(record);
  }
  facts.push({
    retirementId: row.id,
    kind: 'ownership',
    anchorId: input.anchorId,
    actor,
    at: iso(now),
    summary: `Ownership of shared trust anchor moved from ${
      record.previous_owner ?? 'nobody'
    } to ${input.owner} by ${actor}`,
    data: { owner: input.owner, previousOwner: record.previous_owner },
  });
}
