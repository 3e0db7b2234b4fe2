/**
 * NHI Offboarding backend module: Redis ACL users as trust anchors.
 *
 * @packageDocumentation
 */
export { nhiOffboardingModuleRedis as default } from './module';
export { RedisProvider, redisProviderFactory } from './RedisProvider';
export type { RedisProviderOptions } from './RedisProvider';
export type {
  RedisAclPersistence,
  RedisProviderConfig,
  RedisProviderConnection,
} from './config';
export { readRedisProviderConfig, REDIS_PROVIDER_DEFAULTS } from './readConfig';
export { credentialFingerprint } from './acl';
export type { AclUser } from './acl';
