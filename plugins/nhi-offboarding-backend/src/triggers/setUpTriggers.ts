import type { Knex } from 'knex';
import type {
  AuthService,
  LoggerService,
  RootConfigService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { EventsService } from '@backstage/plugin-events-node';
import type { RetirementStore } from '../database/RetirementStore';
import type { RetirementNotifier } from '../notifications/RetirementNotifier';
import type { RetirementService } from '../service/RetirementService';
import { CatalogWatch } from './CatalogWatch';
import { EventsTrigger } from './EventsTrigger';
import { readTriggerOptions } from './readTriggerOptions';
import { entityFromSnapshot, TriggerService } from './TriggerService';
import { ownerOf } from '../service/RetirementService';
import { TriggerStore } from './TriggerStore';

/**
 * Wires the retirement triggers: the catalog watch (lifecycle, missing) on
 * the scheduler, the event trigger on the events service, and the service
 * the scaffolder trigger and the proposal routes use.
 */
export async function setUpTriggers(deps: {
  config: RootConfigService;
  db: Knex;
  catalog: CatalogService;
  auth: AuthService;
  logger: LoggerService;
  scheduler: SchedulerService;
  events: EventsService;
  retirements: RetirementStore;
  service: RetirementService;
  notifier?: RetirementNotifier;
}): Promise<{ service: TriggerService; store: TriggerStore }> {
  const options = readTriggerOptions(deps.config);
  const store = new TriggerStore(deps.db);
  const service = new TriggerService({
    triggers: store,
    retirements: deps.retirements,
    service: deps.service,
    catalog: deps.catalog,
    auth: deps.auth,
    logger: deps.logger,
    onProposal: firing => {
      if (!deps.notifier) return;
      proposalOwner(store, deps, firing.id)
        .then(owner => deps.notifier!.onProposal(firing, owner))
        .catch(error =>
          deps.logger.warn(`Proposal notification failed: ${error}`),
        );
    },
  });

  if (options.lifecycle.enabled || options.missing.enabled) {
    const watch = new CatalogWatch({
      catalog: deps.catalog,
      auth: deps.auth,
      triggers: store,
      retirements: deps.retirements,
      service,
      config: options,
      logger: deps.logger,
    });
    // Global: one instance of a multi-instance deployment compares at a time.
    await deps.scheduler.scheduleTask({
      id: 'nhi-offboarding-catalog-watch',
      scope: 'global',
      frequency: { seconds: options.watchFrequencySeconds },
      timeout: { minutes: 10 },
      initialDelay: { seconds: Math.min(options.watchFrequencySeconds, 15) },
      fn: async () => {
        const r = await watch.run();
        if (r.fired || r.lifecycleChanges || r.missing) {
          deps.logger.info(
            `Catalog watch: ${r.entities} entities, ${r.lifecycleChanges} lifecycle change(s), ${r.missing} gone, ${r.fired} trigger(s) fired`,
          );
        }
      },
    });
  }

  if (options.events.enabled) {
    const trigger = new EventsTrigger({
      config: options.events,
      service,
      triggers: store,
      logger: deps.logger,
    });
    await deps.events.subscribe({
      id: 'nhi-offboarding-retire',
      topics: [options.events.topic],
      onEvent: event => trigger.onEvent(event),
    });
  }
  return { service, store };
}

/** The owner of a proposal's entity, from the catalog or the last snapshot. */
async function proposalOwner(
  store: TriggerStore,
  deps: { catalog: CatalogService; auth: AuthService },
  id: string,
): Promise<string | undefined> {
  const firing = await store.get(id);
  if (!firing) return undefined;
  const entity =
    (await deps.catalog.getEntityByRef(firing.entityRef, {
      credentials: await deps.auth.getOwnServiceCredentials(),
    })) ?? (firing.snapshot ? entityFromSnapshot(firing.snapshot) : undefined);
  return entity ? ownerOf(entity) : undefined;
}
