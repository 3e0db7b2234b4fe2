import { randomUUID } from 'crypto';
import type { Knex } from 'knex';
import type {
  RetirementMode,
  TriggerFiring,
  TriggerFiringStatus,
  TriggerKind,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/** What the catalog watch keeps of an entity: enough to retire it once it is gone. */
export interface EntitySnapshot {
  kind: string;
  namespace: string;
  name: string;
  owner?: string;
  lifecycle?: string;
  annotations: Record<string, string>;
}

export interface NewFiring {
  /** Unique per occurrence: the same key twice is the same firing. */
  key: string;
  trigger: TriggerKind;
  entityRef: string;
  action: 'retire' | 'propose';
  detail: string;
  mode: RetirementMode;
  reason: string;
  quarantineDays?: number;
  snapshot?: EntitySnapshot;
  status?: TriggerFiringStatus;
  /** The person on whose behalf it fired (scaffolder), if any. */
  actor?: string;
}

interface FiringRow {
  id: string;
  key: string;
  trigger: string;
  entity_ref: string;
  action: string;
  status: string;
  detail: string | null;
  request: string;
  snapshot: string | null;
  retirement_id: string | null;
  decided_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface BaselineRow {
  entity_ref: string;
  lifecycle: string | null;
  snapshot: string;
  version: number;
  seen_at: string;
}

function firingFromRow(row: FiringRow): TriggerFiring & {
  snapshot?: EntitySnapshot;
  actor?: string;
} {
  const request = JSON.parse(row.request) as {
    mode: RetirementMode;
    reason: string;
    quarantineDays?: number;
    actor?: string;
  };
  return {
    id: row.id,
    trigger: row.trigger as TriggerKind,
    entityRef: row.entity_ref,
    action: row.action as 'retire' | 'propose',
    status: row.status as TriggerFiringStatus,
    detail: row.detail ?? undefined,
    mode: request.mode,
    reason: request.reason,
    quarantineDays: request.quarantineDays,
    retirementId: row.retirement_id ?? undefined,
    decidedBy: row.decided_by ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.snapshot ? { snapshot: JSON.parse(row.snapshot) } : {}),
    ...(request.actor ? { actor: request.actor } : {}),
  };
}

export type StoredFiring = ReturnType<typeof firingFromRow>;

function isKeyConflict(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    /UNIQUE constraint failed: nhi_trigger_firings\.key/.test(e?.message ?? '')
  );
}

/**
 * Firings of the retirement triggers and the catalog baseline. A firing's
 * key is unique, so recording the same occurrence twice returns the first
 * record instead of creating a second one: that is the whole idempotency
 * of triggers.
 */
export class TriggerStore {
  constructor(private readonly db: Knex) {}

  /** Records a firing; `created` is false when the key was already seen. */
  async record(
    input: NewFiring,
    now: Date,
  ): Promise<{ firing: StoredFiring; created: boolean }> {
    const at = now.toISOString();
    const row: FiringRow = {
      id: `trg_${randomUUID()}`,
      key: input.key,
      trigger: input.trigger,
      entity_ref: input.entityRef,
      action: input.action,
      status: input.status ?? 'pending',
      detail: input.detail,
      request: JSON.stringify({
        mode: input.mode,
        reason: input.reason,
        ...(input.quarantineDays !== undefined
          ? { quarantineDays: input.quarantineDays }
          : {}),
        ...(input.actor ? { actor: input.actor } : {}),
      }),
      snapshot: input.snapshot ? JSON.stringify(input.snapshot) : null,
      retirement_id: null,
      decided_by: null,
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db('nhi_trigger_firings').insert(row);
      return { firing: firingFromRow(row), created: true };
    } catch (error) {
      if (!isKeyConflict(error)) throw error;
      const existing = await this.db<FiringRow>('nhi_trigger_firings')
        .where('key', input.key)
        .first();
      if (!existing) throw error;
      return { firing: firingFromRow(existing), created: false };
    }
  }

  /**
   * Moves a firing from one status to another; false when it was no longer
   * in `from` (someone else got there first).
   */
  async transition(
    id: string,
    from: TriggerFiringStatus[],
    patch: {
      status: TriggerFiringStatus;
      detail?: string;
      retirementId?: string;
      decidedBy?: string;
    },
    now: Date,
  ): Promise<boolean> {
    const changed = await this.db('nhi_trigger_firings')
      .where('id', id)
      .whereIn('status', from)
      .update({
        status: patch.status,
        ...(patch.detail !== undefined ? { detail: patch.detail } : {}),
        ...(patch.retirementId ? { retirement_id: patch.retirementId } : {}),
        ...(patch.decidedBy ? { decided_by: patch.decidedBy } : {}),
        updated_at: now.toISOString(),
      });
    return changed === 1;
  }

  async get(id: string): Promise<StoredFiring | undefined> {
    const row = await this.db<FiringRow>('nhi_trigger_firings')
      .where('id', id)
      .first();
    return row ? firingFromRow(row) : undefined;
  }

  async list(filter: {
    status?: TriggerFiringStatus[];
    entityRef?: string;
    limit: number;
  }): Promise<StoredFiring[]> {
    const query = this.db<FiringRow>('nhi_trigger_firings')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit);
    if (filter.status?.length) query.whereIn('status', filter.status);
    if (filter.entityRef) query.where('entity_ref', filter.entityRef);
    return (await query).map(firingFromRow);
  }

  /** An open proposal for the entity other than `exceptId`, if any. */
  async openProposal(
    entityRef: string,
    exceptId: string,
  ): Promise<StoredFiring | undefined> {
    const row = await this.db<FiringRow>('nhi_trigger_firings')
      .where({ entity_ref: entityRef, status: 'proposed' })
      .whereNot('id', exceptId)
      .first();
    return row ? firingFromRow(row) : undefined;
  }

  // ---- catalog baseline --------------------------------------------------

  async baselineCount(): Promise<number> {
    const [{ n }] = await this.db('nhi_trigger_entities').count({ n: '*' });
    return Number(n);
  }

  async baselines(refs: string[]): Promise<Map<string, BaselineRow>> {
    const out = new Map<string, BaselineRow>();
    for (let i = 0; i < refs.length; i += 500) {
      const rows = await this.db<BaselineRow>('nhi_trigger_entities').whereIn(
        'entity_ref',
        refs.slice(i, i + 500),
      );
      rows.forEach(r => out.set(r.entity_ref, r));
    }
    return out;
  }

  /** Baselines of entities not seen since `before` (gone from the catalog). */
  async notSeenSince(before: string): Promise<BaselineRow[]> {
    return this.db<BaselineRow>('nhi_trigger_entities').where(
      'seen_at',
      '<',
      before,
    );
  }

  async saveBaselines(rows: BaselineRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 200) {
      await this.db('nhi_trigger_entities')
        .insert(rows.slice(i, i + 200))
        .onConflict('entity_ref')
        .merge(['lifecycle', 'snapshot', 'version', 'seen_at']);
    }
  }

  async deleteBaseline(entityRef: string): Promise<void> {
    await this.db('nhi_trigger_entities').where('entity_ref', entityRef).del();
  }

  /** Firings left `pending` by a crash, to be carried out again. */
  async stalePending(before: Date): Promise<StoredFiring[]> {
    const rows = await this.db<FiringRow>('nhi_trigger_firings')
      .where('status', 'pending')
      .where('updated_at', '<', before.toISOString())
      .limit(100);
    return rows.map(firingFromRow);
  }
}
