import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { BackstageCredentials } from '@backstage/backend-plugin-api';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import { Permission } from '@backstage/plugin-permission-common';
import request from 'supertest';
import {
  nhiEntityRetirePermission,
  nhiLegalHoldPermission,
  nhiPlatformReadPermission,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import permissionModuleNhiDemoPolicy from '.';

const groupsOf: Record<string, string[]> = {
  'user:default/priya.sharma': ['group:default/platform-team'],
  'user:default/alice': ['group:default/payments-team'],
  'user:default/dmitri.volkov': ['group:default/data-team'],
};

const entitiesYaml = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: payments-api }
spec: { type: service, lifecycle: production, owner: group:default/payments-team }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: warehouse-loader }
spec: { type: service, lifecycle: production, owner: group:default/data-team }
`;

// Each test starts a backend with the real permission and catalog plugins,
// which can take a while on a busy machine.
jest.setTimeout(60_000);

describe('permissionModuleNhiDemoPolicy', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-policy-'));
    fs.writeFileSync(path.join(dir, 'entities.yaml'), entitiesYaml);
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startBackend(config: Record<string, unknown> = {}) {
    const userInfo = mockServices.userInfo.mock({
      async getUserInfo(credentials: BackstageCredentials) {
        const ref = (credentials.principal as { userEntityRef: string })
          .userEntityRef;
        return {
          userEntityRef: ref,
          ownershipEntityRefs: [ref, ...(groupsOf[ref] ?? [])],
        };
      },
    });
    const { server } = await startTestBackend({
      features: [
        permissionPlugin,
        permissionModuleNhiDemoPolicy,
        catalogPlugin,
        userInfo.factory,
        mockServices.rootConfig.factory({
          data: {
            permission: { enabled: true },
            catalog: {
              rules: [{ allow: ['Component', 'Location'] }],
              locations: [
                { type: 'file', target: path.join(dir, 'entities.yaml') },
              ],
            },
            ...config,
          },
        }),
      ],
    });
    return server;
  }
  type Server = Awaited<ReturnType<typeof startBackend>>;

  async function authorize(
    server: Server,
    userRef: string,
    permission: Permission,
  ) {
    // As the NHI Offboarding plugin asks: on behalf of the user (a user
    // token with the plugin as actor), like the permissions service does.
    const token = mockCredentials.user.token(userRef, {
      actor: { subject: 'plugin:nhi-offboarding' },
    });
    const res = await request(server)
      .post('/api/permission/authorize')
      .set('Authorization', `Bearer ${token}`)
      .send({ items: [{ id: 'q1', permission }] });
    if (res.status !== 200) {
      throw new Error(`authorize: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body.items[0];
  }

  async function waitForEntity(server: Server, ref: string) {
    const [kind, rest] = ref.split(':');
    const [namespace, name] = rest.split('/');
    for (let i = 0; i < 400; i++) {
      const res = await request(server)
        .get(`/api/catalog/entities/by-name/${kind}/${namespace}/${name}`)
        .set('Authorization', mockCredentials.service.header());
      if (res.status === 200) return;
      await new Promise(r => setTimeout(r, 100));
    }
    throw new Error(`${ref} never appeared in the catalog`);
  }

  it('is the policy the permission backend asks', async () => {
    const server = await startBackend();

    await expect(
      authorize(server, 'user:default/priya.sharma', nhiLegalHoldPermission),
    ).resolves.toEqual({ id: 'q1', result: 'ALLOW' });
    await expect(
      authorize(server, 'user:default/alice', nhiLegalHoldPermission),
    ).resolves.toEqual({ id: 'q1', result: 'DENY' });
    await expect(
      authorize(server, 'user:default/alice', nhiPlatformReadPermission),
    ).resolves.toEqual({ id: 'q1', result: 'ALLOW' });
  });

  it('lets owners retire their own entities only, decided by the catalog', async () => {
    const server = await startBackend();
    await waitForEntity(server, 'component:default/payments-api');
    await waitForEntity(server, 'component:default/warehouse-loader');

    // What the permission backend does for a request with a resourceRef:
    // take the policy's decision and, if conditional, have the catalog
    // apply the conditions to the entity. (Done in two steps here because
    // the mock auth service drops the actor of on-behalf-of tokens, which
    // the catalog's apply-conditions endpoint requires.)
    const decide = async (user: string, entityRef: string) => {
      const decision = await authorize(server, user, nhiEntityRetirePermission);
      if (decision.result !== 'CONDITIONAL') {
        return decision.result;
      }
      expect(decision.pluginId).toBe('catalog');
      const res = await request(server)
        .post('/api/catalog/.well-known/backstage/permissions/apply-conditions')
        .set('Authorization', mockCredentials.service.header())
        .send({
          items: [
            {
              id: 'c1',
              resourceRef: entityRef,
              resourceType: decision.resourceType,
              conditions: decision.conditions,
            },
          ],
        });
      expect(res.status).toBe(200);
      return res.body.items[0].result;
    };

    await expect(
      decide('user:default/alice', 'component:default/payments-api'),
    ).resolves.toBe('ALLOW');
    await expect(
      decide('user:default/alice', 'component:default/warehouse-loader'),
    ).resolves.toBe('DENY');
    await expect(
      decide(
        'user:default/dmitri.volkov',
        'component:default/warehouse-loader',
      ),
    ).resolves.toBe('ALLOW');
    await expect(
      decide('user:default/dmitri.volkov', 'component:default/payments-api'),
    ).resolves.toBe('DENY');
    await expect(
      decide('user:default/priya.sharma', 'component:default/payments-api'),
    ).resolves.toBe('ALLOW');
  });

  it('reads the platform group from config', async () => {
    const server = await startBackend({
      nhiOffboarding: {
        demoPolicy: { platformGroup: 'group:default/payments-team' },
      },
    });

    await expect(
      authorize(server, 'user:default/alice', nhiLegalHoldPermission),
    ).resolves.toMatchObject({ result: 'ALLOW' });
    await expect(
      authorize(server, 'user:default/priya.sharma', nhiLegalHoldPermission),
    ).resolves.toMatchObject({ result: 'DENY' });
  });
});
