import type { Knex } from 'knex';
import { resolvePackagePath } from '@backstage/backend-plugin-api';

const migrationsDir = resolvePackagePath(
  '@nhi-offboarding/plugin-nhi-offboarding-backend',
  'migrations',
);

export async function applyDatabaseMigrations(db: Knex): Promise<void> {
  await db.migrate.latest({
    directory: migrationsDir,
    tableName: 'nhi_offboarding__knex_migrations',
  });
}
