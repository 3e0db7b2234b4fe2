import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createBackendPlugin,
  coreServices,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import {
  nhiOffboardingProvidersExtensionPoint,
  TrustAnchorProvider,
  TrustAnchorProviderFactory,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import nhiOffboardingModuleDemoProvider from '.';
import { DemoTrustAnchorProvider } from './DemoTrustAnchorProvider';

describe('nhiOffboardingModuleDemoProvider', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-demo-module-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers a factory of type demo that builds simulated providers from config', async () => {
    const factories = new Map<string, TrustAnchorProviderFactory>();
    const built: TrustAnchorProvider[] = [];

    // Stands in for the NHI Offboarding backend plugin: it owns the extension
    // point and builds one provider per configured entry.
    const fakePlugin = createBackendPlugin({
      pluginId: 'nhi-offboarding',
      register(env) {
        env.registerExtensionPoint(nhiOffboardingProvidersExtensionPoint, {
          addProviderFactory: (type, factory) => factories.set(type, factory),
          addProvider: provider => built.push(provider),
        });
        env.registerInit({
          deps: {
            config: coreServices.rootConfig,
            logger: coreServices.logger,
          },
          async init({ config, logger }) {
            for (const entry of config.getConfigArray(
              'nhiOffboarding.providers',
            )) {
              const factory = factories.get(entry.getString('type'));
              if (factory) {
                built.push(
                  await factory({
                    id: entry.getString('id'),
                    config: entry,
                    logger,
                  }),
                );
              }
            }
          },
        });
      },
    });

    await startTestBackend({
      features: [
        fakePlugin,
        nhiOffboardingModuleDemoProvider,
        mockServices.rootConfig.factory({
          data: {
            nhiOffboarding: {
              providers: [
                {
                  id: 'demo',
                  type: 'demo',
                  latencyMs: 0,
                  failureRate: 0,
                  concurrency: 4,
                  stateFile: path.join(dir, 'demo.json'),
                },
                { id: 'other', type: 'not-demo' },
              ],
            },
          },
        }),
      ],
    });

    expect([...factories.keys()]).toEqual(['demo']);
    expect(built).toHaveLength(1);
    const provider = built[0] as DemoTrustAnchorProvider;
    expect(provider).toBeInstanceOf(DemoTrustAnchorProvider);
    expect(provider).toMatchObject({
      id: 'demo',
      type: 'demo',
      simulated: true,
      limits: { concurrency: 4 },
    });
    expect(provider.stateFile).toBe(path.join(dir, 'demo.json'));
  });
});
