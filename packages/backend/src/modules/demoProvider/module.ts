import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { nhiOffboardingProvidersExtensionPoint } from '@nhi-offboarding/plugin-nhi-offboarding-node';
import {
  DEMO_PROVIDER_TYPE,
  DemoTrustAnchorProvider,
} from './DemoTrustAnchorProvider';

/**
 * Adds the provider type `demo` to NHI Offboarding: a SIMULATED credential
 * store for trying the portal without real systems. Each
 * `nhiOffboarding.providers` entry with `type: demo` becomes one instance
 * with its own state file.
 */
export const nhiOffboardingModuleDemoProvider = createBackendModule({
  pluginId: 'nhi-offboarding',
  moduleId: 'demo-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: nhiOffboardingProvidersExtensionPoint,
        logger: coreServices.logger,
      },
      async init({ providers, logger }) {
        providers.addProviderFactory(DEMO_PROVIDER_TYPE, options => {
          const { id, config } = options;
          const provider = DemoTrustAnchorProvider.fromConfig({
            id,
            config,
            logger: options.logger ?? logger.child({ provider: id }),
          });
          logger.info(
            `Provider ${id} is a SIMULATED credential store (type demo), state in ${provider.stateFile}`,
          );
          return provider;
        });
      },
    });
  },
});
