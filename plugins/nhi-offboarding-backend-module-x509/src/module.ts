import { createBackendModule } from '@backstage/backend-plugin-api';
import { nhiOffboardingProvidersExtensionPoint } from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { x509ProviderFactory } from './X509Provider';

/**
 * Adds the provider type `x509` to NHI Offboarding: every
 * `nhiOffboarding.providers` entry with `type: x509` becomes an
 * {@link X509Provider} for that CA.
 * @public
 */
export const nhiOffboardingModuleX509 = createBackendModule({
  pluginId: 'nhi-offboarding',
  moduleId: 'x509',
  register(env) {
    env.registerInit({
      deps: { providers: nhiOffboardingProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProviderFactory('x509', x509ProviderFactory);
      },
    });
  },
});
