import {
  coreServices,
  createBackendPlugin,
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import {
  nhiRetirementSignalChannel,
  nhiOffboardingPermissions,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  nhiOffboardingProvidersExtensionPoint,
  TrustAnchorProvider,
  TrustAnchorProviderFactory,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { applyDatabaseMigrations } from './database/migrations';
import { tuneDatabase } from './database/tuneDatabase';
import { disablePreparedStatements } from './database/dbUtil';
import { RetirementStore } from './database/RetirementStore';
import { AnchorDiscovery } from './discovery/AnchorDiscovery';
import { DiscoverySweep } from './discovery/DiscoverySweep';
import { RetirementEngine } from './engine/RetirementEngine';
import { readEngineOptions } from './engine/readEngineOptions';
import { ProviderRegistry } from './providers/ProviderRegistry';
import { CatalogProvider } from './providers/catalog/CatalogProvider';
import { postgresProviderFactory } from './providers/postgres';
import { RetirementService } from './service/RetirementService';
import { createRouter } from './service/router';
import { ReverificationSweep } from './drift/ReverificationSweep';
import { readReverificationOptions } from './drift/readReverificationOptions';
import { GovernanceService } from './governance/GovernanceService';
import { readGovernanceOptions } from './governance/readGovernanceOptions';
import { RetirementNotifier } from './notifications/RetirementNotifier';
import { setUpTriggers } from './triggers/setUpTriggers';

/** Provider types this plugin brings; modules add more. */
const BUILT_IN_FACTORIES: [string, TrustAnchorProviderFactory][] = [
  ['postgres', postgresProviderFactory],
];

/**
 * NHI Offboarding backend plugin: discovers trust anchors, runs retirements
 * durably and keeps their hash-chained evidence.
 * @public
 */
export const nhiOffboardingPlugin = createBackendPlugin({
  pluginId: 'nhi-offboarding',
  register(env) {
    const factories = new Map<string, TrustAnchorProviderFactory>(
      BUILT_IN_FACTORIES,
    );
    const added: TrustAnchorProvider[] = [];
    env.registerExtensionPoint(nhiOffboardingProvidersExtensionPoint, {
      addProviderFactory(type, factory) {
        if (factories.has(type)) {
          throw new Error(
            `NHI Offboarding provider type "${type}" is registered twice`,
          );
        }
        factories.set(type, factory);
      },
      addProvider(provider) {
        added.push(provider);
      },
    });

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        auditor: coreServices.auditor,
        permissions: coreServices.permissions,
        httpAuth: coreServices.httpAuth,
        permissionsRegistry: coreServices.permissionsRegistry,
        httpRouter: coreServices.httpRouter,
        auth: coreServices.auth,
        lifecycle: coreServices.lifecycle,
        catalog: catalogServiceRef,
        signals: signalsServiceRef,
        events: eventsServiceRef,
        notifications: notificationService,
      },
      async init(deps) {
        const {
          config,
          logger,
          database,
          scheduler,
          auditor,
          catalog,
          auth,
          lifecycle,
        } = deps;
        deps.permissionsRegistry.addPermissions(nhiOffboardingPermissions);
        const db = await database.getClient();
        if (!database.migrations?.skip) {
          await applyDatabaseMigrations(db);
        }
        await tuneDatabase(db);
        if (
          config.getOptionalBoolean('nhiOffboarding.preparedStatements') ===
          false
        ) {
          disablePreparedStatements(db);
        }

        // Catalog Resources mapped onto a system provider are left to it.
        const systemProviderIds = new Set<string>();
        const catalogProvider = new CatalogProvider(catalog, auth, id =>
          systemProviderIds.has(id),
        );
        const registry = await ProviderRegistry.fromConfig({
          config,
          logger,
          factories,
          providers: [catalogProvider, ...added],
        });
        registry
          .list()
          .filter(p => !p.manual)
          .forEach(p => systemProviderIds.add(p.id));
        logger.info(
          `NHI Offboarding providers: ${registry
            .info()
            .map(p => `${p.id} (${p.type}${p.simulated ? ', simulated' : ''})`)
            .join(', ')}`,
        );

        // The same facts as the evidence table go to Backstage's audit log,
        // a signal tells open Retire tabs to re-read the retirement, and the
        // notifier tells owners and approvers what needs them.
        let notifier: RetirementNotifier | undefined;
        const store = new RetirementStore(db, records => {
          notifier?.onRecords(records);
          const last = records[records.length - 1];
          deps.signals
            .publish({
              recipients: { type: 'broadcast' },
              channel: nhiRetirementSignalChannel(last.retirementId),
              message: {
                retirementId: last.retirementId,
                seq: last.seq,
                kind: last.kind,
              },
            })
            .catch(error => logger.warn(`Signal failed: ${error}`));
          for (const record of records) {
            auditor
              .createEvent({
                eventId: 'evidence',
                severityLevel: 'medium',
                meta: {
                  retirementId: record.retirementId,
                  seq: record.seq,
                  kind: record.kind,
                  actor: record.actor,
                  summary: record.summary,
                  hash: record.hash,
                },
              })
              .then(event => event.success())
              .catch(error => logger.warn(`Auditor event failed: ${error}`));
          }
        });

        if (
          config.getOptionalBoolean('nhiOffboarding.notifications.enabled') !==
          false
        ) {
          notifier = new RetirementNotifier({
            notifications: deps.notifications,
            store,
            catalog,
            auth,
            logger: logger.child({ component: 'notifications' }),
            approvers:
              config.getOptionalStringArray(
                'nhiOffboarding.notifications.approvers',
              ) ?? [],
          });
        }

        const engineOptions = readEngineOptions(config);
        const engine = new RetirementEngine(
          store,
          registry,
          logger.child({ component: 'engine' }),
          engineOptions,
        );
        const discovery = new AnchorDiscovery({
          catalog,
          auth,
          providers: registry,
          store,
          logger,
        });
        const service = new RetirementService({
          store,
          discovery,
          providers: registry,
          onWork: () => engine.wake(),
        });

        if (
          config.getOptionalBoolean('nhiOffboarding.engine.enabled') !== false
        ) {
          lifecycle.addStartupHook(() => engine.start());
        }
        lifecycle.addShutdownHook(async () => {
          await engine.stop();
          await registry.close();
        });

        await scheduler.scheduleTask({
          id: 'nhi-offboarding-quarantine-expiry',
          frequency: { minutes: 1 },
          timeout: { minutes: 1 },
          initialDelay: { seconds: 10 },
          fn: async () => {
            const ended = await store.endExpiredQuarantines(new Date());
            if (ended.length) {
              logger.info(
                `Quarantine over for ${ended.length} retirement(s): final revoke starts`,
              );
              engine.wake();
            }
          },
        });

        // Residual access and orphans need the anchors of every linked
        // entity, not only of those someone opened.
        const sweep = new DiscoverySweep({
          catalog,
          auth,
          providers: registry,
          discovery,
          logger,
        });
        const sweepSchedule = config.has('nhiOffboarding.discovery.schedule')
          ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
              config.getConfig('nhiOffboarding.discovery.schedule'),
            )
          : {
              frequency: { minutes: 10 },
              timeout: { minutes: 15 },
              initialDelay: { seconds: 30 },
            };
        await scheduler.scheduleTask({
          id: 'nhi-offboarding-discovery-sweep',
          ...sweepSchedule,
          fn: async () => {
            const result = await sweep.run();
            logger.info(
              `Discovery sweep: ${result.entities} linked entities, ${result.anchors} anchors, ${result.failed} failed`,
            );
          },
        });

        // Drift: finished retirements' anchors are re-asked on a schedule
        // that runs on one backend instance at a time (scope global).
        const reverificationConfig = readReverificationOptions(config);
        const reverification = new ReverificationSweep({
          db,
          store,
          providers: registry,
          logger: logger.child({ component: 'reverification' }),
          options: reverificationConfig,
        });
        if (reverificationConfig.enabled) {
          await scheduler.scheduleTask({
            id: 'nhi-offboarding-reverification',
            ...reverificationConfig.schedule,
            fn: async signal => {
              const result = await reverification.run(signal as AbortSignal);
              logger.info(
                `Re-verification: ${result.retirements} retirement(s), ${result.clean} clean, ${result.drift} drift, ${result.inconclusive} inconclusive in ${result.durationMs} ms`,
              );
            },
          });
        }
        const governance = new GovernanceService({
          db,
          store,
          catalog,
          auth,
          options: readGovernanceOptions(config),
        });
        const triggers = await setUpTriggers({
          config,
          db,
          catalog,
          auth,
          logger: logger.child({ component: 'triggers' }),
          scheduler,
          events: deps.events,
          retirements: store,
          service,
          notifier,
        });

        deps.httpRouter.use(
          await createRouter({
            triggers,
            httpAuth: deps.httpAuth,
            auth,
            permissions: deps.permissions,
            auditor,
            catalog,
            store,
            discovery,
            service,
            providers: registry,
            retiredLifecycles: config.getOptionalStringArray(
              'nhiOffboarding.retiredLifecycles',
            ) ?? ['retired', 'decommissioned'],
            residualAccessCacheMs:
              (config.getOptionalNumber(
                'nhiOffboarding.residualAccessCacheSeconds',
              ) ?? 5) * 1000,
            retirementListCacheMs:
              (config.getOptionalNumber(
                'nhiOffboarding.retirementListCacheSeconds',
              ) ?? 2) * 1000,
            governance,
            reverification,
          }),
        );
      },
    });
  },
});
