/**
 * The `postgres` provider: login roles of a PostgreSQL server as trust
 * anchors (kind `db-user`).
 */
export { PostgresProvider, postgresProviderFactory } from './PostgresProvider';
export type { PostgresProviderOptions } from './PostgresProvider';
export type {
  PostgresProviderConfig,
  PostgresProviderConnection,
} from './config';
export {
  readPostgresProviderConfig,
  POSTGRES_PROVIDER_DEFAULTS,
} from './readConfig';
