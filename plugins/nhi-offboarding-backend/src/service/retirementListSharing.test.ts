import request from 'supertest';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import {
  BackstageCredentials,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { Retirement } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingPlugin } from '../plugin';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';
import { providersModule } from '../testing/providersModule';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const OWNER = 'user:default/alice';
const PLATFORM = 'user:default/bob';
/** May read one entity's retirements, not the platform list. */
const OTHER = 'user:default/carol';
const ENTITY = 'component:default/old-bot';

function policy(credentials: BackstageCredentials, permission: string) {
  const user = (credentials.principal as { userEntityRef?: string })
    .userEntityRef;
  if (user === PLATFORM) return AuthorizeResult.ALLOW;
  if ((credentials.principal as { type: string }).type === 'service') {
    return AuthorizeResult.ALLOW;
  }
  if (permission === 'nhi-offboarding.platform.read') {
    return AuthorizeResult.DENY;
  }
  if (permission.endsWith('.read')) return AuthorizeResult.ALLOW;
  return user === OWNER ? AuthorizeResult.ALLOW : AuthorizeResult.DENY;
}

describe.each(databases.eachSupportedId())(
  'GET /retirements shared between readers on %p',
  databaseId => {
    it('shares the platform list for retirementListCacheSeconds; an entity’s list and a retirement are read now', async () => {
      const knex = await databases.init(databaseId);
      const sys = new InMemoryCredentialSystem('sys');
      sys.add('old-bot-key', 'api-key');
      const backend = await startTestBackend({
        features: [
          nhiOffboardingPlugin,
          providersModule(sys),
          mockServices.database.factory({ knex }),
          createServiceFactory({
            service: signalsServiceRef,
            deps: {},
            factory: () => ({ publish: async () => {} }),
          }),
          mockServices.httpAuth.factory({
            defaultCredentials: mockCredentials.none(),
          }),
          catalogServiceMock.factory({
            entities: [
              {
                apiVersion: 'backstage.io/v1alpha1',
                kind: 'Component',
                metadata: {
                  name: 'old-bot',
                  namespace: 'default',
                  annotations: { 'nhi-offboarding/sys': 'old-bot-key' },
                },
                spec: {
                  type: 'bot',
                  lifecycle: 'deprecated',
                  owner: 'group:default/payments',
                },
              },
            ],
          }),
          mockServices.rootConfig.factory({
            data: {
              nhiOffboarding: {
                // The engine is off: only the test changes retirements.
                engine: { enabled: false },
                retirementListCacheSeconds: 60,
              },
            },
          }),
          mockServices.permissions.mock({
            authorize: async (requests, options) =>
              requests.map(r => ({
                result: policy(options.credentials, r.permission.name),
              })),
          }).factory,
        ],
      });
      try {
        const as = (user: string) => ({
          Authorization: mockCredentials.user.header(user),
        });
        const get = (path: string, user = PLATFORM) =>
          request(backend.server)
            .get(`/api/nhi-offboarding${path}`)
            .set(as(user));
        const statusIn = (body: { items: Retirement[] }, id: string) =>
          body.items.find(r => r.id === id)?.status;

        const created = await request(backend.server)
          .post('/api/nhi-offboarding/retirements')
          .set(as(OWNER))
          .send({ entityRef: ENTITY, mode: 'revoke', reason: 'sharing test' });
        expect(created.status).toBe(201);
        const id = created.body.id;
        const first = await get('/retirements?limit=10');
        expect(first.status).toBe(200);
        const before = statusIn(first.body, id);
        expect(before).toBe('pending');

        const cancelled = await request(backend.server)
          .post(`/api/nhi-offboarding/retirements/${id}/cancel`)
          .set(as(OWNER))
          .send({ reason: 'not needed' });
        expect(cancelled.body).toMatchObject({ status: 'cancelled' });

        // The same page within the minute: the page read before the cancel.
        const shared = await get('/retirements?limit=10');
        expect(shared.text).toBe(first.text);
        // The permission is still asked on every request.
        expect((await get('/retirements?limit=10', OTHER)).status).toBe(403);
        // Another page (another filter) is read now.
        expect(
          statusIn(
            (await get('/retirements?limit=10&status=cancelled')).body,
            id,
          ),
        ).toBe('cancelled');
        // The entity's own list and the retirement itself are never shared.
        expect(
          statusIn(
            (
              await get(
                `/retirements?entityRef=${encodeURIComponent(ENTITY)}`,
                OTHER,
              )
            ).body,
            id,
          ),
        ).toBe('cancelled');
        expect((await get(`/retirements/${id}`, OTHER)).body.status).toBe(
          'cancelled',
        );
      } finally {
        await backend.stop();
      }
    });
  },
);
