import {
  mockServices,
  TestDatabases,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import type {
  Retirement,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { applyDatabaseMigrations } from '../database/migrations';
import { RetirementStore } from '../database/RetirementStore';
import { anchorId } from '../discovery/AnchorDiscovery';
import { planRetirement } from '../planning/planRetirement';
import { ProviderRegistry } from '../providers/ProviderRegistry';
import {
  FaultInjectingProvider,
  FaultRates,
} from '../testing/FaultInjectingProvider';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';
import { EngineOptions, RetirementEngine } from './RetirementEngine';

/*
 * The engine against a flaky credential system: the real store on SQLite and
 * PostgreSQL, the real engine loop on the real clock, and a credential system
 * kept in memory (a test peer: the demo provider runs the same faults in the
 * real backend, see chaos/replicas.mjs --faults) wrapped to inject 5xx-like
 * errors, 429 with Retry-After, slow answers and hangs.
 */

jest.setTimeout(120_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const CALL_TIMEOUT_MS = 150;
const RETRY_AFTER_MS = 120;
const MAX_ATTEMPTS = 4;

/** A seeded PRNG: the same faults in the same order on every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function setup(
  databaseId: TestDatabaseId,
  systems: { id: string; rates: FaultRates; seed: number }[],
  workerConcurrency = 8,
  overrides: Partial<EngineOptions> = {},
) {
  const db = await databases.init(databaseId);
  await applyDatabaseMigrations(db);
  const inner = new Map(
    systems.map(s => [s.id, new InMemoryCredentialSystem(s.id)]),
  );
  const faulty = systems.map(
    s => new FaultInjectingProvider(inner.get(s.id)!, s.rates, seeded(s.seed)),
  );
  const registry = new ProviderRegistry(faulty);
  const store = new RetirementStore(db);
  const engine = new RetirementEngine(
    store,
    registry,
    mockServices.logger.mock(),
    {
      pollIntervalMs: 10,
      leaseMs: 5_000,
      workerConcurrency,
      callTimeoutMs: CALL_TIMEOUT_MS,
      retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 10, maxDelayMs: 40 },
      ...overrides,
    },
  );

  let counter = 0;
  const externalIdOf = new Map<string, string>();
  async function start(entityName: string, systemId: string, n: number) {
    const entityRef = `component:default/${entityName}`;
    const sys = inner.get(systemId)!;
    const anchors: TrustAnchor[] = Array.from({ length: n }, (_, i) => {
      const externalId = `${entityName}-key-${i}`;
      sys.add(externalId, 'api-key', []);
      externalIdOf.set(anchorId(entityRef, systemId, externalId), externalId);
      return {
        id: anchorId(entityRef, systemId, externalId),
        entityRef,
        providerId: systemId,
        kind: 'api-key',
        externalId,
        displayName: externalId,
        fingerprint: `sha256:${externalId}`,
        scopes: [],
        sharedWith: [],
        manual: false,
        status: 'active',
        discoveredAt: new Date().toISOString(),
        discoveredBy: systemId,
      };
    });
    await store.upsertAnchors(anchors);
    const steps = planRetirement({
      anchors,
      mode: 'revoke',
      capabilitiesOf: id => registry.capabilitiesOf(id),
    });
    counter++;
    const hex = counter.toString(16).padStart(12, '0');
    return store.createRetirement({
      id: `ret_00000000-0000-4000-8000-${hex}`,
      entityRef,
      mode: 'revoke',
      reason: 'decommissioned',
      requestedBy: 'user:default/alice',
      steps: steps.map((s, i) => ({
        ...s,
        id: `stp_00000000-0000-4000-${hex.slice(-4)}-${i
          .toString(16)
          .padStart(12, '0')}`,
      })),
      anchors,
      now: new Date(),
    });
  }

  const read = (ids: string[]) =>
    Promise.all(
      ids.map(
        async id => (await store.getRetirement(id, { withSteps: true }))!,
      ),
    );

  /**
   * Runs the engine until every retirement has stopped moving, then stops
   * it (the steps in flight end) and returns their final state.
   */
  async function runUntilSettled(ids: string[]): Promise<Retirement[]> {
    engine.start();
    const deadline = Date.now() + 90_000;
    try {
      for (;;) {
        const all = await read(ids);
        if (
          all.every(r => ['completed', 'needs-attention'].includes(r.status))
        ) {
          break;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `not settled: ${all.map(r => `${r.id} ${r.status}`).join(', ')}`,
          );
        }
        await new Promise(r => setTimeout(r, 50));
      }
    } finally {
      await engine.stop();
    }
    return read(ids);
  }
  return {
    store,
    engine,
    inner,
    faulty,
    start,
    runUntilSettled,
    externalIdOf,
  };
}

describe.each(databases.eachSupportedId())(
  'RetirementEngine under provider faults on %p',
  databaseId => {
    it('at 30% faults every retirement completes verified, or needs attention with the reason', async () => {
      const rates: FaultRates = {
        errorRate: 0.1,
        rateLimitRate: 0.1,
        retryAfterMs: RETRY_AFTER_MS,
        slowRate: 0.05,
        slowMs: 10 * CALL_TIMEOUT_MS,
        hangRate: 0.05,
      };
      const { inner, faulty, start, runUntilSettled, externalIdOf } =
        await setup(databaseId, [{ id: 'sys', rates, seed: 7 }]);
      const created = [];
      for (let i = 0; i < 6; i++) {
        created.push(await start(`svc-${i}`, 'sys', 8));
      }
      const settled = await runUntilSettled(created.map(r => r.id));
      const sys = inner.get('sys')!;
      const calls = faulty[0].calls;

      // Each broken promise is collected with what broke it; none may be.
      const broken: string[] = [];
      const expectThat = (ok: boolean, what: string) => {
        if (!ok) broken.push(what);
      };
      const outcomes = { completed: 0, 'needs-attention': 0 };
      for (const r of settled) {
        const anchorSteps = r.steps!.filter(s => s.anchorId);
        if (r.status === 'completed') {
          outcomes.completed++;
          // Fail closed: completed means each anchor's last verification
          // said untrusted, and the system agrees: the key is revoked.
          for (const s of anchorSteps) {
            expectThat(s.status === 'succeeded', `${r.id} ${s.id} ${s.status}`);
            expectThat(
              s.action !== 'verify' || s.outcome === 'untrusted',
              `${r.id} ${s.id} verified ${s.outcome}`,
            );
          }
          const anchorIds = new Set(anchorSteps.map(s => s.anchorId!));
          expectThat(
            anchorIds.size === 8,
            `${r.id} has ${anchorIds.size} anchors`,
          );
          for (const id of anchorIds) {
            const status = sys.credentials.get(externalIdOf.get(id)!)?.status;
            expectThat(
              status === 'revoked',
              `${r.id} completed, ${id} ${status}`,
            );
          }
        } else {
          outcomes['needs-attention']++;
          expectThat(r.status === 'needs-attention', `${r.id} ${r.status}`);
          const failed = anchorSteps.filter(s => s.status === 'failed');
          expectThat(failed.length > 0, `${r.id} has no failed step`);
          expectThat(
            /step\(s\) failed/.test(r.statusReason ?? ''),
            `${r.id} reason ${r.statusReason}`,
          );
          for (const s of failed) {
            expectThat(
              s.attempts === MAX_ATTEMPTS,
              `${s.id} ${s.attempts} attempts`,
            );
            expectThat(
              /(Gave up after 4 attempt\(s\)|Unverified): .*(503|429|timed out after 150 ms)/.test(
                s.lastError ?? '',
              ),
              `${s.id}: ${s.lastError}`,
            );
          }
        }
      }
      expect(outcomes.completed + outcomes['needs-attention']).toBe(6);

      // Every kind of fault happened, and no call outlived the cut-off.
      const results = new Set(calls.map(c => c.result));
      for (const kind of ['error', 'rate-limit', 'aborted', 'hang', 'ok']) {
        expect(results).toContain(kind);
      }
      const longest = Math.max(
        ...calls.filter(c => c.end).map(c => c.end! - c.start),
      );
      expect(longest).toBeLessThan(CALL_TIMEOUT_MS + 1000);
      expect(calls.filter(c => c.end === undefined)).toEqual([]);

      // Retry-After: the next attempt of a step never came before it. And
      // one step is never worked on by two calls at once.
      const byStep = new Map<string, typeof calls>();
      for (const c of calls) {
        byStep.set(c.stepId, [...(byStep.get(c.stepId) ?? []), c]);
      }
      let rateLimited = 0;
      for (const own of byStep.values()) {
        own.sort((x, y) => x.start - y.start);
        for (let i = 0; i + 1 < own.length; i++) {
          const [c, next] = [own[i], own[i + 1]];
          if (c.result === 'rate-limit') rateLimited++;
          expectThat(
            c.result !== 'rate-limit' || next.start >= c.end! + RETRY_AFTER_MS,
            `${c.stepId} retried ${next.start - c.end!} ms after a 429`,
          );
          expectThat(next.start >= c.end!, `${c.stepId} two calls at once`);
        }
      }
      expect(broken).toEqual([]);
      expect(rateLimited).toBeGreaterThan(0);
    });

    it('a provider that hangs on every call does not hold the workers: other steps go on', async () => {
      const { start, runUntilSettled, faulty } = await setup(
        databaseId,
        [
          { id: 'stuck', rates: { hangRate: 1 }, seed: 1 },
          { id: 'fine', rates: {}, seed: 2 },
        ],
        // Fewer workers than hung calls: without the cut-off every worker
        // would wait forever on `stuck`.
        2,
      );
      const stuck = await start('stuck-svc', 'stuck', 3);
      const fine = await start('fine-svc', 'fine', 4);
      const [s, f] = await runUntilSettled([stuck.id, fine.id]);

      expect(f.status).toBe('completed');
      expect(s.status).toBe('needs-attention');
      // The first step that ran out of attempts stopped the retirement; the
      // others wait for a person. None is left holding a worker.
      const stuckSteps = s.steps!.filter(x => x.anchorId);
      expect(stuckSteps.filter(x => x.status === 'running')).toEqual([]);
      const hung = stuckSteps.filter(x => x.status === 'failed');
      expect(hung.length).toBeGreaterThan(0);
      for (const x of hung) {
        expect(x.attempts).toBe(MAX_ATTEMPTS);
        expect(x.lastError).toMatch(
          /Gave up after 4 attempt\(s\): \w+ on stuck timed out after 150 ms/,
        );
      }
      const stuckCalls = faulty[0].calls;
      expect(stuckCalls).toHaveLength(
        stuckSteps.reduce((sum, x) => sum + x.attempts, 0),
      );
      for (const c of stuckCalls) {
        expect(c.result).toBe('hang');
        expect(c.end! - c.start).toBeLessThan(CALL_TIMEOUT_MS + 1000);
      }
    });

    it('a worker that lost its lease stops its provider call', async () => {
      const LEASE_MS = 750; // heartbeats every 250 ms
      const { store, engine, start, faulty } = await setup(
        databaseId,
        // Every call answers only after 20 s unless aborted.
        [{ id: 'sys', rates: { slowRate: 1, slowMs: 20_000 }, seed: 3 }],
        8,
        { leaseMs: LEASE_MS, callTimeoutMs: 30_000 },
      );
      await start('lease-svc', 'sys', 1);
      engine.start();
      try {
        const calls = faulty[0].calls;
        while (calls.length === 0) await new Promise(r => setTimeout(r, 20));
        // As if this worker had stalled past its lease: another one takes
        // the step over.
        const [taken] = await store.claimSteps({
          workerId: 'other-worker',
          limit: 1,
          leaseMs: 60_000,
          now: new Date(Date.now() + 10 * LEASE_MS),
        });
        expect(taken.step.id).toBe(calls[0].stepId);
        const tookOverAt = Date.now();
        while (calls[0].end === undefined && Date.now() - tookOverAt < 5_000) {
          await new Promise(r => setTimeout(r, 20));
        }
        // Cut off at the next heartbeat, not after 20 s or 30 s.
        expect(calls[0].result).toBe('aborted');
        expect(calls[0].end! - tookOverAt).toBeLessThan(2_000);
      } finally {
        await engine.stop();
      }
    });
  },
);
