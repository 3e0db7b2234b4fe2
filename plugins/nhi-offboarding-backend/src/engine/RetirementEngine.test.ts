import {
  mockServices,
  TestDatabases,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import type {
  RetirementMode,
  TrustAnchor,
  TrustAnchorKind,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  PermanentProviderError,
  RateLimitedError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { applyDatabaseMigrations } from '../database/migrations';
import { RetirementStore } from '../database/RetirementStore';
import { anchorId } from '../discovery/AnchorDiscovery';
import { verifyEvidenceChain } from '../evidence';
import { planRetirement } from '../planning/planRetirement';
import { ProviderRegistry } from '../providers/ProviderRegistry';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';
import { RetirementEngine } from './RetirementEngine';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const ENTITY = 'component:default/payments-api';
const T0 = new Date('2026-11-26T10:00:00.000Z');

async function setup(databaseId: TestDatabaseId, limits = {}) {
  const db = await databases.init(databaseId);
  await applyDatabaseMigrations(db);
  const sys = new InMemoryCredentialSystem('sys', limits);
  const registry = new ProviderRegistry([sys]);
  const store = new RetirementStore(db);
  const clock = { now: T0 };
  const engineOptions = {
    pollIntervalMs: 10,
    leaseMs: 5_000,
    workerConcurrency: 8,
    callTimeoutMs: 2_000,
    retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 4_000 },
  };
  const newEngine = () =>
    new RetirementEngine(
      store,
      registry,
      mockServices.logger.mock(),
      engineOptions,
      () => clock.now,
    );
  const engine = newEngine();

  let counter = 0;
  async function start(
    credentials: {
      id: string;
      kind: TrustAnchorKind;
      sharedWith?: string[];
      manual?: boolean;
    }[],
    mode: RetirementMode = 'revoke',
    quarantineDays?: number,
    entityRef = ENTITY,
  ) {
    const anchors: TrustAnchor[] = credentials.map(c => {
      if (!c.manual && !sys.credentials.has(c.id))
        sys.add(c.id, c.kind, ['admins']);
      return {
        id: anchorId(entityRef, c.manual ? 'catalog' : 'sys', c.id),
        entityRef,
        providerId: c.manual ? 'catalog' : 'sys',
        kind: c.kind,
        externalId: c.id,
        displayName: c.id,
        fingerprint: c.manual ? undefined : `sha256:${c.id}`,
        scopes: [],
        sharedWith: c.sharedWith ?? [],
        manual: Boolean(c.manual),
        status: 'active',
        discoveredAt: T0.toISOString(),
        discoveredBy: c.manual ? 'catalog' : 'sys',
      };
    });
    await store.upsertAnchors(anchors);
    const steps = planRetirement({
      anchors,
      mode,
      capabilitiesOf: id =>
        id === 'catalog'
          ? {
              manual: true,
              disable: false,
              revoke: false,
              terminateSessions: false,
              rotate: false,
              removeMemberships: false,
              verify: false,
            }
          : registry.capabilitiesOf(id),
    });
    counter++;
    const hex = counter.toString(16).padStart(12, '0');
    return store.createRetirement({
      id: `ret_00000000-0000-4000-8000-${hex}`,
      entityRef,
      mode,
      reason: 'decommissioned',
      requestedBy: 'user:default/alice',
      quarantineDays,
      quarantineUntil:
        quarantineDays !== undefined
          ? new Date(clock.now.getTime() + quarantineDays * 86_400_000)
          : undefined,
      steps: steps.map((s, i) => ({
        ...s,
        id: `stp_00000000-0000-4000-${hex.slice(-4)}-${i
          .toString(16)
          .padStart(12, '0')}`,
      })),
      anchors,
      now: clock.now,
    });
  }

  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  const get = async (id: string) =>
    (await store.getRetirement(id, { withSteps: true }))!;
  return { db, sys, store, engine, newEngine, clock, start, advance, get };
}

describe.each(databases.eachSupportedId())(
  'RetirementEngine on %p',
  databaseId => {
    it('revokes in control-chain order, verifies, and seals a valid evidence chain', async () => {
      const { sys, engine, start, get, store } = await setup(databaseId);
      const r = await start([
        { id: 'payments-sa', kind: 'service-account' },
        { id: 'payments-admins', kind: 'group-membership' },
        { id: 'stripe-key', kind: 'api-key' },
      ]);
      expect(r.status).toBe('pending');
      await engine.drain();

      const done = await get(r.id);
      expect(done.status).toBe('completed');
      expect(done.progress).toMatchObject({
        anchors: 3,
        verified: 3,
        failed: 0,
      });
      expect(done.steps!.every(s => s.status === 'succeeded')).toBe(true);

      const order = sys.calls.map(c => `${c.method}:${c.externalId}`);
      const at = (s: string) => order.indexOf(s);
      expect(at('disable:payments-sa')).toBeLessThan(
        at('terminateSessions:payments-sa'),
      );
      expect(at('terminateSessions:payments-sa')).toBeLessThan(
        at('removeMemberships:payments-sa'),
      );
      expect(at('removeMemberships:payments-sa')).toBeLessThan(
        at('revoke:payments-admins') + 1,
      );
      expect(at('revoke:payments-admins')).toBeLessThan(
        at('revoke:stripe-key'),
      );
      expect(
        Math.max(at('revoke:stripe-key'), at('revoke:payments-sa')),
      ).toBeLessThan(
        Math.min(
          ...['payments-sa', 'payments-admins', 'stripe-key'].map(id =>
            at(`verify:${id}`),
          ),
        ),
      );
      expect(sys.credentials.get('stripe-key')!.status).toBe('revoked');

      const evidence = await store.getEvidence(r.id);
      expect(verifyEvidenceChain(evidence)).toMatchObject({
        valid: true,
        count: evidence.length,
      });
      expect(evidence[0].kind).toBe('planned');
      expect(evidence[evidence.length - 1]).toMatchObject({
        kind: 'completion',
      });
      expect(evidence.filter(e => e.kind === 'verification')).toHaveLength(3);
      // Every acting step left exactly one result record.
      const actionSteps = done.steps!.filter(
        s => !['verify', 'seal'].includes(s.action),
      );
      for (const step of actionSteps) {
        expect(
          evidence.filter(e => e.kind === 'action' && e.stepId === step.id),
        ).toHaveLength(1);
      }
      const anchors = await store.listAnchors(ENTITY);
      expect(
        anchors.every(
          a => a.status === 'revoked' && a.lastVerification === 'untrusted',
        ),
      ).toBe(true);
    });

    it('rotates a shared secret and never revokes it', async () => {
      const { sys, engine, start, get } = await setup(databaseId);
      const r = await start([
        {
          id: 'db-password',
          kind: 'secret',
          sharedWith: ['component:default/billing'],
        },
      ]);
      await engine.drain();
      expect((await get(r.id)).status).toBe('completed');
      expect(sys.callsOf('rotate')).toEqual(['db-password']);
      expect(sys.callsOf('revoke')).toEqual([]);
      expect(sys.credentials.get('db-password')!.status).toBe('active');
    });

    it('retries transient errors with backoff and honours Retry-After', async () => {
      const { sys, engine, start, get, advance } = await setup(databaseId);
      sys.failures.revoke = [
        new RateLimitedError('429 slow down', 7_000),
        new TransientProviderError('503'),
      ];
      const r = await start([{ id: 'stripe-key', kind: 'api-key' }]);
      await engine.drain();
      let step = (await get(r.id)).steps!.find(s => s.action === 'revoke')!;
      expect(step).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastError: '429 slow down',
      });
      expect(
        new Date(step.notBefore!).getTime() -
          Date.parse('2026-11-26T10:00:00.000Z'),
      ).toBe(7_000);

      advance(6_000);
      await engine.drain();
      expect(sys.callsOf('revoke')).toHaveLength(1); // not due yet
      advance(2_000);
      await engine.drain();
      step = (await get(r.id)).steps!.find(s => s.action === 'revoke')!;
      expect(step).toMatchObject({
        status: 'pending',
        attempts: 2,
        lastError: '503',
      });
      advance(5_000);
      await engine.drain();
      const done = await get(r.id);
      expect(done.status).toBe('completed');
      expect(done.steps!.find(s => s.action === 'revoke')).toMatchObject({
        status: 'succeeded',
        attempts: 3,
      });
    });

    it('stops at a permanent error with an actionable reason, and resumes on retry', async () => {
      const { sys, engine, start, get, store, clock } = await setup(databaseId);
      sys.failures.revoke = [
        new PermanentProviderError(
          'The admin account lacks CREATEROLE: grant it',
        ),
      ];
      const r = await start([{ id: 'stripe-key', kind: 'api-key' }]);
      await engine.drain();
      const stuck = await get(r.id);
      expect(stuck.status).toBe('needs-attention');
      expect(stuck.statusReason).toContain('lacks CREATEROLE');
      expect(sys.callsOf('verify')).toEqual([]); // the chain stopped

      await store.retry(r.id, 'user:default/alice', clock.now);
      await engine.drain();
      expect((await get(r.id)).status).toBe('completed');
    });

    it('fails closed: an unverifiable anchor is never reported as done', async () => {
      const { sys, engine, start, get, advance, store } = await setup(
        databaseId,
      );
      sys.unreachable = true;
      const r = await start([{ id: 'stripe-key', kind: 'api-key' }]);
      for (let i = 0; i < 5; i++) {
        await engine.drain();
        advance(10_000);
      }
      const stuck = await get(r.id);
      expect(stuck.status).toBe('needs-attention');
      const verify = stuck.steps!.find(s => s.action === 'verify')!;
      expect(verify).toMatchObject({ status: 'failed', outcome: 'unknown' });
      expect(verify.lastError).toMatch(/Unverified.*not counted as revoked/);
      expect(stuck.progress.verified).toBe(0);
      const evidence = await store.getEvidence(r.id);
      expect(evidence.some(e => e.kind === 'completion')).toBe(false);
      expect(evidence.find(e => e.kind === 'verification')!.data).toMatchObject(
        { outcome: 'unknown' },
      );
    });

    it('keeps verifying within the propagation window, then succeeds', async () => {
      const { sys, engine, start, get, advance } = await setup(databaseId, {
        propagationWindowMs: 60_000,
      });
      const r = await start([{ id: 'stripe-key', kind: 'api-key' }]);
      sys.staleVerifies = 2;
      await engine.drain();
      expect(
        (await get(r.id)).steps!.find(s => s.action === 'verify'),
      ).toMatchObject({
        status: 'pending',
        outcome: 'trusted',
      });
      for (let i = 0; i < 3; i++) {
        advance(10_000);
        await engine.drain();
      }
      expect((await get(r.id)).status).toBe('completed');
      expect(sys.callsOf('verify')).toHaveLength(3);
    });

    it('fails a verification that still trusts the anchor after the window', async () => {
      const { sys, engine, start, get } = await setup(databaseId);
      const r = await start([{ id: 'stripe-key', kind: 'api-key' }]);
      sys.staleVerifies = 1;
      await engine.drain();
      const stuck = await get(r.id);
      expect(stuck.status).toBe('needs-attention');
      expect(stuck.steps!.find(s => s.action === 'verify')!.lastError).toMatch(
        /still trusts stripe-key/,
      );
    });

    it('quarantines: disables now, waits, and revokes only after the quarantine ends', async () => {
      const { sys, engine, start, get, advance, store, clock } = await setup(
        databaseId,
      );
      const r = await start(
        [{ id: 'payments-sa', kind: 'service-account' }],
        'quarantine',
        7,
      );
      await engine.drain();
      const q = await get(r.id);
      expect(q.status).toBe('quarantined');
      expect(sys.credentials.get('payments-sa')!.status).toBe('disabled');
      expect(sys.callsOf('revoke')).toEqual([]);
      expect(q.steps!.find(s => s.stage === 3)).toMatchObject({
        action: 'verify',
        status: 'succeeded',
        outcome: 'untrusted',
      });

      advance(3 * 86_400_000);
      expect(await store.endExpiredQuarantines(clock.now)).toEqual([]);
      await engine.drain();
      expect(sys.callsOf('revoke')).toEqual([]);

      advance(5 * 86_400_000);
      expect(await store.endExpiredQuarantines(clock.now)).toEqual([r.id]);
      await engine.drain();
      expect((await get(r.id)).status).toBe('completed');
      expect(sys.credentials.get('payments-sa')!.status).toBe('revoked');
    });

    it('releases a quarantine early', async () => {
      const { sys, engine, start, get, store, clock } = await setup(databaseId);
      const r = await start(
        [{ id: 'payments-sa', kind: 'service-account' }],
        'quarantine',
        30,
      );
      await engine.drain();
      expect((await get(r.id)).status).toBe('quarantined');
      await store.release(r.id, 'user:default/alice', clock.now);
      await engine.drain();
      expect((await get(r.id)).status).toBe('completed');
      expect(sys.callsOf('revoke')).toEqual(['payments-sa']);
    });

    it('restores access instead of revoking when a quarantine is ended that way', async () => {
      const { sys, engine, start, get, store, clock } = await setup(databaseId);
      const r = await start(
        [
          { id: 'payments-sa', kind: 'service-account' },
          { id: 'stripe-key', kind: 'api-key' },
        ],
        'quarantine',
        30,
      );
      await engine.drain();
      expect(sys.credentials.get('payments-sa')!.status).toBe('disabled');
      let n = 0;
      await store.setHold(
        r.id,
        'user:default/legal',
        true,
        'hold does not block a restore',
        clock.now,
      );
      await store.restore(
        r.id,
        'user:default/alice',
        clock.now,
        () => `stp_restore-${++n}`,
      );
      await engine.drain();
      const restored = await get(r.id);
      expect(restored).toMatchObject({ status: 'cancelled', restoring: true });
      expect(restored.statusReason).toMatch(/restoring access/);
      expect(sys.credentials.get('payments-sa')!.status).toBe('active');
      expect(sys.callsOf('enable')).toEqual(['payments-sa']);
      expect(sys.callsOf('revoke')).toEqual([]);
      expect(
        restored
          .steps!.filter(s => s.action === 'revoke')
          .every(s => s.status === 'cancelled'),
      ).toBe(true);
      expect(verifyEvidenceChain(await store.getEvidence(r.id)).valid).toBe(
        true,
      );
      // The entity may be retired again.
      expect(
        (await start([{ id: 'payments-sa', kind: 'service-account' }])).status,
      ).toBe('pending');
    });

    it('refuses to restore once the final revoke has run', async () => {
      const { sys, engine, start, store, clock, get } = await setup(databaseId);
      sys.failures.revoke = [new PermanentProviderError('no privilege')];
      const r = await start(
        [{ id: 'payments-sa', kind: 'service-account' }],
        'quarantine',
        0,
      );
      await engine.drain();
      expect((await get(r.id)).status).toBe('needs-attention');
      await expect(
        store.restore(r.id, 'user:default/alice', clock.now, () => 'stp_x'),
      ).rejects.toThrow(/no longer be restored: 2 final step\(s\)/);
      sys.failures.revoke = [];
      await store.retry(r.id, 'user:default/alice', clock.now);
      await engine.drain();
      expect((await get(r.id)).status).toBe('completed');
      await expect(
        store.restore(r.id, 'user:default/alice', clock.now, () => 'stp_y'),
      ).rejects.toThrow(/is completed: its quarantine is over/);
    });

    it('a legal hold blocks the final revoke until it is lifted', async () => {
      const { sys, engine, start, get, store, clock } = await setup(databaseId);
      const r = await start([{ id: 'payments-sa', kind: 'service-account' }]);
      await store.setHold(
        r.id,
        'user:default/legal',
        true,
        'litigation 2026-17',
        clock.now,
      );
      await engine.drain();
      const held = await get(r.id);
      expect(held).toMatchObject({
        status: 'running',
        legalHold: true,
        holdReason: 'litigation 2026-17',
      });
      expect(sys.callsOf('disable')).toEqual(['payments-sa']);
      expect(sys.callsOf('removeMemberships')).toEqual([]);
      expect(sys.callsOf('revoke')).toEqual([]);

      await store.setHold(
        r.id,
        'user:default/legal',
        false,
        'case closed',
        clock.now,
      );
      await engine.drain();
      expect((await get(r.id)).status).toBe('completed');
      const holds = (await store.getEvidence(r.id)).filter(
        e => e.kind === 'hold',
      );
      expect(holds.map(e => e.data.legalHold)).toEqual([true, false]);
    });

    it('completes with an approved exception, and never lets the requester approve it', async () => {
      const { sys, engine, start, get, store, clock } = await setup(databaseId);
      sys.failures.revoke = [
        new PermanentProviderError('legacy key cannot be revoked'),
      ];
      const r = await start([
        { id: 'legacy-key', kind: 'api-key' },
        { id: 'stripe-key', kind: 'api-key' },
      ]);
      await engine.drain();
      const stuck = await get(r.id);
      expect(stuck.status).toBe('needs-attention');
      const failed = stuck.steps!.find(s => s.status === 'failed')!;
      const expiresAt = new Date(clock.now.getTime() + 30 * 86_400_000);
      await store.requestException({
        id: 'exc_00000000-0000-4000-8000-000000000001',
        retirementId: r.id,
        stepId: failed.id,
        justification: 'vendor retires the key on 2026-12-20',
        expiresAt,
        actor: 'user:default/alice',
        now: clock.now,
      });
      await expect(
        store.decideException({
          retirementId: r.id,
          stepId: failed.id,
          approve: true,
          note: '',
          actor: 'user:default/alice',
          now: clock.now,
        }),
      ).rejects.toThrow(/four-eyes/);
      const decided = await store.decideException({
        retirementId: r.id,
        stepId: failed.id,
        approve: true,
        note: 'accepted risk',
        actor: 'user:default/bob',
        now: clock.now,
      });
      expect(decided).toMatchObject({
        status: 'approved',
        decidedBy: 'user:default/bob',
      });
      await engine.drain();
      const done = await get(r.id);
      expect(done.status).toBe('completed');
      const completion = (await store.getEvidence(r.id)).find(
        e => e.kind === 'completion',
      )!;
      expect(completion.data).toMatchObject({
        verifiedBySystem: 1,
        excepted: 1,
      });
    });

    it('waits for an owner attestation of a manual anchor and records it as unverified by a system', async () => {
      const { engine, start, get, store, clock } = await setup(databaseId);
      const r = await start([
        { id: 'resource:default/vendor-token', kind: 'token', manual: true },
        { id: 'stripe-key', kind: 'api-key' },
      ]);
      await engine.drain();
      const waiting = await get(r.id);
      expect(waiting.status).toBe('running');
      const attest = waiting.steps!.find(s => s.action === 'attest')!;
      expect(attest.status).toBe('waiting');

      await store.attest({
        retirementId: r.id,
        stepId: attest.id,
        note: 'token deleted in the vendor console',
        actor: 'user:default/alice',
        now: clock.now,
      });
      await engine.drain();
      expect((await get(r.id)).status).toBe('completed');
      const evidence = await store.getEvidence(r.id);
      expect(evidence.find(e => e.kind === 'attestation')!.data).toMatchObject({
        verifiedBySystem: false,
      });
      expect(evidence.find(e => e.kind === 'completion')!.data).toMatchObject({
        verifiedBySystem: 1,
        attestedUnverifiedBySystem: 1,
      });
    });

    it('resumes after a worker dies mid-step, without a second result record', async () => {
      const { sys, store, newEngine, start, get, advance, clock } = await setup(
        databaseId,
      );
      const r = await start([{ id: 'stripe-key', kind: 'api-key' }]);
      await store.startPending(clock.now);
      // Worker A claims the first step, performs it, and dies before recording.
      const [claimed] = await store.claimSteps({
        workerId: 'worker-a',
        limit: 1,
        leaseMs: 5_000,
        now: clock.now,
      });
      expect(claimed.step.action).toBe('revoke');
      sys.credentials.get('stripe-key')!.status = 'revoked';

      // Another worker cannot take it while the lease holds.
      const b = newEngine();
      expect(await b.tick()).toBe(0);

      advance(6_000); // the lease ran out
      await b.drain();
      const done = await get(r.id);
      expect(done.status).toBe('completed');
      expect(done.steps!.find(s => s.action === 'revoke')).toMatchObject({
        status: 'succeeded',
        attempts: 2,
      });

      // The dead worker's late answer is refused.
      expect(
        await store.finishStep({
          stepId: claimed.step.id,
          workerId: 'worker-a',
          now: clock.now,
          status: 'succeeded',
        }),
      ).toBe(false);
      const evidence = await store.getEvidence(r.id);
      expect(evidence.filter(e => e.stepId === claimed.step.id)).toHaveLength(
        1,
      );
      expect(
        evidence.find(e => e.stepId === claimed.step.id)!.data,
      ).toMatchObject({ changed: false });
      expect(verifyEvidenceChain(evidence).valid).toBe(true);
    });

    it('allows one active retirement per entity, and a new one after a cancel', async () => {
      const { engine, start, get, store, clock, sys } = await setup(databaseId);
      const r = await start([{ id: 'stripe-key', kind: 'api-key' }]);
      await expect(
        start([{ id: 'stripe-key', kind: 'api-key' }]),
      ).rejects.toThrow(/already has an active retirement/);
      await store.cancel(r.id, 'user:default/alice', 'wrong entity', clock.now);
      await engine.drain();
      const cancelled = await get(r.id);
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.steps!.every(s => s.status === 'cancelled')).toBe(true);
      expect(sys.calls).toEqual([]);
      const again = await start([{ id: 'stripe-key', kind: 'api-key' }]);
      expect(again.status).toBe('pending');
    });

    it('lists retirements newest first with a cursor', async () => {
      const { start, store, advance } = await setup(databaseId);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(
          (
            await start(
              [{ id: `k${i}`, kind: 'api-key' }],
              'revoke',
              undefined,
              `component:default/svc-${i}`,
            )
          ).id,
        );
        advance(1000);
      }
      const first = await store.listRetirements({ limit: 2 });
      expect(first.items.map(r => r.id)).toEqual([ids[4], ids[3]]);
      const second = await store.listRetirements({
        limit: 2,
        cursor: first.nextCursor,
      });
      expect(second.items.map(r => r.id)).toEqual([ids[2], ids[1]]);
      const third = await store.listRetirements({
        limit: 2,
        cursor: second.nextCursor,
      });
      expect(third.items.map(r => r.id)).toEqual([ids[0]]);
      expect(third.nextCursor).toBeUndefined();
      expect(
        (
          await store.listRetirements({
            limit: 10,
            entityRef: 'component:default/svc-2',
          })
        ).items,
      ).toHaveLength(1);
    });
  },
);
