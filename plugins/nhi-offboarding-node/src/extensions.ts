import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type {
  TrustAnchorProvider,
  TrustAnchorProviderFactory,
} from './provider';

/** @public */
export interface NhiOffboardingProvidersExtensionPoint {
  /**
   * Adds a provider type: every `nhiOffboarding.providers` entry with this
   * `type` is built by the factory.
   */
  addProviderFactory(type: string, factory: TrustAnchorProviderFactory): void;
  /** Adds a provider instance built in code. */
  addProvider(provider: TrustAnchorProvider): void;
}

/**
 * Backend modules add credential systems through this extension point.
 * @public
 */
export const nhiOffboardingProvidersExtensionPoint =
  createExtensionPoint<NhiOffboardingProvidersExtensionPoint>({
    id: 'nhi-offboarding.providers',
  });
