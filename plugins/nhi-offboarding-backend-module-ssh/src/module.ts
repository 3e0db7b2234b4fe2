import { createBackendModule } from '@backstage/backend-plugin-api';
import { nhiOffboardingProvidersExtensionPoint } from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { sshProviderFactory } from './SshProvider';

/**
 * Adds the provider type `ssh` to NHI Offboarding: every
 * `nhiOffboarding.providers` entry with `type: ssh` becomes an
 * {@link SshProvider} for its hosts.
 * @public
 */
export const nhiOffboardingModuleSsh = createBackendModule({
  pluginId: 'nhi-offboarding',
  moduleId: 'ssh',
  register(env) {
    env.registerInit({
      deps: { providers: nhiOffboardingProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProviderFactory('ssh', sshProviderFactory);
      },
    });
  },
});
