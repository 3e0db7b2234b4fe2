import { createBackendPlugin } from '@backstage/backend-plugin-api';
import { startTestBackend } from '@backstage/backend-test-utils';
import {
  nhiOffboardingProvidersExtensionPoint,
  type TrustAnchorProviderFactory,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import module, { sshProviderFactory } from './index';

describe('nhiOffboardingModuleSsh', () => {
  it('adds the provider type `ssh` through the extension point', async () => {
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
    expect([...factories.keys()]).toEqual(['ssh']);
    expect(factories.get('ssh')).toBe(sshProviderFactory);
    await backend.stop();
  });
});
