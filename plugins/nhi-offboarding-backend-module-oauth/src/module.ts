import { createBackendModule } from '@backstage/backend-plugin-api';
import { nhiOffboardingProvidersExtensionPoint } from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { oauthProviderFactory } from './OauthProvider';

/**
 * Adds the provider type `oauth` to NHI Offboarding: every
 * `nhiOffboarding.providers` entry with `type: oauth` becomes an
 * {@link OauthProvider} for that authorization server.
 * @public
 */
export const nhiOffboardingModuleOauth = createBackendModule({
  pluginId: 'nhi-offboarding',
  moduleId: 'oauth',
  register(env) {
    env.registerInit({
      deps: { providers: nhiOffboardingProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProviderFactory('oauth', oauthProviderFactory);
      },
    });
  },
});
