/**
 * NHI Offboarding backend module: SSH public keys in authorized_keys files
 * on hosts reached over SSH as trust anchors.
 *
 * @packageDocumentation
 */
export { nhiOffboardingModuleSsh as default } from './module';
export { SshProvider, sshProviderFactory } from './SshProvider';
export type { SshProviderOptions } from './SshProvider';
export type { SshProviderConfig, SshProviderHost } from './config';
export { readSshProviderConfig, SSH_PROVIDER_DEFAULTS } from './readConfig';
export { keyFingerprint, DISABLED_PREFIX } from './authorizedKeys';
