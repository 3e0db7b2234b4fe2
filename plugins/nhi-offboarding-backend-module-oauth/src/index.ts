/**
 * NHI Offboarding backend module: OAuth 2.0 / OIDC clients as trust anchors.
 *
 * @packageDocumentation
 */
export { nhiOffboardingModuleOauth as default } from './module';
export { OauthProvider, oauthProviderFactory } from './OauthProvider';
export type { OauthProviderOptions } from './OauthProvider';
export type { OauthProviderConfig, OauthClientCredentials } from './config';
export { readOauthProviderConfig, OAUTH_PROVIDER_DEFAULTS } from './readConfig';
