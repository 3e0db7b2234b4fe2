/*
 * The backend of benchmark 5, run as its own process (the load comes from
 * another one): the NHI Offboarding plugin in startTestBackend, on a database
 * that bench/api-scale.ts seeded, with an in-memory catalog holding the
 * world's entities. The engine is off (nhiOffboarding.engine.enabled: false):
 * only the API is measured. Prints `LISTENING <port>` when ready and stops on
 * SIGTERM or when its parent goes away.
 *
 *   node --require <nodeTransform> bench/lib/api-server.ts --db sqlite|postgres
 *     (--sqlite-dir DIR | --pg-prefix PREFIX) --size small|full
 */
import {
  coreServices,
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import type { Entity } from '@backstage/catalog-model';
import { nhiOffboardingPlugin } from '../../plugins/nhi-offboarding-backend/src/plugin';
import { QueryTimer, dbOf, log, parseArgs, sizeOf } from './common';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { createBenchDb } from './db';
import { SCALE, catalogEntities } from './scaleData';

/** Hands the world's entities to the real catalog, as one full mutation. */
function benchEntityProvider(entities: Entity[]) {
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: 'bench-entities',
    register(env) {
      env.registerInit({
        deps: { catalog: catalogProcessingExtensionPoint },
        async init({ catalog }) {
          catalog.addEntityProvider({
            getProviderName: () => 'bench-entities',
            async connect(connection) {
              const location = 'url:https://bench.invalid/world.yaml';
              await connection.applyMutation({
                type: 'full',
                entities: entities.map(entity => ({
                  locationKey: 'bench-entities',
                  entity: {
                    ...entity,
                    metadata: {
                      ...entity.metadata,
                      annotations: {
                        'backstage.io/managed-by-location': location,
                        'backstage.io/managed-by-origin-location': location,
                      },
                    },
                  },
                })),
              });
            },
          });
        },
      });
    },
  });
}

async function main() {
  const args = parseArgs();
  const kind = dbOf(args);
  const attach = {
    sqliteDir: args['sqlite-dir'],
    pgPrefix: args['pg-prefix'],
  };
  const db = await createBenchDb(kind, 'b5', { attach, migrate: false });
  // The real catalog (its own database next to the plugin's, same kind,
  // kept with it), so the catalog's own GET by-name is measured in the same
  // process and run as the plugin's endpoints.
  const catalogDb = await createBenchDb(kind, 'b5', {
    attach,
    migrate: false,
    pluginId: 'catalog',
  });
  // The real catalog ingests ~50 entities/s on this 2-core machine, so at
  // full size it holds the first --catalog-limit components (the load picks
  // entities among those; the plugin's tables hold the whole world).
  const limit = Number(args['catalog-limit'] ?? Infinity);
  const entities = catalogEntities(SCALE[sizeOf(args)]).filter(
    (e, i) => e.kind !== 'Component' || i < limit,
  );
  const backend = await startTestBackend({
    features: [
      nhiOffboardingPlugin,
      import('@backstage/plugin-catalog-backend'),
      benchEntityProvider(entities),
      createServiceFactory({
        service: coreServices.database,
        deps: { plugin: coreServices.pluginMetadata },
        async factory({ plugin }) {
          return plugin.getId() === 'catalog'
            ? { getClient: async () => catalogDb.knex }
            : {
                getClient: async () => db.knex,
                migrations: { skip: true },
              };
        },
      }),
      mockServices.rootConfig.factory({
        data: {
          nhiOffboarding: { engine: { enabled: false } },
          // The world does not change: no reprocessing during the load.
          catalog: { processingInterval: { hours: 24 } },
        },
      }),
    ],
  });
  const port = backend.server.port();
  // BENCH_API_SQL_TIMES=<file>: every statement of the load by total time,
  // written when the server stops (where an endpoint's time goes).
  const sqlTimesFile = process.env.BENCH_API_SQL_TIMES;
  const sqlTimer = sqlTimesFile ? new QueryTimer(db.knex as any) : undefined;
  // Wait until the catalog has stitched every entity of the world.
  const components = entities.filter(e => e.kind === 'Component').length;
  const header = mockCredentials.user.header('user:default/alice');
  for (let last = -1; ; ) {
    const res = await fetch(
      `http://127.0.0.1:${port}/api/catalog/entities/by-query?limit=1&filter=kind=component`,
      { headers: { authorization: header } },
    );
    const total = res.ok ? (await res.json()).totalItems : 0;
    if (total >= components) break;
    if (total !== last)
      log(`catalog: ${total} / ${entities.length - 2} components`);
    last = total;
    await new Promise(r => setTimeout(r, 2000));
  }
  process.stdout.write(`LISTENING ${port}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (sqlTimer && sqlTimesFile)
      writeFileSync(
        sqlTimesFile,
        sqlTimer.markdown('plugin SQL by total time', 40),
      );
    await backend.stop().catch(() => {});
    await db.dispose().catch(() => {});
    await catalogDb.dispose().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const profileDir = process.env.BENCH_API_CPU_PROF;
  if (profileDir) process.on('SIGUSR2', toggleProfile(profileDir));
  // Never outlive the load generator.
  setInterval(() => {
    if (process.ppid === 1) void stop();
  }, 1000).unref();
}

/**
 * SIGUSR2 starts a CPU profile, the next one writes it to
 * `<dir>/window-<n>.cpuprofile`: the load generator profiles one endpoint's
 * load at a time, without start-up and the catalog's ingestion.
 */
function toggleProfile(dir: string): () => void {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<any>((resolve, reject) =>
      session.post(method, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
  let windows = 0;
  let running: Promise<unknown> | undefined;
  return () => {
    if (!running) {
      running = post('Profiler.enable').then(() => post('Profiler.start'));
      return;
    }
    const started = running;
    running = undefined;
    const n = ++windows;
    void started
      .then(() => post('Profiler.stop'))
      .then(({ profile }) =>
        writeFileSync(
          join(dir, `window-${n}.cpuprofile`),
          JSON.stringify(profile),
        ),
      )
      .catch(error => log(`profile window ${n} failed: ${error}`));
  };
}

main().catch(error => {
  log(`api-server failed: ${error?.stack ?? error}`);
  process.exit(1);
});
