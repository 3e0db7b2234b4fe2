import { TestDatabases } from '@backstage/backend-test-utils';
import type { RetirementStep } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RetirementStore, StepCompletion } from './RetirementStore';
import { applyDatabaseMigrations } from './migrations';
import { createTestRetirement } from '../testing/retirementFixtures';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const now = new Date('2026-11-01T00:00:00Z');

/**
 * Ends of attempts that arrive together are written together (group
 * commit); each keeps its own lease check, evidence and result.
 */
describe.each(databases.eachSupportedId())('step ends on %p', databaseId => {
  async function world(retirements: number, keys: number) {
    const knex = await databases.init(databaseId);
    await applyDatabaseMigrations(knex);
    const store = new RetirementStore(knex);
    const ids: string[] = [];
    for (let r = 0; r < retirements; r++) {
      const entityRef = `component:default/ends-${r}-${Math.random()}`;
      ids.push(
        (await createTestRetirement(store, { entityRef, now, count: keys })).id,
      );
    }
    await store.startPending(now);
    const claimed = await store.claimSteps({
      workerId: 'w1',
      limit: retirements * keys,
      leaseMs: 60_000,
      now,
    });
    expect(claimed).toHaveLength(retirements * keys);
    const batches = jest.spyOn(store as any, 'finishSteps');
    const end = (
      c: (typeof claimed)[number],
      patch: Partial<StepCompletion> = {},
    ): StepCompletion => ({
      stepId: c.step.id,
      retirementId: c.retirementId,
      workerId: 'w1',
      now,
      status: 'succeeded',
      outcome: 'revoked',
      anchorPatch: { status: 'revoked' },
      evidence: [
        {
          kind: 'action',
          stepId: c.step.id,
          anchorId: c.anchor!.id,
          actor: 'provider:sys',
          summary: `revoke ${c.anchor!.displayName}`,
          data: { action: 'revoke' },
        },
      ],
      ...patch,
    });
    const stageOf = (steps: RetirementStep[], action: string) =>
      steps.find(s => s.action === action)!.stage;
    return { store, ids, claimed, batches, end, stageOf };
  }

  it('writes ends that arrive together in shared transactions, each with its own result and evidence', async () => {
    const { store, ids, claimed, batches, end, stageOf } = await world(3, 4);
    const lost = claimed.find(c => c.retirementId === ids[2])!;
    const results = await Promise.all(
      claimed.map(c =>
        store.finishStep(end(c, c === lost ? { workerId: 'w2' } : {})),
      ),
    );
    expect(results).toEqual(claimed.map(c => c !== lost));
    // Fewer transactions than ends, and at least one shared.
    const sizes = batches.mock.calls.map(
      ([batch]) => (batch as StepCompletion[]).length,
    );
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(claimed.length);
    expect(Math.max(...sizes)).toBeGreaterThan(1);

    for (const id of ids) {
      const r = (await store.getRetirement(id, { withSteps: true }))!;
      const mine = claimed.filter(c => c.retirementId === id);
      const evidence = await store.getEvidence(id);
      const actions = evidence.filter(e => e.kind === 'action');
      const endedHere = mine.filter(c => c !== lost);
      expect(actions.map(e => e.stepId).sort()).toEqual(
        endedHere.map(c => c.step.id).sort(),
      );
      expect((await store.verifyEvidence(id)).valid).toBe(true);
      const revokes = r.steps!.filter(s => s.action === 'revoke');
      // Every revoke ended: the retirement moved on to verifying. The third
      // has one step still leased to w1: its stage stays.
      const stillRunning = id === ids[2] ? [lost.step.id] : [];
      expect(r.currentStage).toBe(
        stageOf(r.steps!, stillRunning.length ? 'revoke' : 'verify'),
      );
      expect(
        revokes.filter(s => s.status === 'running').map(s => s.id),
      ).toEqual(stillRunning);
      expect(revokes.filter(s => s.status === 'succeeded')).toHaveLength(
        revokes.length - stillRunning.length,
      );
      expect(
        (await store.listAnchors(r.entityRef)).filter(
          a => a.status === 'revoked',
        ),
      ).toHaveLength(endedHere.length);
    }
  });

  it('fails only the end that cannot be written when it shared a batch', async () => {
    const { store, ids, claimed, batches, end } = await world(2, 3);
    const bad = claimed[claimed.length - 1];
    const results = await Promise.all(
      claimed.map(c =>
        store
          .finishStep(
            end(
              c,
              c === bad ? { anchorPatch: { no_such_column: 'x' } as any } : {},
            ),
          )
          .catch(() => 'failed'),
      ),
    );
    expect(results).toEqual(claimed.map(c => (c === bad ? 'failed' : true)));
    // The bad end shared a batch that failed, and was then tried alone.
    const withBad = batches.mock.calls
      .map(([batch]) => batch as StepCompletion[])
      .filter(batch => batch.some(d => d.stepId === bad.step.id));
    expect(withBad.map(b => b.length)).toEqual([expect.any(Number), 1]);
    expect(withBad[0].length).toBeGreaterThan(1);
    for (const id of ids) {
      const r = (await store.getRetirement(id, { withSteps: true }))!;
      for (const s of r.steps!.filter(st => st.action === 'revoke')) {
        expect(s.status).toBe(s.id === bad.step.id ? 'running' : 'succeeded');
      }
      const actions = (await store.getEvidence(id)).filter(
        e => e.kind === 'action',
      );
      expect(actions.map(e => e.stepId).sort()).toEqual(
        claimed
          .filter(c => c.retirementId === id && c !== bad)
          .map(c => c.step.id)
          .sort(),
      );
      expect((await store.verifyEvidence(id)).valid).toBe(true);
    }
  });
});
