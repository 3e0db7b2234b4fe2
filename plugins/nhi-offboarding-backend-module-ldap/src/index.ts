/**
 * NHI Offboarding backend module: LDAP directory service accounts as trust anchors.
 *
 * @packageDocumentation
 */
export { nhiOffboardingModuleLdap as default } from './module';
export { LdapProvider, ldapProviderFactory } from './LdapProvider';
export type { LdapProviderOptions } from './LdapProvider';
export type { LdapProviderConfig } from './config';
export { readLdapProviderConfig, LDAP_PROVIDER_DEFAULTS } from './readConfig';
