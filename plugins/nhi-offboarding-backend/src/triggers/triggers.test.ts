import fs from 'fs';
import os from 'os';
import path from 'path';
import request from 'supertest';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import {
  EventsService,
  eventsServiceFactory,
  eventsServiceRef,
} from '@backstage/plugin-events-node';
import type {
  Retirement,
  TriggerFiring,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingProvidersExtensionPoint } from '@nhi-offboarding/plugin-nhi-offboarding-node';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import { nhiOffboardingPlugin } from '../plugin';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';

/*
 * The triggers and notifications on a real backend: the real catalog
 * backend reads a catalog file, the real notifications backend stores
 * notifications, the real scheduler runs the catalog watch, the real
 * in-process events service carries events. Catalog changes are made by
 * editing the file and asking the catalog to refresh through its REST API.
 * Only the credential system is the in-memory test peer (no real system is
 * behind these made-up credentials).
 */

jest.setTimeout(180_000);

const ALICE = 'user:default/alice'; // payments (owner of the services)
const CAROL = 'user:default/carol'; // billing-team (shares a secret)
const PRIYA = 'user:default/priya'; // platform (approves exceptions)

function component(
  name: string,
  lifecycle: string,
  owner: string,
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      annotations: { 'nhi-offboarding/sys': `${name}-key` },
    },
    spec: { type: 'service', lifecycle, owner, ...extra },
  };
}

function catalogYaml(state: {
  svcALifecycle: string;
  withSvcB: boolean;
}): string {
  const docs: unknown[] = [
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'payments' },
      spec: { type: 'team', children: [] },
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'billing-team' },
      spec: { type: 'team', children: [] },
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'platform' },
      spec: { type: 'team', children: [] },
    },
    ...[
      ['alice', 'payments'],
      ['carol', 'billing-team'],
      ['priya', 'platform'],
    ].map(([name, group]) => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name },
      spec: { memberOf: [group] },
    })),
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Resource',
      metadata: {
        name: 'shared-key',
        annotations: {
          'nhi-offboarding/provider': 'sys',
          'nhi-offboarding/external-id': 'shared-key',
        },
      },
      spec: { type: 'api-key', owner: 'payments' },
    },
    component('svc-a', state.svcALifecycle, 'payments', {
      dependsOn: ['resource:default/shared-key'],
    }),
    component('billing', 'production', 'billing-team', {
      dependsOn: ['resource:default/shared-key'],
    }),
    component('svc-c', 'production', 'payments'),
    component('svc-d', 'production', 'payments'),
  ];
  if (state.withSvcB) docs.push(component('svc-b', 'production', 'payments'));
  return docs.map(d => JSON.stringify(d)).join('\n---\n');
}

// Each plugin gets its own in-memory SQLite database from the test backend
// (catalog, notifications and this plugin cannot share one knex: their
// migrations lock each other out).
const databaseId = 'SQLITE_3';

describe('triggers on the real catalog, events and notifications backends', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let server: any;
  let sys: InMemoryCredentialSystem;
  let events: EventsService;
  let dir: string;
  let catalogFile: string;

  const as = (user: string) => ({
    Authorization: mockCredentials.user.header(user),
  });
  const api = (p: string) => `/api/nhi-offboarding${p}`;

  async function eventually<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 60_000,
  ): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
      await new Promise(r => setTimeout(r, 100));
    }
  }

  async function inCatalog(ref: string): Promise<any | undefined> {
    const res = await request(server)
      .get(`/api/catalog/entities/by-name/${ref.replace(/[:]/, '/')}`)
      .set(as(ALICE));
    return res.status === 200 ? res.body : undefined;
  }

  async function refreshCatalog(ref: string) {
    const res = await request(server)
      .post('/api/catalog/refresh')
      .set(as(ALICE))
      .send({ entityRef: ref });
    expect(res.status).toBe(200);
  }

  async function retirementsOf(ref: string): Promise<Retirement[]> {
    const res = await request(server)
      .get(api(`/retirements?entityRef=${encodeURIComponent(ref)}`))
      .set(as(ALICE));
    expect(res.status).toBe(200);
    return res.body.items;
  }

  async function firingsOf(ref: string): Promise<TriggerFiring[]> {
    const res = await request(server)
      .get(api(`/triggers/firings?entityRef=${encodeURIComponent(ref)}`))
      .set(as(ALICE));
    expect(res.status).toBe(200);
    return res.body.items;
  }

  async function notificationsOf(user: string): Promise<any[]> {
    const res = await request(server)
      .get('/api/notifications/notifications?limit=100')
      .set(as(user));
    expect(res.status).toBe(200);
    return res.body.notifications;
  }

  async function waitForStatus(id: string, status: Retirement['status']) {
    return eventually(`retirement ${id} ${status}`, async () => {
      const res = await request(server)
        .get(api(`/retirements/${id}`))
        .set(as(ALICE));
      return res.body.status === status ? (res.body as Retirement) : undefined;
    });
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-triggers-'));
    catalogFile = path.join(dir, 'catalog.yaml');
    fs.writeFileSync(
      catalogFile,
      catalogYaml({ svcALifecycle: 'production', withSvcB: true }),
    );
    sys = new InMemoryCredentialSystem('sys');
    for (const id of [
      'svc-a-key',
      'svc-b-key',
      'svc-c-key',
      'svc-d-key',
      'billing-key',
      'shared-key',
    ]) {
      sys.add(id, 'api-key');
    }
    backend = await startTestBackend({
      features: [
        catalogPlugin,
        notificationsPlugin,
        nhiOffboardingPlugin,
        createBackendModule({
          pluginId: 'nhi-offboarding',
          moduleId: 'test-system',
          register(env) {
            env.registerInit({
              deps: {
                providers: nhiOffboardingProvidersExtensionPoint,
                events: eventsServiceRef,
              },
              async init(deps) {
                deps.providers.addProvider(sys);
                events = deps.events;
              },
            });
          },
        }),
        schedulerServiceFactory,
        eventsServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            catalog: {
              rules: [
                {
                  allow: ['Component', 'Resource', 'Group', 'User', 'Location'],
                },
              ],
              locations: [{ type: 'file', target: catalogFile }],
            },
            nhiOffboarding: {
              engine: { pollIntervalMs: 50, retryBaseDelayMs: 50 },
              triggers: {
                watchFrequencySeconds: 1,
                lifecycle: {
                  enabled: true,
                  action: 'retire',
                  lifecycles: ['deprecated', 'retired'],
                },
                missing: { enabled: true, action: 'propose' },
                events: { enabled: true, action: 'retire' },
              },
              notifications: { approvers: ['group:default/platform'] },
            },
          },
        }),
      ],
    });
    server = backend.server;
    await eventually('the catalog to read the file', async () =>
      (await inCatalog('component:default/svc-b')) &&
      (await inCatalog('user:default/carol'))
        ? true
        : undefined,
    );
    // The first watch runs (every second) record the baseline; nothing fires for it.
    await new Promise(r => setTimeout(r, 3000));
  });

  afterAll(async () => {
    await backend?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts a retirement when spec.lifecycle becomes deprecated, and notifies owners and the consumers of a rotated shared secret', async () => {
    expect(await retirementsOf('component:default/svc-a')).toEqual([]);
    fs.writeFileSync(
      catalogFile,
      catalogYaml({ svcALifecycle: 'deprecated', withSvcB: true }),
    );
    const changedAt = Date.now();
    await refreshCatalog('component:default/svc-a');
    await eventually('the catalog to show the new lifecycle', async () =>
      (await inCatalog('component:default/svc-a'))?.spec.lifecycle ===
      'deprecated'
        ? true
        : undefined,
    );
    const seenAt = Date.now();
    const [retirement] = await eventually('the retirement', async () => {
      const items = await retirementsOf('component:default/svc-a');
      return items.length ? items : undefined;
    });
    const startedAt = Date.now();
    // Figures for the report (bench/triggers.md); no timed assertion.
    // eslint-disable-next-line no-console
    console.log(
      `[${databaseId}] lifecycle trigger: file change+refresh → catalog shows it ${
        seenAt - changedAt
      } ms, → retirement started ${startedAt - changedAt} ms`,
    );
    expect(retirement).toMatchObject({
      owner: 'group:default/payments',
      requestedBy: 'nhi-offboarding:trigger/lifecycle',
      origin: {
        trigger: 'lifecycle',
        detail: 'spec.lifecycle production → deprecated',
      },
    });
    const done = await waitForStatus(retirement.id, 'completed');
    expect(done.progress.failed).toBe(0);
    expect(sys.callsOf('rotate')).toEqual(['shared-key']);
    expect(sys.callsOf('revoke')).toEqual(['svc-a-key']);

    // The origin is in the first evidence record, under the hash chain.
    const evidence = await request(server)
      .get(api(`/retirements/${retirement.id}/evidence`))
      .set(as(ALICE));
    expect(evidence.body.items[0]).toMatchObject({
      kind: 'planned',
      actor: 'nhi-offboarding:trigger/lifecycle',
      data: { origin: { trigger: 'lifecycle' } },
    });

    const alice = await eventually('alice notified of completion', async () => {
      const items = await notificationsOf(ALICE);
      return items.some(n => n.payload.title.includes('completed'))
        ? items
        : undefined;
    });
    const titles = alice
      .filter(n => n.payload.link.includes('/component/svc-a/'))
      .map(n => n.payload.title)
      .sort();
    expect(titles).toEqual([
      'Retirement of component:default/svc-a completed',
      'Retirement of component:default/svc-a started',
    ]);
    expect(alice[0].payload).toMatchObject({
      topic: 'nhi-offboarding',
      link: '/catalog/default/component/svc-a/retire',
    });
    const carol = await eventually(
      'carol notified of the rotation',
      async () => {
        const items = await notificationsOf(CAROL);
        return items.length ? items : undefined;
      },
    );
    expect(carol.map(n => n.payload.title)).toEqual([
      expect.stringContaining('Shared secret rotated'),
    ]);
    expect(carol[0].payload.severity).toBe('high');

    // The watch keeps running: the same lifecycle seen again fires nothing.
    await new Promise(r => setTimeout(r, 2500));
    expect(await retirementsOf('component:default/svc-a')).toHaveLength(1);
    expect(await firingsOf('component:default/svc-a')).toHaveLength(1);
  });

  it('proposes a retirement when an entity with live anchors leaves the catalog; the owner confirms it', async () => {
    // Someone looked at svc-b's anchors: they are stored, and live.
    const anchors = await request(server)
      .get(api('/entities/component/default/svc-b/trust-anchors?refresh=true'))
      .set(as(ALICE));
    expect(anchors.body.items).toHaveLength(1);

    fs.writeFileSync(
      catalogFile,
      catalogYaml({ svcALifecycle: 'deprecated', withSvcB: false }),
    );
    await refreshCatalog('component:default/svc-b');
    await eventually('svc-b gone from the catalog', async () =>
      (await inCatalog('component:default/svc-b')) ? undefined : true,
    );
    const [proposal] = await eventually('the proposal', async () => {
      const items = await firingsOf('component:default/svc-b');
      return items.length ? items : undefined;
    });
    expect(proposal).toMatchObject({
      trigger: 'missing',
      action: 'propose',
      status: 'proposed',
      detail: 'left the catalog with 1 live trust anchor(s)',
    });
    expect(await retirementsOf('component:default/svc-b')).toEqual([]);
    await eventually('alice told about the proposal', async () =>
      (
        await notificationsOf(ALICE)
      ).find(n =>
        n.payload.title.includes('proposed for component:default/svc-b'),
      ),
    );

    // A malformed id is a 400; confirming twice is a 409.
    const denied = await request(server)
      .post(api(`/triggers/firings/nope/confirm`))
      .set(as(ALICE))
      .send({});
    expect(denied.status).toBe(400);

    const confirmed = await request(server)
      .post(api(`/triggers/firings/${proposal.id}/confirm`))
      .set(as(ALICE))
      .send({});
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('started');
    const again = await request(server)
      .post(api(`/triggers/firings/${proposal.id}/confirm`))
      .set(as(ALICE))
      .send({});
    expect(again.status).toBe(409);

    const retirement = await waitForStatus(
      confirmed.body.retirementId,
      'completed',
    );
    expect(retirement).toMatchObject({
      entityRef: 'component:default/svc-b',
      requestedBy: ALICE,
      owner: 'group:default/payments',
      origin: { trigger: 'missing', confirmedBy: ALICE },
    });
    expect(sys.callsOf('revoke')).toContain('svc-b-key');
  });

  it('starts one retirement for an event delivered twice, and records a bad payload without failing', async () => {
    const payload = {
      id: 'hr-4711',
      source: 'workday',
      entityRef: 'component:default/svc-c',
      reason: 'Workload decommissioned in the HR system',
    };
    await events.publish({
      topic: 'nhi-offboarding.retire',
      eventPayload: payload,
    });
    await events.publish({
      topic: 'nhi-offboarding.retire',
      eventPayload: payload,
    });
    await events.publish({
      topic: 'nhi-offboarding.retire',
      eventPayload: { entityRef: 'component:default/svc-c', extra: true },
    });
    const firings = await firingsOf('component:default/svc-c');
    expect(
      firings.map(f => [f.status, f.trigger, f.detail?.slice(0, 26)]).sort(),
    ).toEqual([
      ['rejected', 'event', expect.stringContaining('invalid payload')],
      ['started', 'event', 'event hr-4711 from workday'],
    ]);
    const retirements = await retirementsOf('component:default/svc-c');
    expect(retirements).toHaveLength(1);
    expect(retirements[0].origin?.trigger).toBe('event');
    await waitForStatus(retirements[0].id, 'completed');
  });

  it('tells the approvers when an exception waits for them', async () => {
    await events.publish({
      topic: 'nhi-offboarding.retire',
      eventPayload: {
        id: 'contract-ended-9',
        source: 'contractors',
        entityRef: 'component:default/svc-d',
        reason: 'Contract ended',
        mode: 'quarantine',
        quarantineDays: 30,
      },
    });
    const [retirement] = await retirementsOf('component:default/svc-d');
    const quarantined = await waitForStatus(retirement.id, 'quarantined');
    const later = quarantined.steps!.find(s => s.afterQuarantine)!;
    const res = await request(server)
      .post(api(`/retirements/${retirement.id}/steps/${later.id}/exception`))
      .set(as(ALICE))
      .send({
        justification: 'Batch job still needs it until the migration ends',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
    expect(res.status).toBe(201);
    const priya = await eventually('priya notified', async () => {
      const items = await notificationsOf(PRIYA);
      return items.length ? items : undefined;
    });
    expect(priya.map(n => n.payload.title)).toEqual([
      'Exception waits for approval: component:default/svc-d',
    ]);
    // The requester is not an approver: alice got no exception notification.
    expect(
      (await notificationsOf(ALICE)).filter(n =>
        n.payload.title.startsWith('Exception'),
      ),
    ).toEqual([]);
  });
});
