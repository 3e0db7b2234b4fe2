import { createBackendModule } from '@backstage/backend-plugin-api';
import { nhiOffboardingProvidersExtensionPoint } from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { redisProviderFactory } from './RedisProvider';

/**
 * Adds the provider type `redis` to NHI Offboarding: every
 * `nhiOffboarding.providers` entry with `type: redis` becomes a
 * {@link RedisProvider} for that server.
 * @public
 */
export const nhiOffboardingModuleRedis = createBackendModule({
  pluginId: 'nhi-offboarding',
  moduleId: 'redis',
  register(env) {
    env.registerInit({
      deps: { providers: nhiOffboardingProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProviderFactory('redis', redisProviderFactory);
      },
    });
  },
});
