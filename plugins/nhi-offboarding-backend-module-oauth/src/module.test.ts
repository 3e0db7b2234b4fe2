import { createBackendPlugin } from '@backstage/backend-plugin-api';
import { startTestBackend } from '@backstage/backend-test-utils';
import {
  nhiOffboardingProvidersExtensionPoint,
  type TrustAnchorProviderFactory,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import module, { oauthProviderFactory } from './index';

describe('nhiOffboardingModuleOauth', () => {
  it('adds the provider type `oauth` through the extension point', async () => {
    const factories = new Map<string, TrustAnchorProviderFactory>();
    // Stands in for the NHI Offboarding backend plugin, which owns the point.
    const plugin = createBackendPlugin({
      pluginId: 'nhi-offboarding',
      register(env) {
        env.registerExtensionPoint(nhiOffboardingProvidersExtensionPoint, {
          addProviderFactory: (type, factory) => factories.set(type, factory),
          addProvider: () => {},
        });
        env.registerInit({ deps: {}, async init() {} });
      },
    });
    const backend = await startTestBackend({ features: [plugin, module] });
    expect([...factories.keys()]).toEqual(['oauth']);
    expect(factories.get('oauth')).toBe(oauthProviderFactory);
    await backend.stop();
  });
});
