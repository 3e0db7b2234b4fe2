import { createBackendModule } from '@backstage/backend-plugin-api';
import { nhiOffboardingProvidersExtensionPoint } from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { mysqlProviderFactory } from './MysqlProvider';

/**
 * Adds the provider type `mysql` to NHI Offboarding: every
 * `nhiOffboarding.providers` entry with `type: mysql` becomes a
 * {@link MysqlProvider} for that server.
 * @public
 */
export const nhiOffboardingModuleMysql = createBackendModule({
  pluginId: 'nhi-offboarding',
  moduleId: 'mysql',
  register(env) {
    env.registerInit({
      deps: { providers: nhiOffboardingProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProviderFactory('mysql', mysqlProviderFactory);
      },
    });
  },
});
