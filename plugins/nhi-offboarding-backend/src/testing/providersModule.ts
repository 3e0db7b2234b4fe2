import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  nhiOffboardingProvidersExtensionPoint,
  type TrustAnchorProvider,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

/** A backend module that gives the plugin these providers (for tests). */
export function providersModule(...providers: TrustAnchorProvider[]) {
  return createBackendModule({
    pluginId: 'nhi-offboarding',
    moduleId: 'test-system',
    register(env) {
      env.registerInit({
        deps: { registry: nhiOffboardingProvidersExtensionPoint },
        async init({ registry }) {
          providers.forEach(p => registry.addProvider(p));
        },
      });
    },
  });
}
