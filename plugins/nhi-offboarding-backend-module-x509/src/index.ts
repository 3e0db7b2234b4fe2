/**
 * NHI Offboarding backend module: X.509 client certificates of an
 * OpenSSL-style CA (index.txt) as trust anchors.
 *
 * @packageDocumentation
 */
export { nhiOffboardingModuleX509 as default } from './module';
export {
  X509Provider,
  x509ProviderFactory,
  certificateFingerprint,
} from './X509Provider';
export type { X509ProviderOptions } from './X509Provider';
export type { X509ProviderConfig } from './config';
export { readX509ProviderConfig, X509_PROVIDER_DEFAULTS } from './readConfig';
