import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { NHI_ANNOTATION_PREFIX } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import type { TriggerOptions } from './readTriggerOptions';
import type { TriggerService } from './TriggerService';
import type { BaselineRow, EntitySnapshot, TriggerStore } from './TriggerStore';

const FIELDS = [
  'kind',
  'metadata.namespace',
  'metadata.name',
  'metadata.annotations',
  'spec.owner',
  'spec.lifecycle',
];
const PAGE = 500;
const LIVE = new Set(['active', 'unknown']);

export interface WatchResult {
  entities: number;
  lifecycleChanges: number;
  missing: number;
  fired: number;
}

function snapshotOf(entity: Entity): EntitySnapshot {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(entity.metadata.annotations ?? {})) {
    if (k.startsWith(NHI_ANNOTATION_PREFIX)) annotations[k] = v;
  }
  const spec = entity.spec ?? {};
  return {
    kind: entity.kind,
    namespace: entity.metadata.namespace ?? 'default',
    name: entity.metadata.name,
    owner: typeof spec.owner === 'string' ? spec.owner : undefined,
    lifecycle: typeof spec.lifecycle === 'string' ? spec.lifecycle : undefined,
    annotations,
  };
}

/**
 * The lifecycle and missing-entity triggers. The catalog publishes no
 * entity-change events (its events topics carry only processing errors and
 * conflicts), so a scheduled task compares the catalog with the state it
 * saw last. The first sight of an entity only records it: turning the
 * triggers on never retires what was already deprecated.
 */
export class CatalogWatch {
  constructor(
    private readonly options: {
      catalog: CatalogService;
      auth: AuthService;
      triggers: TriggerStore;
      retirements: RetirementStore;
      service: TriggerService;
      config: TriggerOptions;
      logger: LoggerService;
      clock?: () => Date;
    },
  ) {}

  async run(): Promise<WatchResult> {
    const { catalog, auth, triggers, config } = this.options;
    const started = (this.options.clock?.() ?? new Date()).toISOString();
    const credentials = await auth.getOwnServiceCredentials();
    const result: WatchResult = {
      entities: 0,
      lifecycleChanges: 0,
      missing: 0,
      fired: 0,
    };
    await this.options.service.resumePending();

    // A complete listing first: an entity is only missing if the whole
    // catalog was read without error.
    let cursor: string | undefined;
    do {
      const page = await catalog.queryEntities(
        cursor
          ? { cursor, limit: PAGE, fields: FIELDS }
          : { limit: PAGE, fields: FIELDS },
        { credentials },
      );
      cursor = page.pageInfo.nextCursor;
      result.entities += page.items.length;
      const refs = page.items.map(e => stringifyEntityRef(e));
      const known = await triggers.baselines(refs);
      const rows: BaselineRow[] = [];
      for (const entity of page.items) {
        const ref = stringifyEntityRef(entity);
        const snapshot = snapshotOf(entity);
        const before = known.get(ref);
        const lifecycle = snapshot.lifecycle ?? null;
        let version = before?.version ?? 0;
        if (before && before.lifecycle !== lifecycle) {
          result.lifecycleChanges++;
          version++;
          if (
            config.lifecycle.enabled &&
            lifecycle &&
            config.lifecycle.lifecycles.includes(lifecycle) &&
            (await this.isLinked(ref, snapshot))
          ) {
            await this.options.service.fire({
              key: `lifecycle:${ref}:${version}`,
              trigger: 'lifecycle',
              entityRef: ref,
              action: config.lifecycle.action,
              mode: config.lifecycle.mode,
              quarantineDays: config.lifecycle.quarantineDays,
              detail: `spec.lifecycle ${
                before.lifecycle ?? '(none)'
              } → ${lifecycle}`,
              reason: `The entity's lifecycle became ${lifecycle}`,
              snapshot,
            });
            result.fired++;
          }
        }
        rows.push({
          entity_ref: ref,
          lifecycle,
          snapshot: JSON.stringify(snapshot),
          version,
          seen_at: started,
        });
      }
      await triggers.saveBaselines(rows);
    } while (cursor);

    for (const gone of await triggers.notSeenSince(started)) {
      result.missing++;
      const snapshot = JSON.parse(gone.snapshot) as EntitySnapshot;
      const live = (
        await this.options.retirements.listAnchors(gone.entity_ref)
      ).filter(a => LIVE.has(a.status));
      if (config.missing.enabled && live.length > 0) {
        await this.options.service.fire({
          key: `missing:${gone.entity_ref}:${gone.version}:${gone.seen_at}`,
          trigger: 'missing',
          entityRef: gone.entity_ref,
          action: config.missing.action,
          mode: config.missing.mode,
          quarantineDays: config.missing.quarantineDays,
          detail: `left the catalog with ${live.length} live trust anchor(s)`,
          reason: `Orphaned trust anchors: ${gone.entity_ref} is no longer in the catalog`,
          snapshot,
        });
        result.fired++;
      }
      // Forgotten once handled: if it comes back it is a first sight again.
      await triggers.deleteBaseline(gone.entity_ref);
    }
    return result;
  }

  /** Only entities linked to credentials are worth a retirement. */
  private async isLinked(
    ref: string,
    snapshot: EntitySnapshot,
  ): Promise<boolean> {
    if (Object.keys(snapshot.annotations).length > 0) return true;
    return (await this.options.retirements.listAnchors(ref)).length > 0;
  }
}
