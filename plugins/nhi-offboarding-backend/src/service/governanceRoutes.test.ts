import request from 'supertest';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { Entity } from '@backstage/catalog-model';
import type {
  EvidenceRecord,
  GovernanceFindings,
  Retirement,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingPlugin } from '../plugin';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';
import { providersModule } from '../testing/providersModule';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const OWNER = 'user:default/alice';
const OTHER = 'user:default/carol';
const NOBODY = 'user:default/nobody';
const DAY = 24 * 3600_000;

const component = (
  name: string,
  owner: string | undefined,
  annotation: string | undefined,
  relations: Entity['relations'] = [],
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name,
    namespace: 'default',
    annotations: annotation ? { 'nhi-offboarding/sys': annotation } : {},
  },
  spec: {
    type: 'service',
    lifecycle: 'production',
    ...(owner ? { owner } : {}),
  },
  relations,
});

const group = (name: string, members: string[]): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name, namespace: 'default' },
  spec: { type: 'team', children: [] },
  relations: members.map(m => ({ type: 'hasMember', targetRef: m })),
});

const entities: Entity[] = [
  component('api-a', 'group:default/team-a', 'a-sa', [
    { type: 'dependsOn', targetRef: 'resource:default/shared-key' },
  ]),
  component('api-b', 'group:default/team-b', undefined, [
    { type: 'dependsOn', targetRef: 'resource:default/shared-key' },
  ]),
  component('orphan-svc', 'group:default/gone-team', 'orphan-key'),
  component('empty-svc', 'group:default/empty-team', 'empty-key'),
  component('stale-svc', 'group:default/team-a', 'stale-key'),
  component('nobody-svc', undefined, 'nobody-key'),
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: 'shared-key',
      namespace: 'default',
      annotations: {
        'nhi-offboarding/provider': 'sys',
        'nhi-offboarding/external-id': 'shared-key',
      },
    },
    spec: { type: 'api-key', owner: 'team-a' },
    relations: [
      { type: 'dependencyOf', targetRef: 'component:default/api-a' },
      { type: 'dependencyOf', targetRef: 'component:default/api-b' },
    ],
  },
  group('team-a', [OWNER]),
  group('team-b', ['user:default/bob']),
  group('empty-team', []),
];

/** The owner may operate; everyone may read; nobody else may change. */
function policy(credentials: BackstageCredentials, permission: string) {
  const user = (credentials.principal as { userEntityRef?: string })
    .userEntityRef;
  if ((credentials.principal as { type: string }).type === 'service')
    return AuthorizeResult.ALLOW;
  if (user === NOBODY) return AuthorizeResult.DENY;
  if (permission.endsWith('.read')) return AuthorizeResult.ALLOW;
  if (user === OWNER) return AuthorizeResult.ALLOW;
  return AuthorizeResult.DENY;
}

describe.each(databases.eachSupportedId())(
  'governance API on %p',
  databaseId => {
    let server: any;
    let backend: Awaited<ReturnType<typeof startTestBackend>>;
    const as = (user: string) => ({
      Authorization: mockCredentials.user.header(user),
    });
    const api = (path: string) => `/api/nhi-offboarding${path}`;
    let retirement: Retirement;

    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      const sys = new InMemoryCredentialSystem('sys');
      sys.add('a-sa', 'service-account');
      // The shared key's owner is the retiring component itself.
      sys.add('shared-key', 'api-key', [], {
        owner: 'component:default/api-a',
      });
      sys.add('orphan-key', 'api-key');
      sys.add('empty-key', 'api-key');
      sys.add('stale-key', 'api-key', [], {
        lastUsedAt: new Date(Date.now() - 100 * DAY).toISOString(),
      });
      sys.add('nobody-key', 'api-key', [], {
        lastUsedAt: new Date(Date.now() - 2 * DAY).toISOString(),
      });
      backend = await startTestBackend({
        features: [
          nhiOffboardingPlugin,
          providersModule(sys),
          mockServices.database.factory({ knex }),
          mockServices.httpAuth.factory({
            defaultCredentials: mockCredentials.none(),
          }),
          catalogServiceMock.factory({ entities }),
          mockServices.rootConfig.factory({
            data: {
              nhiOffboarding: {
                engine: { pollIntervalMs: 20 },
                reverification: { enabled: false },
                timeToRevoke: { hours: 2 },
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
      server = backend.server;
      for (const name of [
        'api-a',
        'api-b',
        'orphan-svc',
        'empty-svc',
        'stale-svc',
        'nobody-svc',
      ]) {
        await request(server)
          .get(api(`/entities/component/default/${name}/trust-anchors`))
          .set(as(OWNER))
          .expect(200);
      }
      const created = await request(server)
        .post(api('/retirements'))
        .set(as(OWNER))
        .send({
          entityRef: 'component:default/api-a',
          mode: 'revoke',
          reason: 'replaced',
        });
      if (created.status !== 201) {
        throw new Error(`retirement not created: ${created.text}`);
      }
      for (let i = 0; i < 200; i++) {
        retirement = (
          await request(server)
            .get(api(`/retirements/${created.body.id}`))
            .set(as(OWNER))
        ).body;
        if (retirement.status === 'completed') break;
        await new Promise(r => setTimeout(r, 50));
      }
      if (retirement.status !== 'completed') {
        throw new Error(`retirement is ${retirement.status}, not completed`);
      }
    });

    afterAll(async () => {
      await backend?.stop();
    });

    it('lists orphaned, stale and unlinked anchors with counts and filters', async () => {
      const all = await request(server)
        .get(api('/governance/anchors'))
        .set(as(OTHER));
      expect(all.status).toBe(200);
      const body: GovernanceFindings = all.body;
      expect(body.staleAfterDays).toBe(45);
      expect(body.counts).toEqual({
        'owner-missing': 1,
        'owner-group-empty': 1,
        stale: 1,
        unlinked: 1,
      });
      const byId = Object.fromEntries(
        body.items.map(i => [i.anchor.externalId, i]),
      );
      expect(byId['orphan-key'].reasons).toEqual(['owner-missing']);
      expect(byId['empty-key'].reasons).toEqual(['owner-group-empty']);
      expect(byId['stale-key']).toMatchObject({
        reasons: ['stale'],
        owner: 'group:default/team-a',
      });
      expect(byId['stale-key'].unusedDays).toBeGreaterThanOrEqual(99);
      expect(byId['nobody-key'].reasons).toEqual(['unlinked']);
      expect(byId['a-sa']).toBeUndefined();

      const stale = await request(server)
        .get(api('/governance/anchors?reason=stale'))
        .set(as(OTHER));
      expect(stale.body.items.map((i: any) => i.anchor.externalId)).toEqual([
        'stale-key',
      ]);

      const mine = await request(server)
        .get(api('/governance/anchors?owner=team-a,group:default/empty-team'))
        .set(as(OTHER));
      expect(
        mine.body.items.map((i: any) => i.anchor.externalId).sort(),
      ).toEqual(['empty-key', 'stale-key']);
    });

    it.each([
      ['/governance/anchors?reason=lost', /reason must be one of/],
      ['/governance/anchors?limit=0', /limit must be at least 1/],
      ['/governance/anchors?providerId=Bad%20Id', /providerId must be/],
      ['/governance/anchors?color=red', /unknown field\(s\) color/],
      [
        '/governance/deadlines?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
        /from must be before to/,
      ],
      ['/governance/deadlines?breached=yes', /breached must be true or false/],
      ['/export', /from is required/],
      [
        '/export?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
        /at most 366 days/,
      ],
      ['/export?from=yesterday&to=2026-01-01T00:00:00Z', /ISO 8601/],
    ])('answers GET %s with 400', async (path, message) => {
      const res = await request(server).get(api(path)).set(as(OTHER));
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
    });

    it('measures each retirement against the time-to-revoke objective', async () => {
      const res = await request(server)
        .get(api(`/retirements/${retirement.id}/governance`))
        .set(as(OTHER));
      expect(res.status).toBe(200);
      expect(res.body.deadline).toMatchObject({
        retirementId: retirement.id,
        objectiveMs: 2 * 3600_000,
        breached: false,
        accessRemovedAt: retirement.completedAt,
      });
      expect(res.body.deadline.elapsedMs).toBeLessThan(60_000);
      const list = await request(server)
        .get(api('/governance/deadlines'))
        .set(as(OTHER));
      expect(list.body.objectiveMs).toBe(2 * 3600_000);
      expect(list.body.items.map((d: any) => d.retirementId)).toContain(
        retirement.id,
      );
      const breaches = await request(server)
        .get(api('/governance/deadlines?breached=true'))
        .set(as(OTHER));
      expect(breaches.body.items).toEqual([]);
    });

    it("proposes the other consumer's owner for a shared anchor the retiring entity owned, and records the reassignment once", async () => {
      const before = await request(server)
        .get(api(`/retirements/${retirement.id}/governance`))
        .set(as(OWNER));
      expect(before.body.ownership).toEqual([
        expect.objectContaining({
          anchorName: 'shared-key',
          currentOwner: 'component:default/api-a',
          candidates: ['group:default/team-b'],
          proposedOwner: 'group:default/team-b',
        }),
      ]);
      const anchorId = before.body.ownership[0].anchorId;

      const denied = await request(server)
        .post(api(`/retirements/${retirement.id}/ownership`))
        .set(as(OTHER))
        .send({ anchorId, owner: 'team-b' });
      expect(denied.status).toBe(403);
      for (const [body, message] of [
        [
          { anchorId: 'x', owner: 'team-b' },
          /anchorId must be a trust anchor id/,
        ],
        [{ anchorId }, /owner is required/],
        [{ anchorId, owner: 'group:default/nobody' }, /not in the catalog/],
        [{ anchorId, owner: 'team-b', extra: 1 }, /unknown field/],
      ] as const) {
        const bad = await request(server)
          .post(api(`/retirements/${retirement.id}/ownership`))
          .set(as(OWNER))
          .send(body);
        expect({ status: bad.status, message: bad.body.error.message }).toEqual(
          {
            status: 400,
            message: expect.stringMatching(message),
          },
        );
      }

      for (let i = 0; i < 2; i++) {
        const done = await request(server)
          .post(api(`/retirements/${retirement.id}/ownership`))
          .set(as(OWNER))
          .send({ anchorId, owner: 'team-b' });
        expect(done.status).toBe(200);
        expect(done.body.items[0]).toMatchObject({
          currentOwner: 'group:default/team-b',
          reassigned: { owner: 'group:default/team-b', by: OWNER },
        });
      }
      const evidence: EvidenceRecord[] = (
        await request(server)
          .get(api(`/retirements/${retirement.id}/evidence`))
          .set(as(OWNER))
      ).body.items;
      const ownership = evidence.filter(r => r.kind === 'ownership');
      expect(ownership).toHaveLength(1);
      expect(ownership[0].data).toEqual({
        owner: 'group:default/team-b',
        previousOwner: 'component:default/api-a',
      });
      // The new owner sees the anchor under "owned by my teams".
      const teamB = await request(server)
        .get(api('/governance/anchors?owner=team-b'))
        .set(as(OTHER));
      expect(teamB.status).toBe(200);
    });

    it('exports a retirement with controls, objective and head hash (JSON and CSV)', async () => {
      const res = await request(server)
        .get(api(`/retirements/${retirement.id}/export`))
        .set(as(OTHER));
      expect(res.status).toBe(200);
      expect(res.headers['content-disposition']).toMatch(
        /attachment; filename="nhi-evidence-export-ret_/,
      );
      expect(res.body).toMatchObject({
        format: 'nhi-offboarding-evidence/v1',
        exportedBy: OTHER,
        retirement: { id: retirement.id },
        deadline: { objectiveMs: 2 * 3600_000, breached: false },
        chain: { valid: true },
      });
      const records = res.body.records;
      expect(res.body.chain.headHash).toBe(records[records.length - 1].hash);
      const completion = records.find((r: any) => r.kind === 'completion');
      expect(completion.controls).toEqual(
        expect.arrayContaining([
          'OWASP-NHI1:2025',
          'NIST-800-53-PS-4',
          'SOC2-CC6.2',
          'ISO27001-A.5.18',
        ]),
      );
      const rotate = records.find(
        (r: any) => r.kind === 'action' && r.data.action === 'rotate',
      );
      expect(rotate.controls).toContain('NIST-800-53-IA-5(i)');
      const ids = res.body.controls.map((c: any) => c.id);
      for (const r of records) {
        expect(r.controls.every((c: string) => ids.includes(c))).toBe(true);
      }

      const csv = await request(server)
        .get(api(`/retirements/${retirement.id}/export?format=csv`))
        .set(as(OTHER));
      expect(csv.headers['content-type']).toMatch(/text\/csv/);
      expect(csv.text).toContain(`head hash ${res.body.chain.headHash}`);
      expect(csv.text).toMatch(
        /time to revoke: \d+ min elapsed of 120 min objective/,
      );
      expect(csv.text.split('\r\n')[4]).toMatch(/,controls$/);

      const bad = await request(server)
        .get(api(`/retirements/${retirement.id}/export?format=pdf`))
        .set(as(OTHER));
      expect(bad.status).toBe(400);
    });

    it('exports a period with every retirement started in it', async () => {
      const from = new Date(Date.now() - DAY).toISOString();
      const to = new Date(Date.now() + 60_000).toISOString();
      const res = await request(server)
        .get(
          api(
            `/export?from=${encodeURIComponent(from)}&to=${encodeURIComponent(
              to,
            )}`,
          ),
        )
        .set(as(OTHER));
      expect(res.status).toBe(200);
      expect(res.body.summary).toMatchObject({
        retirements: 1,
        breaches: 0,
        chainsValid: 1,
        truncated: false,
      });
      expect(res.body.retirements[0].retirement.id).toBe(retirement.id);
      const empty = await request(server)
        .get(api('/export?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z'))
        .set(as(OTHER));
      expect(empty.body.summary.retirements).toBe(0);
    });

    it('refuses every governance read without its permission (403)', async () => {
      for (const path of [
        '/governance/anchors',
        '/governance/deadlines',
        '/export?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z',
        `/retirements/${retirement.id}/export`,
        `/retirements/${retirement.id}/governance`,
      ]) {
        const res = await request(server).get(api(path)).set(as(NOBODY));
        expect({ path, status: res.status }).toEqual({ path, status: 403 });
      }
      expect(
        (await request(server).get(api('/governance/anchors'))).status,
      ).toBe(401);
    });

    it('re-verifies a completed retirement on request, and refuses others', async () => {
      const res = await request(server)
        .post(api(`/retirements/${retirement.id}/reverify`))
        .set(as(OWNER))
        .send({});
      expect(res.status).toBe(200);
      expect(res.body.verdict).toBe('clean');
      expect(res.body.retirement.lastReverifiedAt).toBeDefined();
      const denied = await request(server)
        .post(api(`/retirements/${retirement.id}/reverify`))
        .set(as(OTHER))
        .send({});
      expect(denied.status).toBe(403);
      const bad = await request(server)
        .post(api(`/retirements/${retirement.id}/reverify`))
        .set(as(OWNER))
        .send({ now: true });
      expect(bad.status).toBe(400);
      const missing = await request(server)
        .post(
          api('/retirements/ret_00000000-0000-0000-0000-000000000000/reverify'),
        )
        .set(as(OWNER))
        .send({});
      expect(missing.status).toBe(404);
    });
  },
);
