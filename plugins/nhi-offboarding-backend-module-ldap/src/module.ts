import { createBackendModule } from '@backstage/backend-plugin-api';
import { nhiOffboardingProvidersExtensionPoint } from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { ldapProviderFactory } from './LdapProvider';

/**
 * Adds the provider type `ldap` to NHI Offboarding: every
 * `nhiOffboarding.providers` entry with `type: ldap` becomes an
 * {@link LdapProvider} for that directory.
 * @public
 */
export const nhiOffboardingModuleLdap = createBackendModule({
  pluginId: 'nhi-offboarding',
  moduleId: 'ldap',
  register(env) {
    env.registerInit({
      deps: { providers: nhiOffboardingProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProviderFactory('ldap', ldapProviderFactory);
      },
    });
  },
});
