export { nhiOffboardingModuleDemoProvider as default } from './module';
export {
  DemoTrustAnchorProvider,
  DEMO_PROVIDER_TYPE,
  DEMO_PROVIDER_ACTIONS,
} from './DemoTrustAnchorProvider';
export type {
  DemoProviderAction,
  DemoProviderStats,
  DemoFailureMode,
  DemoTrustAnchorProviderOptions,
} from './DemoTrustAnchorProvider';
export {
  DemoCredentialStore,
  fakeFingerprint,
  parseDemoExternalId,
} from './DemoCredentialStore';
export type {
  DemoCredential,
  DemoCredentialStatus,
} from './DemoCredentialStore';
