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
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { nhiOffboardingPlugin } from '../../plugins/nhi-offboarding-backend/src/plugin';
import { dbOf, log, parseArgs, sizeOf } from './common';
import { createBenchDb } from './db';
import { SCALE, catalogEntities } from './scaleData';

async function main() {
  const args = parseArgs();
  const db = await createBenchDb(dbOf(args), 'b5', {
    attach: { sqliteDir: args['sqlite-dir'], pgPrefix: args['pg-prefix'] },
    migrate: false,
  });
  const backend = await startTestBackend({
    features: [
      nhiOffboardingPlugin,
      mockServices.database.factory({
        knex: db.knex,
        migrations: { skip: true },
      }),
      catalogServiceMock.factory({
        entities: catalogEntities(SCALE[sizeOf(args)]),
      }),
      mockServices.rootConfig.factory({
        data: { nhiOffboarding: { engine: { enabled: false } } },
      }),
    ],
  });
  const port = backend.server.port();
  process.stdout.write(`LISTENING ${port}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await backend.stop().catch(() => {});
    await db.dispose().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Never outlive the load generator.
  setInterval(() => {
    if (process.ppid === 1) void stop();
  }, 1000).unref();
}

main().catch(error => {
  log(`api-server failed: ${error?.stack ?? error}`);
  process.exit(1);
});
