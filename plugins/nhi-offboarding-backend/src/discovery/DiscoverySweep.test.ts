import { mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { Entity } from '@backstage/catalog-model';
import { applyDatabaseMigrations } from '../database/migrations';
import { RetirementStore } from '../database/RetirementStore';
import { ProviderRegistry } from '../providers/ProviderRegistry';
import { CatalogProvider } from '../providers/catalog/CatalogProvider';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';
import { AnchorDiscovery } from './AnchorDiscovery';
import { DiscoverySweep } from './DiscoverySweep';
import { TestDatabases } from '@backstage/backend-test-utils';

const databases = TestDatabases.create({
  ids: ['SQLITE_3'],
  disableDocker: true,
});

const component = (
  name: string,
  extra: Partial<Entity['metadata']> = {},
  relations: Entity['relations'] = [],
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', ...extra },
  spec: {
    type: 'service',
    lifecycle: 'deprecated',
    owner: 'group:default/payments',
  },
  relations,
});

describe('DiscoverySweep', () => {
  it('discovers every entity linked to a credential and nothing else', async () => {
    const entities: Entity[] = [
      component('annotated', {
        annotations: { 'nhi-offboarding/sys': 'key-1' },
      }),
      component('uses-resource', {}, [
        { type: 'dependsOn', targetRef: 'resource:default/shared-token' },
      ]),
      component('unrelated'),
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Resource',
        metadata: { name: 'shared-token', namespace: 'default' },
        spec: { type: 'token', owner: 'group:default/payments' },
        relations: [
          {
            type: 'dependencyOf',
            targetRef: 'component:default/uses-resource',
          },
        ],
      },
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Resource',
        metadata: { name: 'a-bucket', namespace: 'default' },
        spec: { type: 's3-bucket', owner: 'group:default/payments' },
        relations: [
          { type: 'dependencyOf', targetRef: 'component:default/unrelated' },
        ],
      },
    ];
    const catalog = catalogServiceMock({ entities });
    const auth = mockServices.auth();
    const db = await databases.init('SQLITE_3');
    await applyDatabaseMigrations(db);
    const store = new RetirementStore(db);
    const sys = new InMemoryCredentialSystem('sys');
    sys.add('key-1', 'api-key');
    const systemIds = new Set(['sys']);
    const providers = new ProviderRegistry([
      sys,
      new CatalogProvider(catalog, auth, id => systemIds.has(id)),
    ]);
    const logger = mockServices.logger.mock();
    const discovery = new AnchorDiscovery({
      catalog,
      auth,
      providers,
      store,
      logger,
    });
    const sweep = new DiscoverySweep({
      catalog,
      auth,
      providers,
      discovery,
      logger,
    });

    expect(await sweep.linkedEntities()).toEqual([
      'component:default/annotated',
      'component:default/uses-resource',
    ]);
    expect(await sweep.run()).toEqual({ entities: 2, anchors: 2, failed: 0 });
    expect(
      (await store.listAnchors('component:default/annotated')).map(
        a => a.externalId,
      ),
    ).toEqual(['key-1']);
    expect(
      (await store.listAnchors('component:default/uses-resource')).map(
        a => a.externalId,
      ),
    ).toEqual(['resource:default/shared-token']);
    expect(await store.listAnchors('component:default/unrelated')).toEqual([]);
  });
});
