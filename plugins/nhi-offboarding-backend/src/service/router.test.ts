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
import type { Entity } from '@backstage/catalog-model';
import type {
  EvidenceRecord,
  Retirement,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingPlugin } from '../plugin';
import { RetirementStore } from '../database/RetirementStore';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';
import { providersModule } from '../testing/providersModule';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const OWNER = 'user:default/alice';
const PLATFORM = 'user:default/bob';
const OTHER = 'user:default/carol';
/** A user the catalog shows no entity to. */
const OUTSIDER = 'user:default/dave';

const entities: Entity[] = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: 'payments-api',
      namespace: 'default',
      annotations: { 'nhi-offboarding/sys': 'payments-sa, stripe-key' },
    },
    spec: {
      type: 'service',
      lifecycle: 'production',
      owner: 'group:default/payments',
    },
    relations: [
      { type: 'dependsOn', targetRef: 'resource:default/vendor-token' },
    ],
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: 'vendor-token',
      namespace: 'default',
      title: 'Vendor API token',
    },
    spec: { type: 'token', owner: 'payments' },
    relations: [
      { type: 'dependencyOf', targetRef: 'component:default/payments-api' },
      { type: 'dependencyOf', targetRef: 'component:default/billing' },
    ],
  },
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
];

/**
 * A stand-in for a permission policy: the owner may retire and operate,
 * the platform admin may do everything, everyone else may only read.
 */
function policy(
  credentials: BackstageCredentials,
  permission: string,
): AuthorizeResult.ALLOW | AuthorizeResult.DENY {
  const user = (credentials.principal as { userEntityRef?: string })
    .userEntityRef;
  if (
    user === PLATFORM ||
    (credentials.principal as { type: string }).type === 'service'
  )
    return AuthorizeResult.ALLOW;
  if (user === OUTSIDER && permission === 'catalog.entity.read')
    return AuthorizeResult.DENY;
  if (permission.endsWith('.read')) return AuthorizeResult.ALLOW;
  if (
    user === OWNER &&
    [
      'nhi-offboarding.entity.retire',
      'nhi-offboarding.retirement.operate',
    ].includes(permission)
  ) {
    return AuthorizeResult.ALLOW;
  }
  return AuthorizeResult.DENY;
}

describe.each(databases.eachSupportedId())('REST API on %p', databaseId => {
  let server: any;
  let sys: InMemoryCredentialSystem;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let knex: Awaited<ReturnType<typeof databases.init>>;
  const publish = jest.fn(async () => {});

  beforeAll(async () => {
    knex = await databases.init(databaseId);
    sys = new InMemoryCredentialSystem('sys');
    sys.add('payments-sa', 'service-account', ['payments-admins']);
    sys.add('stripe-key', 'api-key');
    sys.add('old-bot-key', 'api-key');
    sys.add('cron-key', 'api-key');
    backend = await startTestBackend({
      features: [
        nhiOffboardingPlugin,
        providersModule(sys),
        mockServices.database.factory({ knex }),
        createServiceFactory({
          service: signalsServiceRef,
          deps: {},
          factory: () => ({ publish }),
        }),
        mockServices.httpAuth.factory({
          defaultCredentials: mockCredentials.none(),
        }),
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({
          data: {
            nhiOffboarding: {
              engine: { pollIntervalMs: 20, retryBaseDelayMs: 50 },
              // These tests change anchors and retirements and read residual
              // access and the list again.
              residualAccessCacheSeconds: 0,
              retirementListCacheSeconds: 0,
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
  });

  afterAll(async () => {
    await backend?.stop();
  });

  const as = (user: string) => ({
    Authorization: mockCredentials.user.header(user),
  });
  const api = (path: string) => `/api/nhi-offboarding${path}`;

  /** The newest completed retirement (earlier tests complete several). */
  async function newestCompleted(): Promise<Retirement> {
    return (
      await request(server)
        .get(api('/retirements?status=completed'))
        .set(as(PLATFORM))
    ).body.items[0];
  }

  /** A GET as `user`, sending `etag` in If-None-Match when given. */
  const getAs = (path: string, user: string, etag?: string) =>
    request(server)
      .get(path)
      .set({ ...as(user), ...(etag ? { 'If-None-Match': etag } : {}) });

  async function waitFor(
    id: string,
    status: Retirement['status'],
  ): Promise<Retirement> {
    for (let i = 0; i < 200; i++) {
      const res = await request(server)
        .get(api(`/retirements/${id}`))
        .set(as(OWNER));
      if (res.body.status === status) return res.body;
      await new Promise(r => setTimeout(r, 50));
    }
    throw new Error(`retirement ${id} never became ${status}`);
  }

  it('rejects requests without credentials (401)', async () => {
    const res = await request(server).get(
      api('/entities/component/default/payments-api/trust-anchors'),
    );
    expect(res.status).toBe(401);
    expect(
      (await request(server).post(api('/retirements')).send({})).status,
    ).toBe(401);
  });

  it('discovers trust anchors from annotations and catalog Resources', async () => {
    const res = await request(server)
      .get(
        api(
          '/entities/component/default/payments-api/trust-anchors?refresh=true',
        ),
      )
      .set(as(OTHER));
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(
      res.body.items.map((a: any) => [a.externalId, a]),
    );
    expect(Object.keys(byId).sort()).toEqual([
      'payments-sa',
      'resource:default/vendor-token',
      'stripe-key',
    ]);
    expect(byId['payments-sa']).toMatchObject({
      providerId: 'sys',
      kind: 'service-account',
      status: 'active',
      manual: false,
      fingerprint: 'sha256:payments-sa',
    });
    expect(byId['resource:default/vendor-token']).toMatchObject({
      providerId: 'catalog',
      kind: 'token',
      manual: true,
      owner: 'group:default/payments',
      sharedWith: ['component:default/billing'],
    });
  });

  it('reads stored anchors under the catalog read rule, without asking the catalog for the entity', async () => {
    const path = api('/entities/component/default/payments-api/trust-anchors');
    const stored = await request(server).get(path).set(as(OTHER));
    expect(stored.status).toBe(200);
    expect(stored.body.items.length).toBeGreaterThan(0);
    // The catalog would not show this caller the entity: not found, as the
    // catalog itself answers, though anchors are stored.
    const hidden = await request(server).get(path).set(as(OUTSIDER));
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.message).toBe(
      'component:default/payments-api is not in the catalog',
    );
    // Anchors stored for an entity that has left the catalog are still read
    // (the platform's residual access lists them too); discovering them
    // again needs the entity, which is gone.
    const row = await knex('nhi_anchors')
      .where('entity_ref', 'component:default/payments-api')
      .first();
    await knex('nhi_anchors').insert({
      ...row,
      id: `anc_${'9'.repeat(40)}`,
      entity_ref: 'component:default/gone-bot',
      external_id: 'gone-bot-key',
    });
    const gone = await request(server)
      .get(api('/entities/component/default/gone-bot/trust-anchors'))
      .set(as(OTHER));
    expect(gone.status).toBe(200);
    expect(gone.body.items.map((a: any) => a.externalId)).toEqual([
      'gone-bot-key',
    ]);
    const rediscover = await request(server)
      .get(
        api('/entities/component/default/gone-bot/trust-anchors?refresh=true'),
      )
      .set(as(OTHER));
    expect(rediscover.status).toBe(404);
    expect(rediscover.body.error.message).toContain(
      'component:default/gone-bot is not in the catalog',
    );
    await knex('nhi_anchors')
      .where('entity_ref', 'component:default/gone-bot')
      .delete();
  });

  it('answers 404 for an entity that is not in the catalog, 400 for a malformed ref', async () => {
    const missing = await request(server)
      .get(api('/entities/component/default/nope/trust-anchors'))
      .set(as(OWNER));
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain(
      'component:default/nope is not in the catalog',
    );
    const bad = await request(server)
      .post(api('/retirements'))
      .set(as(OWNER))
      .send({ entityRef: 'not a ref', mode: 'revoke', reason: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(
      /is not an entity ref: use kind:namespace\/name/,
    );
  });

  it('plans a dry run that writes nothing', async () => {
    const before = await request(server)
      .get(api('/retirements?entityRef=component:default/payments-api'))
      .set(as(OWNER));
    const res = await request(server)
      .post(api('/entities/component/default/payments-api/plan'))
      .set(as(OWNER))
      .send({ mode: 'revoke' });
    expect(res.status).toBe(200);
    const actions = res.body.steps.map(
      (s: any) => `${s.action}:${s.anchorName ?? '-'}`,
    );
    expect(actions[0]).toBe('disable:payments-sa');
    expect(actions).toContain(
      'rotate:Vendor API token'.replace('rotate', 'attest'),
    );
    expect(actions[actions.length - 1]).toBe('seal:-');
    const after = await request(server)
      .get(api('/retirements?entityRef=component:default/payments-api'))
      .set(as(OWNER));
    expect(after.body.items).toEqual(before.body.items);
    expect(sys.calls.filter(c => c.method !== 'verify')).toEqual([]);
  });

  it.each([
    [{ mode: 'revoke', reason: 'x' }, /entityRef is required/],
    [
      {
        entityRef: 'component:default/payments-api',
        mode: 'delete',
        reason: 'x',
      },
      /mode must be one of: revoke, quarantine/,
    ],
    [
      { entityRef: 'component:default/payments-api', mode: 'revoke' },
      /reason is required/,
    ],
    [
      {
        entityRef: 'component:default/payments-api',
        mode: 'quarantine',
        reason: 'x',
      },
      /quarantineDays is required/,
    ],
    [
      {
        entityRef: 'component:default/payments-api',
        mode: 'quarantine',
        reason: 'x',
        quarantineDays: -1,
      },
      /quarantineDays must be 0 or more/,
    ],
    [
      {
        entityRef: 'component:default/payments-api',
        mode: 'revoke',
        reason: 'x',
        admin: true,
      },
      /unknown field\(s\) admin/,
    ],
    [
      { entityRef: 42, mode: 'revoke', reason: 'x' },
      /entityRef must be a string/,
    ],
  ])(
    'rejects a bad retirement request %j with a clear 400',
    async (body, message) => {
      const res = await request(server)
        .post(api('/retirements'))
        .set(as(OWNER))
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
      const list = await request(server)
        .get(api('/retirements'))
        .set(as(PLATFORM));
      expect(list.body.items).toEqual([]);
    },
  );

  it('rejects a body that is not JSON (415) and malformed JSON (400)', async () => {
    const text = await request(server)
      .post(api('/retirements'))
      .set(as(OWNER))
      .set('Content-Type', 'text/plain')
      .send('mode=revoke');
    expect(text.status).toBe(415);
    const broken = await request(server)
      .post(api('/retirements'))
      .set(as(OWNER))
      .set('Content-Type', 'application/json')
      .send('{"mode":');
    expect(broken.status).toBe(400);
  });

  it('refuses to start a retirement while a provider the entity links to cannot be asked (fail closed)', async () => {
    const discover = jest
      .spyOn(sys, 'discover')
      .mockRejectedValueOnce(new Error('sys is down'));
    const res = await request(server)
      .post(api('/retirements'))
      .set(as(OWNER))
      .send({
        entityRef: 'component:default/old-bot',
        mode: 'revoke',
        reason: 'x',
      });
    discover.mockRestore();
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(
      /provider sys could not be asked \(sys is down\).*leave those credentials out/,
    );
    const list = await request(server)
      .get(api('/retirements?entityRef=component:default/old-bot'))
      .set(as(OWNER));
    expect(list.body.items).toEqual([]);
  });

  it('forbids retiring an entity one does not own (403), and writes nothing', async () => {
    const res = await request(server)
      .post(api('/retirements'))
      .set(as(OTHER))
      .send({
        entityRef: 'component:default/payments-api',
        mode: 'revoke',
        reason: 'not mine',
      });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/nhi-offboarding.entity.retire/);
    expect(
      (await request(server).get(api('/retirements')).set(as(PLATFORM))).body
        .items,
    ).toEqual([]);
  });

  it('retires end to end: runs, waits for the attestation, completes, and proves it', async () => {
    const created = await request(server)
      .post(api('/retirements'))
      .set(as(OWNER))
      .send({
        entityRef: 'component:default/payments-api',
        mode: 'revoke',
        reason: 'replaced by payments-v2',
      });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'pending',
      requestedBy: OWNER,
      mode: 'revoke',
    });
    const id = created.body.id;

    const conflict = await request(server)
      .post(api('/retirements'))
      .set(as(OWNER))
      .send({
        entityRef: 'component:default/payments-api',
        mode: 'revoke',
        reason: 'again',
      });
    expect(conflict.status).toBe(409);

    // Others may read but not act.
    expect(
      (
        await request(server)
          .get(api(`/retirements/${id}`))
          .set(as(OTHER))
      ).status,
    ).toBe(200);
    expect(
      (
        await request(server)
          .post(api(`/retirements/${id}/cancel`))
          .set(as(OTHER))
          .send({})
      ).status,
    ).toBe(403);
    expect(
      (
        await request(server)
          .post(api(`/retirements/${id}/hold`))
          .set(as(OWNER))
          .send({ reason: 'x' })
      ).status,
    ).toBe(403);

    // The manual anchor waits for its owner.
    let r: Retirement = created.body;
    for (
      let i = 0;
      i < 100 &&
      !r.steps!.some(s => s.action === 'attest' && s.status === 'waiting');
      i++
    ) {
      r = (
        await request(server)
          .get(api(`/retirements/${id}`))
          .set(as(OWNER))
      ).body;
    }
    for (let i = 0; i < 100; i++) {
      r = (
        await request(server)
          .get(api(`/retirements/${id}`))
          .set(as(OWNER))
      ).body;
      if (
        r
          .steps!.filter(s => s.action === 'verify')
          .every(s => s.status === 'succeeded')
      )
        break;
      await new Promise(res => setTimeout(res, 50));
    }
    expect(r.status).toBe('running');
    const attest = r.steps!.find(s => s.action === 'attest')!;
    const bad = await request(server)
      .post(api(`/retirements/${id}/steps/${attest.id}/attest`))
      .set(as(OWNER))
      .send({ note: '' });
    expect(bad.status).toBe(400);
    const attested = await request(server)
      .post(api(`/retirements/${id}/steps/${attest.id}/attest`))
      .set(as(OWNER))
      .send({ note: 'Token deleted in the vendor console, ticket SEC-42' });
    expect(attested.status).toBe(200);

    const done = await waitFor(id, 'completed');
    expect(done.progress).toMatchObject({ anchors: 3, verified: 3, failed: 0 });
    expect(sys.credentials.get('payments-sa')!.status).toBe('revoked');
    expect(sys.credentials.get('stripe-key')!.status).toBe('revoked');

    const evidence = await request(server)
      .get(api(`/retirements/${id}/evidence`))
      .set(as(OTHER));
    expect(evidence.status).toBe(200);
    const kinds = evidence.body.items.map((e: EvidenceRecord) => e.kind);
    expect(kinds[0]).toBe('planned');
    expect(kinds).toContain('attestation');
    expect(kinds[kinds.length - 1]).toBe('completion');
    const verify = await request(server)
      .get(api(`/retirements/${id}/evidence/verify`))
      .set(as(OTHER));
    expect(verify.body).toMatchObject({
      valid: true,
      count: evidence.body.items.length,
    });

    const csv = await request(server)
      .get(api(`/retirements/${id}/evidence?format=csv`))
      .set(as(OTHER));
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe(
      'seq,at,kind,actor,summary,stepId,anchorId,data,prevHash,hash',
    );
    expect(csv.text.trim().split('\r\n')).toHaveLength(
      evidence.body.items.length + 1,
    );

    const anchors = await request(server)
      .get(api('/entities/component/default/payments-api/trust-anchors'))
      .set(as(OWNER));
    expect(anchors.body.items.map((a: any) => a.status).sort()).toEqual([
      'revoked',
      'revoked',
      'revoked',
    ]);

    // Open Retire tabs were told, without details, that the run changed.
    expect(publish).toHaveBeenCalledWith({
      recipients: { type: 'broadcast' },
      channel: `nhi-offboarding:retirement:${id}`,
      message: {
        retirementId: id,
        seq: evidence.body.items.length,
        kind: 'completion',
      },
    });

    // Platform teams filter by the owner the entity had, and by kind.
    const byOwner = await request(server)
      .get(api('/retirements?owner=payments&kind=Component'))
      .set(as(PLATFORM));
    expect(byOwner.body.items.map((x: Retirement) => x.id)).toContain(id);
    expect(byOwner.body.items[0].owner).toBe('group:default/payments');
    const otherOwner = await request(server)
      .get(api('/retirements?owner=group:default/data-team'))
      .set(as(PLATFORM));
    expect(otherOwner.body.items).toEqual([]);
    const otherKind = await request(server)
      .get(api('/retirements?kind=resource'))
      .set(as(PLATFORM));
    expect(otherKind.body.items).toEqual([]);
  });

  it('enforces four-eyes on exceptions and lets the platform place a legal hold', async () => {
    sys.failures.revoke = [
      new Error('boom 1'),
      new Error('boom 2'),
      new Error('boom 3'),
      new Error('boom 4'),
      new Error('boom 5'),
    ];
    const created = await request(server)
      .post(api('/retirements'))
      .set(as(OWNER))
      .send({
        entityRef: 'component:default/old-bot',
        mode: 'revoke',
        reason: 'bot retired',
      });
    const id = created.body.id;
    const hold = await request(server)
      .post(api(`/retirements/${id}/hold`))
      .set(as(PLATFORM))
      .send({ reason: 'audit 2026' });
    expect(hold.body).toMatchObject({
      legalHold: true,
      holdReason: 'audit 2026',
    });
    const lift = await request(server)
      .delete(api(`/retirements/${id}/hold`))
      .set(as(PLATFORM))
      .send({});
    expect(lift.body.legalHold).toBe(false);

    const stuck = await waitFor(id, 'needs-attention');
    expect(stuck.statusReason).toMatch(/Gave up after 5 attempt\(s\): boom 5/);
    const failed = stuck.steps!.find(s => s.status === 'failed')!;

    const past = await request(server)
      .post(api(`/retirements/${id}/steps/${failed.id}/exception`))
      .set(as(OWNER))
      .send({ justification: 'vendor', expiresAt: '2001-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    const requested = await request(server)
      .post(api(`/retirements/${id}/steps/${failed.id}/exception`))
      .set(as(OWNER))
      .send({
        justification: 'vendor deletes the key on the 20th',
        expiresAt: '2099-01-01T00:00:00Z',
      });
    expect(requested.status).toBe(201);
    expect(requested.body).toMatchObject({
      status: 'requested',
      requestedBy: OWNER,
    });
    // The owner lacks the approve permission; the platform admin approves, but not their own requests.
    expect(
      (
        await request(server)
          .post(api(`/retirements/${id}/steps/${failed.id}/exception/approve`))
          .set(as(OWNER))
          .send({})
      ).status,
    ).toBe(403);
    const approved = await request(server)
      .post(api(`/retirements/${id}/steps/${failed.id}/exception/approve`))
      .set(as(PLATFORM))
      .send({ note: 'risk accepted' });
    expect(approved.body).toMatchObject({
      status: 'approved',
      decidedBy: PLATFORM,
    });
    await waitFor(id, 'completed');
    const exceptions = await request(server)
      .get(api('/exceptions'))
      .set(as(PLATFORM));
    expect(exceptions.body.items).toEqual([
      expect.objectContaining({
        entityRef: 'component:default/old-bot',
        status: 'approved',
      }),
    ]);
  });

  it("pages a retirement's steps and evidence, together the same as the whole", async () => {
    const first = await newestCompleted();
    const base = api(`/retirements/${first.id}`);
    const all: Retirement = (
      await request(server).get(`${base}?steps=all`).set(as(OTHER))
    ).body;
    expect(all.steps!.length).toBeGreaterThanOrEqual(3);
    expect(all.stepsNextCursor).toBeUndefined();
    const none = await request(server).get(`${base}?steps=none`).set(as(OTHER));
    expect(none.body.steps).toBeUndefined();
    expect(none.body.progress).toEqual(all.progress);
    // The default is the first page; a small run fits in it.
    const page = await request(server).get(base).set(as(OTHER));
    expect(page.body.steps).toEqual(all.steps);
    expect(page.body.stepsNextCursor).toBeUndefined();

    const paged: unknown[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await request(server)
        .get(
          `${base}/steps?limit=1${
            cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
          }`,
        )
        .set(as(OTHER));
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(1);
      paged.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(paged).toEqual(all.steps);
    const verifySteps = await request(server)
      .get(`${base}/steps?status=succeeded&limit=500`)
      .set(as(OTHER));
    expect(verifySteps.body.items).toEqual(
      all.steps!.filter(s => s.status === 'succeeded'),
    );

    const whole = await request(server)
      .get(api(`/retirements/${first.id}/evidence?format=export`))
      .set(as(OTHER));
    expect(whole.body.nextAfterSeq).toBeUndefined();
    const records: EvidenceRecord[] = [];
    let afterSeq: number | undefined;
    pages = 0;
    do {
      const res = await request(server)
        .get(
          api(
            `/retirements/${first.id}/evidence?limit=2${
              afterSeq !== undefined ? `&afterSeq=${afterSeq}` : ''
            }`,
          ),
        )
        .set(as(OTHER));
      expect(res.status).toBe(200);
      records.push(...res.body.items);
      afterSeq = res.body.nextAfterSeq;
      pages++;
    } while (afterSeq !== undefined && pages < 100);
    expect(records).toEqual(whole.body.items);
    expect(records.length).toBeGreaterThan(2);

    for (const [path, message] of [
      [`${base}/steps?limit=0`, 'limit must be at least 1'],
      [`${base}/steps?limit=2.5`, 'limit must be a whole number from 1 to 500'],
      [`${base}/steps?limit=1&limit=2`, 'limit must be given once'],
      [`${base}/steps?limit=501`, 'limit must be at most 500'],
      [`${base}/steps?cursor=not*a*cursor`, 'cursor must be the nextCursor'],
      [`${base}/steps?cursor=bm9wZQ`, 'cursor must be the nextCursor'],
      [`${base}/steps?status=done`, 'status must be one or more of'],
      [`${base}?steps=some`, 'steps must be page'],
      [`${base}/evidence?limit=1001`, 'limit must be at most 1000'],
      [`${base}/evidence?afterSeq=-1`, 'afterSeq must be a whole number'],
      [`${base}/evidence?afterSeq=x`, 'afterSeq must be a whole number'],
      [`${base}/evidence?format=csv&limit=5`, 'format=csv is the whole chain'],
      [
        `${base}/evidence?format=export&afterSeq=5`,
        'format=export is the whole chain',
      ],
    ]) {
      const res = await request(server).get(path).set(as(OTHER));
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.body.error.message).toContain(message);
    }
  });

  it('answers an unchanged retirement or page of steps with 304 to a client that holds it, and a changed one in full', async () => {
    const [first] = (
      await request(server)
        .get(
          api(
            '/retirements?status=completed&entityRef=component:default/payments-api',
          ),
        )
        .set(as(PLATFORM))
    ).body.items;
    const base = api(`/retirements/${first.id}`);
    const full = await getAs(base, OTHER);
    expect(full.status).toBe(200);
    expect(full.headers['cache-control']).toBe('private, no-cache');
    const tag = full.headers.etag;
    expect(tag).toMatch(/^W\/"[\w-]+"$/);
    // The same version read again in full (its body is kept encoded): the
    // same bytes and headers.
    const again = await getAs(base, OWNER);
    expect(again.text).toBe(full.text);
    expect(again.headers.etag).toBe(tag);
    for (const res of [full, again]) {
      expect(res.headers['content-type']).toBe(
        'application/json; charset=utf-8',
      );
    }
    // The same version: nothing sent, for any reader allowed to read it.
    const same = await getAs(base, OWNER, tag);
    expect(same.status).toBe(304);
    expect(same.text).toBeFalsy();
    expect(same.headers.etag).toBe(tag);
    // Credentials and permission are checked before the tag.
    expect(
      (await request(server).get(base).set({ 'If-None-Match': tag })).status,
    ).toBe(401);
    // Another read of the same retirement has a tag of its own.
    const none = await getAs(`${base}?steps=none`, OTHER, tag);
    expect(none.status).toBe(200);
    expect(none.headers.etag).not.toBe(tag);
    expect(none.body.steps).toBeUndefined();
    const page1 = await getAs(`${base}/steps?limit=1`, OTHER);
    expect(page1.headers.etag).not.toBe(tag);
    expect(
      (await getAs(`${base}/steps?limit=1`, OTHER, page1.headers.etag)).status,
    ).toBe(304);
    const page2 = await getAs(
      `${base}/steps?limit=2`,
      OTHER,
      page1.headers.etag,
    );
    expect(page2.status).toBe(200);
    expect(page2.body.items).toHaveLength(2);
    // A change to the retirement (a clean re-verification: only its row
    // changes) gives a new version: the client that holds the old one gets
    // it in full.
    const reverified = await request(server)
      .post(api(`/retirements/${first.id}/reverify`))
      .set(as(PLATFORM))
      .send({});
    expect(reverified.status).toBe(200);
    const after = await getAs(base, OTHER, tag);
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(tag);
    expect(after.body.lastReverifiedAt).toBe(
      reverified.body.retirement.lastReverifiedAt,
    );
    expect(after.body.lastReverifiedAt).not.toBe(full.body.lastReverifiedAt);
    expect(
      (await getAs(`${base}/steps?limit=1`, OTHER, page1.headers.etag)).status,
    ).toBe(200);
  });

  it('answers a complete page of evidence with 304 to a client that holds it, and tags the growing last page by its content', async () => {
    const first = await newestCompleted();
    const path = api(`/retirements/${first.id}/evidence`);
    const get = (query: string, etag?: string) =>
      getAs(`${path}?${query}`, OWNER, etag);
    const pageReads = jest.spyOn(RetirementStore.prototype, 'getEvidencePage');
    const complete = await get('limit=1');
    expect(complete.status).toBe(200);
    expect(complete.body.nextAfterSeq).toBe(1);
    expect(complete.headers['cache-control']).toBe('private, no-cache');
    const tag = complete.headers.etag;
    // Read from the database once: its body is kept under its tag.
    const again = await get('limit=1');
    expect(again.text).toBe(complete.text);
    expect(again.headers.etag).toBe(tag);
    const same = await get('limit=1', tag);
    expect({ status: same.status, text: same.text }).toEqual({
      status: 304,
      text: '',
    });
    expect(pageReads).toHaveBeenCalledTimes(1);
    // Credentials and permission are checked before the tag.
    expect(
      (
        await request(server)
          .get(`${path}?limit=1`)
          .set({ 'If-None-Match': tag })
      ).status,
    ).toBe(401);
    // The next page is another page with another tag.
    const next = await get('limit=1&afterSeq=1', tag);
    expect(next.status).toBe(200);
    expect(next.body.items[0].seq).toBe(2);
    expect(next.headers.etag).not.toBe(tag);
    // The last page grows: it is tagged by its content, which an appended
    // record changes. A quarantine waits for its release, so its chain
    // grows only when the test acts (a legal hold).
    const created = await request(server)
      .post(api('/retirements'))
      .set(as(OWNER))
      .send({
        entityRef: 'component:default/payments-api',
        mode: 'quarantine',
        quarantineDays: 30,
        reason: 'evidence pages',
      });
    expect(created.status).toBe(201);
    const quarantined = await waitFor(created.body.id, 'quarantined');
    const lastPage = (etag?: string) =>
      getAs(
        api(`/retirements/${quarantined.id}/evidence?limit=1000`),
        OWNER,
        etag,
      );
    pageReads.mockClear();
    const whole = await lastPage();
    expect(whole.body.nextAfterSeq).toBeUndefined();
    const lastTag = whole.headers.etag;
    // Never kept: read on every request, 304 or not.
    expect((await lastPage(lastTag)).status).toBe(304);
    expect(pageReads).toHaveBeenCalledTimes(2);
    pageReads.mockRestore();
    const hold = await request(server)
      .post(api(`/retirements/${quarantined.id}/hold`))
      .set(as(PLATFORM))
      .send({ reason: 'audit' });
    expect(hold.status).toBe(200);
    const grown = await lastPage(lastTag);
    expect(grown.status).toBe(200);
    expect(grown.body.items).toHaveLength(whole.body.items.length + 1);
    expect(grown.headers.etag).not.toBe(lastTag);
    // Leave payments-api free for the tests that follow.
    await request(server)
      .delete(api(`/retirements/${quarantined.id}/hold`))
      .set(as(PLATFORM))
      .send({});
    const cancelled = await request(server)
      .post(api(`/retirements/${quarantined.id}/cancel`))
      .set(as(OWNER))
      .send({ reason: 'test done' });
    expect(cancelled.status).toBe(200);
  });

  it("answers an entity's unchanged stored anchors with 304, and changed ones in full", async () => {
    const path = api('/entities/component/default/payments-api/trust-anchors');
    const stored = await getAs(path, OWNER);
    expect(stored.status).toBe(200);
    const tag = stored.headers.etag;
    expect(tag).toMatch(/^W\/"[\w-]+"$/);
    expect(stored.headers['cache-control']).toBe('private, no-cache');
    const same = await getAs(path, OTHER, tag);
    expect({ status: same.status, text: same.text }).toEqual({
      status: 304,
      text: '',
    });
    expect(
      (await request(server).get(path).set({ 'If-None-Match': tag })).status,
    ).toBe(401);
    // Discovering again writes the anchors (each write stamps its row):
    // the stored ones now carry another tag, and the old one gets them all.
    const refreshed = await getAs(`${path}?refresh=true`, OWNER, tag);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.items.length).toBe(stored.body.items.length);
    const after = await getAs(path, OWNER, tag);
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(tag);
    expect(after.body.items.length).toBe(stored.body.items.length);
  });

  it('answers the platform list and residual access with 304 while the page a client holds is unchanged', async () => {
    for (const path of ['/retirements?limit=5', '/residual-access?limit=5']) {
      const full = await request(server).get(api(path)).set(as(PLATFORM));
      expect(full.status).toBe(200);
      const tag = full.headers.etag;
      expect(tag).toMatch(/^W\/"[\w-]+"$/);
      const same = await request(server)
        .get(api(path))
        .set({ ...as(PLATFORM), 'If-None-Match': tag });
      expect({ path, status: same.status, text: same.text }).toEqual({
        path,
        status: 304,
        text: '',
      });
      // Credentials are checked before the tag.
      expect(
        (await request(server).get(api(path)).set({ 'If-None-Match': tag }))
          .status,
      ).toBe(401);
    }
    // Another page of the list is another text, with another tag.
    const five = await request(server)
      .get(api('/retirements?limit=5'))
      .set(as(PLATFORM));
    expect(five.body.items.length).toBeGreaterThan(1);
    const one = await request(server)
      .get(api('/retirements?limit=1'))
      .set({ ...as(PLATFORM), 'If-None-Match': five.headers.etag });
    expect(one.status).toBe(200);
    expect(one.body.items).toHaveLength(1);
    expect(one.headers.etag).not.toBe(five.headers.etag);
  });

  it('verifies one chain once for the readers who ask together, each answer from a check begun after it asked', async () => {
    const first = await newestCompleted();
    const path = api(`/retirements/${first.id}/evidence/verify`);
    const verify = RetirementStore.prototype.verifyEvidence;
    const checks = jest
      .spyOn(RetirementStore.prototype, 'verifyEvidence')
      .mockImplementation(async function slowFirst(
        this: RetirementStore,
        ...args
      ) {
        // The first check is slow, so the other readers ask during it.
        if (checks.mock.calls.length === 1)
          await new Promise(resolve => setTimeout(resolve, 300));
        return verify.apply(this, args);
      });
    try {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          request(server).get(path).set(as(OWNER)),
        ),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({ valid: true });
      }
      // The first reader's check, then one shared by all who came during it.
      expect(checks).toHaveBeenCalledTimes(2);
      // A reader without the permission is refused before any check.
      checks.mockClear();
      expect((await request(server).get(path)).status).toBe(401);
      expect(checks).not.toHaveBeenCalled();
    } finally {
      checks.mockRestore();
    }
  });

  it('shows tampering with stored evidence on the verify endpoint, and offers no way to change it', async () => {
    const first = await newestCompleted();
    const path = api(`/retirements/${first.id}/evidence`);
    expect(
      (await request(server).get(`${path}/verify`).set(as(OWNER))).body.valid,
    ).toBe(true);
    for (const method of ['put', 'patch', 'delete', 'post'] as const) {
      expect(
        (await request(server)[method](path).set(as(PLATFORM)).send({})).status,
      ).toBe(404);
    }

    await knex('nhi_evidence')
      .where({ retirement_id: first.id, seq: 2 })
      .update({ summary: 'nothing to see' });
    const altered = await request(server).get(`${path}/verify`).set(as(OWNER));
    expect(altered.body).toMatchObject({ valid: false, firstInvalidSeq: 2 });
    expect(altered.body.problem).toMatch(/altered/);

    await knex('nhi_evidence')
      .where({ retirement_id: first.id, seq: 3 })
      .delete();
    expect(
      (await request(server).get(`${path}/verify`).set(as(OWNER))).body,
    ).toMatchObject({ valid: false, firstInvalidSeq: 2 });
  });

  it('lists residual access for deprecated entities', async () => {
    const res = await request(server)
      .get(api('/residual-access'))
      .set(as(PLATFORM));
    expect(res.status).toBe(200);
    for (const item of res.body.items) {
      expect([
        'entity-deprecated',
        'entity-retired',
        'entity-missing',
        'owner-missing',
      ]).toContain(item.reason);
    }
    expect(
      await request(server).get(api('/residual-access?x=1')).set(as(PLATFORM)),
    ).toMatchObject({ status: 400 });
  });

  it('pages residual access with limit and cursor, in the same order as one big page', async () => {
    // old-bot is deprecated: two more live anchors like its own, stamped
    // as every write of the store stamps an anchor (RetirementStore.anchorsMark).
    await request(server)
      .get(api('/entities/component/default/old-bot/trust-anchors'))
      .set(as(OWNER));
    const row = await knex('nhi_anchors')
      .where('entity_ref', 'component:default/old-bot')
      .first();
    for (const n of [1, 2]) {
      await knex('nhi_anchors')
        .insert({
          ...row,
          id: `anc_${String(n).padStart(40, '0')}`,
          external_id: `old-bot-key-${n}`,
          status: 'active',
          change_seq: Number(row.change_seq) + n,
        })
        .onConflict('id')
        .ignore();
    }
    const all = await request(server)
      .get(api('/residual-access'))
      .set(as(PLATFORM));
    expect(all.body.items.length).toBeGreaterThanOrEqual(2);
    expect(all.body.nextCursor).toBeUndefined();
    // Each item carries the whole anchor, as the anchors read gives it.
    const stored = (
      await request(server)
        .get(api('/entities/component/default/old-bot/trust-anchors'))
        .set(as(OWNER))
    ).body.items.filter((a: any) => ['active', 'unknown'].includes(a.status));
    const oldBot = all.body.items.filter(
      (i: any) => i.anchor.entityRef === 'component:default/old-bot',
    );
    expect(oldBot).toHaveLength(stored.length);
    expect(oldBot.length).toBeGreaterThanOrEqual(2);
    for (const item of oldBot) {
      expect(item).toEqual({
        anchor: stored.find((a: any) => a.id === item.anchor.id),
        reason: 'entity-deprecated',
        entityLifecycle: 'deprecated',
      });
    }
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await request(server)
        .get(
          api(`/residual-access?limit=1${cursor ? `&cursor=${cursor}` : ''}`),
        )
        .set(as(PLATFORM));
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(1);
      paged.push(...res.body.items.map((i: any) => i.anchor.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all.body.items.map((i: any) => i.anchor.id));
  });

  it('validates ids and query parameters', async () => {
    expect(
      (
        await request(server)
          .get(api('/retirements/..%2F..%2Fetc'))
          .set(as(OWNER))
      ).status,
    ).toBe(400);
    expect(
      (
        await request(server)
          .get(api('/retirements/ret_00000000-0000-4000-8000-000000000000'))
          .set(as(OWNER))
      ).status,
    ).toBe(404);
    expect(
      (await request(server).get(api('/retirements?limit=0')).set(as(PLATFORM)))
        .body.error.message,
    ).toMatch(/limit must be at least 1/);
    expect(
      (
        await request(server)
          .get(api('/retirements?status=done'))
          .set(as(PLATFORM))
      ).body.error.message,
    ).toMatch(/status must be one or more of/);
    expect(
      (
        await request(server)
          .get(api('/retirements?cursor=abc'))
          .set(as(PLATFORM))
      ).status,
    ).toBe(400);
    expect(
      (await request(server).get(api('/retirements')).set(as(OTHER))).status,
    ).toBe(200);
  });

  it('lists providers', async () => {
    const res = await request(server).get(api('/providers')).set(as(OTHER));
    expect(res.body.items).toEqual(
      expect.arrayContaining([
        { id: 'catalog', type: 'catalog', manual: true, simulated: false },
        { id: 'sys', type: 'in-memory', manual: false, simulated: false },
      ]),
    );
  });
});
