import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { NotificationSendOptions } from '@backstage/plugin-notifications-node';
import type { EvidenceRecord } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RetirementStore } from '../database/RetirementStore';
import { applyDatabaseMigrations } from '../database/migrations';
import { sharedProviderGate } from '../engine/ProviderGate';
import { verifyEvidenceChain } from '../evidence';
import { ProviderRegistry } from '../providers/ProviderRegistry';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';
import {
  createTestRetirement,
  markCompleted,
} from '../testing/retirementFixtures';
import { ReverificationSweep } from './ReverificationSweep';
import { RetirementNotifier } from '../notifications/RetirementNotifier';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const HOUR = 3600_000;

describe.each(databases.eachSupportedId())(
  'ReverificationSweep on %p',
  databaseId => {
    async function setup() {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const sys = new InMemoryCredentialSystem('sys');
      const registry = new ProviderRegistry([sys]);
      // Every evidence record, as plugin.ts hands them to the notifier.
      const written: EvidenceRecord[] = [];
      const store = new RetirementStore(knex, records =>
        written.push(...records),
      );
      let now = new Date('2026-11-01T00:00:00Z');
      const sweep = new ReverificationSweep({
        db: knex,
        store,
        providers: registry,
        logger: mockServices.logger.mock(),
        options: {
          batchSize: 2,
          recordEveryMs: 24 * HOUR,
          callTimeoutMs: 5000,
        },
        clock: () => now,
      });

      /** A retirement as a finished run leaves it: every anchor verified untrusted. */
      async function completed(name: string, keys: string[]) {
        const entityRef = `component:default/${name}`;
        for (const k of keys) {
          sys.add(k, 'api-key');
          Object.assign(sys.credentials.get(k)!, {
            status: 'revoked',
            sessions: 0,
          });
        }
        const r = await createTestRetirement(store, {
          entityRef,
          now,
          externalIds: keys,
          anchorStatus: 'revoked',
          owner: 'group:default/payments-team',
        });
        await markCompleted(knex, r.id, now);
        return r.id;
      }
      const advance = (ms: number) => {
        now = new Date(now.getTime() + ms);
      };
      return {
        knex,
        sys,
        registry,
        store,
        sweep,
        completed,
        advance,
        written,
      };
    }

    it('moves the last-verified time every run but writes a clean re-check to the chain once a day', async () => {
      const { store, sweep, completed, advance } = await setup();
      const ids = [
        await completed('a', ['a-1', 'a-2']),
        await completed('b', ['b-1']),
        await completed('c', ['c-1']),
      ];
      expect(await sweep.run()).toMatchObject({
        retirements: 3,
        clean: 3,
        drift: 0,
      });
      advance(HOUR);
      expect(await sweep.run()).toMatchObject({ clean: 3 });
      const r = await store.getRetirement(ids[0], { withSteps: false });
      expect(r!.lastReverifiedAt).toBe('2026-11-01T01:00:00.000Z');
      let evidence = await store.getEvidence(ids[0]);
      expect(evidence.filter(e => e.kind === 'reverification')).toHaveLength(1);
      advance(24 * HOUR);
      await sweep.run();
      evidence = await store.getEvidence(ids[0]);
      const records = evidence.filter(e => e.kind === 'reverification');
      expect(records).toHaveLength(2);
      expect(records[1].data).toEqual({
        anchors: expect.arrayContaining([
          expect.objectContaining({ externalId: 'a-1', outcome: 'untrusted' }),
          expect.objectContaining({ externalId: 'a-2', outcome: 'untrusted' }),
        ]),
      });
      expect(verifyEvidenceChain(evidence).valid).toBe(true);
    });

    it('fails closed: a system that cannot answer proves nothing and moves nothing', async () => {
      const { sys, store, sweep, completed } = await setup();
      const id = await completed('d', ['d-1']);
      sys.unreachable = true;
      expect(await sweep.run()).toMatchObject({
        inconclusive: 1,
        clean: 0,
        drift: 0,
      });
      const r = await store.getRetirement(id, { withSteps: false });
      expect(r!.lastReverifiedAt).toBeUndefined();
      expect(r!.status).toBe('completed');
      const kinds = (await store.getEvidence(id)).map(e => e.kind);
      expect(kinds).toEqual(['planned']);
    });

    it('records drift once: the retirement then needs attention and is no longer swept', async () => {
      const { sys, store, sweep, completed } = await setup();
      const id = await completed('e', ['e-1', 'e-2']);
      sys.credentials.get('e-2')!.status = 'active';
      const first = await sweep.run();
      expect(first).toMatchObject({ drift: 1 });
      expect(await sweep.run()).toMatchObject({ retirements: 0 });
      const r = await store.getRetirement(id, { withSteps: true });
      expect(r!.status).toBe('needs-attention');
      const redo = r!.steps!.filter(s => s.rationale.startsWith('Drift'));
      expect(redo.map(s => [s.action, s.status])).toEqual(
        expect.arrayContaining([
          ['revoke', 'failed'],
          ['verify', 'pending'],
          ['seal', 'pending'],
        ]),
      );
      expect(redo).toHaveLength(3);
      // It holds the entity again: no second retirement starts meanwhile.
      await expect(
        store.assertNoActiveRetirement('component:default/e'),
      ).rejects.toThrow(/already has an active retirement/);
      const evidence = await store.getEvidence(id);
      expect(evidence.filter(e => e.kind === 'drift')).toHaveLength(1);
      expect(evidence.find(e => e.kind === 'drift')!.data).toMatchObject({
        externalId: 'e-2',
      });
      expect(verifyEvidenceChain(evidence).valid).toBe(true);
    });

    it("tells the entity's owners of drift and of the attention it needs", async () => {
      const { sys, store, sweep, completed, written } = await setup();
      const id = await completed('n', ['n-1']);
      sys.credentials.get('n-1')!.status = 'active';
      written.length = 0;
      await sweep.run();
      const sent: NotificationSendOptions[] = [];
      const notifier = new RetirementNotifier({
        notifications: { send: async n => void sent.push(n) },
        store,
        catalog: catalogServiceMock(),
        auth: mockServices.auth(),
        logger: mockServices.logger.mock(),
        approvers: ['group:default/platform-team'],
      });
      await notifier.handle(written);
      expect(
        sent.map(n => [n.recipients, n.payload.severity, n.payload.title]),
      ).toEqual([
        [
          { type: 'entity', entityRef: ['group:default/payments-team'] },
          'critical',
          'Drift: component:default/n is trusted again somewhere',
        ],
        [
          { type: 'entity', entityRef: ['group:default/payments-team'] },
          'high',
          'Retirement of component:default/n needs attention',
        ],
      ]);
      expect(sent[0].payload.link).toBe('/catalog/default/component/n/retire');
      expect(new Set(sent.map(n => n.payload.scope)).size).toBe(2);
      expect(id).toMatch(/^ret_/);
    });

    it('shares one provider gate with the engine', async () => {
      const { registry } = await setup();
      expect(sharedProviderGate(registry)).toBe(sharedProviderGate(registry));
      expect(sharedProviderGate(registry)).not.toBe(
        sharedProviderGate(new ProviderRegistry([])),
      );
    });
  },
);
