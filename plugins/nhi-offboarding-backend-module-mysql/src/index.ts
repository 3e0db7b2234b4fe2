/**
 * NHI Offboarding backend module: MySQL / MariaDB accounts as trust anchors.
 *
 * @packageDocumentation
 */
export { nhiOffboardingModuleMysql as default } from './module';
export { MysqlProvider, mysqlProviderFactory } from './MysqlProvider';
export type { MysqlProviderOptions } from './MysqlProvider';
export type { MysqlProviderConfig, MysqlProviderConnection } from './config';
export { readMysqlProviderConfig, MYSQL_PROVIDER_DEFAULTS } from './readConfig';
export { parseAccount, formatAccount } from './accounts';
export type { MysqlAccount } from './accounts';
