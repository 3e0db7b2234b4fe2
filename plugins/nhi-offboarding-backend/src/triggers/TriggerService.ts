import type { Entity } from '@backstage/catalog-model';
import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type {
  Retirement,
  TriggerFiring,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import type { RetirementService } from '../service/RetirementService';
import type {
  EntitySnapshot,
  NewFiring,
  StoredFiring,
  TriggerStore,
} from './TriggerStore';

/** Live anchors: what some system may still trust. */
const LIVE = new Set(['active', 'unknown']);

/** Public shape of a firing (the snapshot stays internal). */
export function publicFiring(firing: StoredFiring): TriggerFiring {
  const { snapshot: _snapshot, actor: _actor, ...rest } = firing;
  return rest;
}

export function entityFromSnapshot(snapshot: EntitySnapshot): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: snapshot.kind,
    metadata: {
      name: snapshot.name,
      namespace: snapshot.namespace,
      annotations: snapshot.annotations,
    },
    spec: {
      ...(snapshot.owner ? { owner: snapshot.owner } : {}),
      ...(snapshot.lifecycle ? { lifecycle: snapshot.lifecycle } : {}),
    },
  };
}

/**
 * The one path every trigger goes through: record the firing under its
 * unique key (a second sight of the same key changes nothing), then start
 * the retirement or leave a proposal for the owner.
 */
export class TriggerService {
  constructor(
    private readonly options: {
      triggers: TriggerStore;
      retirements: RetirementStore;
      service: RetirementService;
      catalog: CatalogService;
      auth: AuthService;
      logger: LoggerService;
      /** Told about each new proposal (notifications). */
      onProposal?: (firing: TriggerFiring) => void;
      clock?: () => Date;
    },
  ) {}

  private now() {
    return this.options.clock?.() ?? new Date();
  }

  /** Fires a trigger; returns the firing (the earlier one for a repeated key). */
  async fire(input: NewFiring): Promise<{
    firing: TriggerFiring;
    duplicate: boolean;
  }> {
    const { firing, created } = await this.options.triggers.record(
      input,
      this.now(),
    );
    if (!created) {
      this.options.logger.info(
        `Trigger ${input.key} seen again: nothing new (firing ${firing.id} is ${firing.status})`,
      );
      return { firing: publicFiring(firing), duplicate: true };
    }
    return { firing: await this.carryOut(firing), duplicate: false };
  }

  /** Finishes firings a crash left pending; safe to run any time. */
  async resumePending(olderThanMs = 60_000): Promise<number> {
    const stale = await this.options.triggers.stalePending(
      new Date(this.now().getTime() - olderThanMs),
    );
    for (const firing of stale) await this.carryOut(firing);
    return stale.length;
  }

  async confirm(id: string, actor: string): Promise<TriggerFiring> {
    const firing = await this.getStored(id);
    const claimed = await this.options.triggers.transition(
      id,
      ['proposed'],
      { status: 'pending', decidedBy: actor },
      this.now(),
    );
    if (!claimed) {
      throw new ConflictError(
        `Proposal ${id} is ${firing.status}: only a proposed one can be confirmed`,
      );
    }
    return this.carryOut({ ...firing, status: 'pending', decidedBy: actor });
  }

  async dismiss(
    id: string,
    actor: string,
    reason: string,
  ): Promise<TriggerFiring> {
    const firing = await this.getStored(id);
    const done = await this.options.triggers.transition(
      id,
      ['proposed'],
      {
        status: 'dismissed',
        decidedBy: actor,
        detail: `${firing.detail ?? ''} — dismissed by ${actor}: ${reason}`,
      },
      this.now(),
    );
    if (!done) {
      throw new ConflictError(
        `Proposal ${id} is ${firing.status}: only a proposed one can be dismissed`,
      );
    }
    return publicFiring((await this.options.triggers.get(id))!);
  }

  async get(id: string): Promise<TriggerFiring> {
    return publicFiring(await this.getStored(id));
  }

  private async getStored(id: string): Promise<StoredFiring> {
    const firing = await this.options.triggers.get(id);
    if (!firing) throw new NotFoundError(`No proposal or firing with id ${id}`);
    return firing;
  }

  private async carryOut(firing: StoredFiring): Promise<TriggerFiring> {
    const { triggers, logger } = this.options;
    const confirmed = Boolean(firing.decidedBy);
    try {
      if (firing.action === 'propose' && !confirmed) {
        const reason = await this.whyNot(firing);
        if (reason) {
          await this.end(firing, 'skipped', reason);
        } else {
          await triggers.transition(
            firing.id,
            ['pending'],
            { status: 'proposed' },
            this.now(),
          );
          const proposal = publicFiring((await triggers.get(firing.id))!);
          this.options.onProposal?.(proposal);
        }
        return publicFiring((await triggers.get(firing.id))!);
      }

      const target = await this.resolve(firing);
      if (!target) {
        await this.end(
          firing,
          'rejected',
          `${firing.entityRef} is neither in the catalog nor known with live anchors`,
        );
        return publicFiring((await triggers.get(firing.id))!);
      }
      let retirement: Retirement;
      try {
        retirement = await this.options.service.start({
          entity: target.entity,
          anchors: target.anchors,
          mode: firing.mode,
          reason: firing.reason,
          quarantineDays: firing.quarantineDays,
          actor:
            firing.decidedBy ??
            firing.actor ??
            `nhi-offboarding:trigger/${firing.trigger}`,
          origin: {
            trigger: firing.trigger,
            firingId: firing.id,
            detail: firing.detail ?? firing.trigger,
            ...(firing.decidedBy ? { confirmedBy: firing.decidedBy } : {}),
          },
        });
      } catch (error) {
        if (error instanceof ConflictError) {
          await this.end(firing, 'skipped', error.message);
          return publicFiring((await triggers.get(firing.id))!);
        }
        throw error;
      }
      await triggers.transition(
        firing.id,
        ['pending'],
        { status: 'started', retirementId: retirement.id },
        this.now(),
      );
      logger.info(
        `Trigger ${firing.trigger} started retirement ${retirement.id} of ${firing.entityRef}`,
      );
    } catch (error) {
      // Left pending: resumePending carries it out on the next run.
      logger.warn(
        `Trigger firing ${firing.id} (${firing.entityRef}) failed, will be retried: ${error}`,
      );
    }
    return publicFiring((await triggers.get(firing.id))!);
  }

  /** Why a proposal would be pointless: an active retirement or open proposal. */
  private async whyNot(firing: StoredFiring): Promise<string | undefined> {
    try {
      await this.options.retirements.assertNoActiveRetirement(firing.entityRef);
    } catch (error) {
      if (error instanceof ConflictError) return error.message;
      throw error;
    }
    const open = await this.options.triggers.openProposal(
      firing.entityRef,
      firing.id,
    );
    return open
      ? `${firing.entityRef} already has an open proposal (${open.id})`
      : undefined;
  }

  private async end(
    firing: StoredFiring,
    status: 'skipped' | 'rejected',
    why: string,
  ) {
    await this.options.triggers.transition(
      firing.id,
      ['pending'],
      { status, detail: `${firing.detail ?? ''} — ${status}: ${why}` },
      this.now(),
    );
    this.options.logger.info(`Trigger firing ${firing.id} ${status}: ${why}`);
  }

  /**
   * The entity to retire: the catalog's, or, for one that left the catalog,
   * its last snapshot with the stored anchors that are still live.
   */
  private async resolve(
    firing: StoredFiring,
  ): Promise<{ entity: Entity; anchors?: TrustAnchor[] } | undefined> {
    const credentials = await this.options.auth.getOwnServiceCredentials();
    const entity = await this.options.catalog.getEntityByRef(firing.entityRef, {
      credentials,
    });
    if (entity) return { entity };
    const anchors = (
      await this.options.retirements.listAnchors(firing.entityRef)
    ).filter(a => LIVE.has(a.status));
    if (!firing.snapshot || anchors.length === 0) return undefined;
    return { entity: entityFromSnapshot(firing.snapshot), anchors };
  }
}
