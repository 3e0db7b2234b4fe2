import { randomUUID } from 'crypto';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { RetirementStore } from '../database/RetirementStore';
import { applyDatabaseMigrations } from '../database/migrations';
import { nextStepChange } from '../database/dbUtil';
import { RetirementReads } from './RetirementReads';
import {
  createTestRetirement,
  markCompleted,
} from '../testing/retirementFixtures';
import type { RetirementStep } from '@nhi-offboarding/plugin-nhi-offboarding-common';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const now = new Date('2026-11-01T00:00:00Z');
const alice = 'user:default/alice';

/** A retirement of 60 anchors (over two pages of steps), started. */
async function world(databaseId: TestDatabaseId) {
  const knex = await databases.init(databaseId);
  await applyDatabaseMigrations(knex);
  const store = new RetirementStore(knex);
  const entityRef = `component:default/reads-${randomUUID().slice(0, 8)}`;
  const { id } = await createTestRetirement(store, {
    entityRef,
    now,
    reason: 'reads test',
  });
  await store.startPending(now);
  const reads = new RetirementReads(store);
  const listSteps = jest.spyOn(store, 'listStepsJson');
  const progressOf = jest.spyOn(store, 'progressOf');
  const evidencePage = jest.spyOn(store, 'getEvidencePage');
  /** The retirement as GET /retirements/{id} answers it. */
  const read = async () =>
    JSON.parse(await reads.retirementJson((await reads.marked(id))!, 'page'));
  /** Every step, as GET /retirements/{id}/steps?limit=500 answers. */
  const allSteps = async () =>
    JSON.parse(
      await reads.stepsPageJson((await reads.marked(id))!, { limit: 500 }),
    ).items as RetirementStep[];
  /** Worker w1's attempt at a step ends with a retry later (no evidence). */
  const retryLater = (stepId: string) =>
    store.finishStep({
      stepId,
      retirementId: id,
      workerId: 'w1',
      now,
      status: 'pending',
      lastError: 'try again later',
    });
  const stepOf = (body: { steps: RetirementStep[] }, stepId: string) =>
    body.steps.find(s => s.id === stepId);
  return {
    knex,
    store,
    reads,
    id,
    entityRef,
    listSteps,
    progressOf,
    evidencePage,
    read,
    allSteps,
    retryLater,
    stepOf,
  };
}

describe.each(databases.eachSupportedId())(
  'RetirementReads on %p',
  databaseId => {
    it('keeps a running retirement until a claim or the end of an attempt stamps a step', async () => {
      const w = await world(databaseId);
      const first = await w.read();
      expect(first.status).toBe('running');
      expect(first.steps).toHaveLength(50);
      expect(first.stepsNextCursor).toEqual(expect.any(String));
      // Nothing changed: the second read comes from memory, the same answer.
      expect(await w.read()).toEqual(first);
      expect(w.listSteps).toHaveBeenCalledTimes(1);
      expect(w.progressOf).toHaveBeenCalledTimes(1);
      // A claim appends no evidence and leaves the row as it is; it shows.
      const claimed = await w.store.claimSteps({
        workerId: 'w1',
        limit: 3,
        leaseMs: 60_000,
        now,
      });
      expect(claimed).toHaveLength(3);
      await w.read();
      const steps = await w.allSteps();
      for (const c of claimed) {
        expect(steps.find(s => s.id === c.step.id)?.status).toBe('running');
      }
      expect(w.listSteps).toHaveBeenCalledTimes(3);
      expect(w.progressOf).toHaveBeenCalledTimes(2);
      // A heartbeat changes nothing a reader sees: still from memory.
      expect(
        await w.store.heartbeat(
          claimed[0].step.id,
          'w1',
          new Date(now.getTime() + 120_000),
        ),
      ).toBe(true);
      expect(await w.allSteps()).toEqual(steps);
      expect(w.listSteps).toHaveBeenCalledTimes(3);
      // An attempt that ends with a retry later writes no evidence; it shows.
      expect(await w.retryLater(claimed[0].step.id)).toBe(true);
      const retried = (await w.allSteps()).find(
        s => s.id === claimed[0].step.id,
      );
      expect(retried).toMatchObject({
        status: 'pending',
        lastError: 'try again later',
      });
      expect(w.listSteps).toHaveBeenCalledTimes(4);
      // What memory gives is what the database gives.
      const body = await w.read();
      expect(await w.read()).toEqual(body);
      const truth = JSON.parse(
        JSON.stringify(await w.store.getRetirement(w.id, { withSteps: true })),
      );
      expect(body.progress).toEqual(truth.progress);
      expect(body.steps).toEqual(truth.steps.slice(0, 50));
    });

    it("keeps a cancelled retirement's progress and pages; a step that ends after the cancel shows", async () => {
      const w = await world(databaseId);
      const claimed = await w.store.claimSteps({
        workerId: 'w1',
        limit: 1,
        leaseMs: 60_000,
        now,
      });
      const leased = claimed[0].step.id;
      await w.store.cancel(w.id, alice, 'test', now);
      const allSteps = w.allSteps;
      // Cancelled while a worker still holds a step.
      expect((await allSteps()).find(s => s.id === leased)?.status).toBe(
        'running',
      );
      await allSteps();
      expect(w.listSteps).toHaveBeenCalledTimes(1);
      // The step ends after the cancel (no evidence of its own: a retry
      // later), and the next read shows it.
      expect(await w.retryLater(leased)).toBe(true);
      const settledSteps = await allSteps();
      expect(settledSteps.find(s => s.id === leased)?.status).toBe('pending');
      expect(w.listSteps).toHaveBeenCalledTimes(2);
      // Settled: the next reads come from memory, the same answer.
      expect(await allSteps()).toEqual(settledSteps);
      expect(w.listSteps).toHaveBeenCalledTimes(2);
      const settled = await w.read();
      expect(settled.status).toBe('cancelled');
      expect(settled.steps).toEqual(settledSteps.slice(0, 50));
      expect(await w.read()).toEqual(settled);
      expect(w.listSteps).toHaveBeenCalledTimes(3);
      expect(w.progressOf).toHaveBeenCalledTimes(1);
      const marked = (await w.reads.marked(w.id))!;
      const page2 = JSON.parse(
        await w.reads.stepsPageJson(marked, {
          limit: 50,
          cursor: settled.stepsNextCursor,
        }),
      );
      expect(page2.items).toEqual(settledSteps.slice(50, 100));
      expect(
        JSON.parse(
          await w.reads.stepsPageJson(marked, {
            limit: 50,
            cursor: settled.stepsNextCursor,
          }),
        ),
      ).toEqual(page2);
      expect(w.listSteps).toHaveBeenCalledTimes(4);
    });

    it('shows an exception requested on a step of a retirement that needs attention', async () => {
      const w = await world(databaseId);
      // Fail every step of the first stage permanently: needs attention.
      for (;;) {
        const claimed = await w.store.claimSteps({
          workerId: 'w1',
          limit: 50,
          leaseMs: 60_000,
          now,
        });
        if (claimed.length === 0) break;
        for (const c of claimed) {
          await w.store.finishStep({
            stepId: c.step.id,
            retirementId: w.id,
            workerId: 'w1',
            now,
            status: 'failed',
            lastError: 'permission denied',
          });
        }
      }
      const failed = await w.read();
      expect(failed.status).toBe('needs-attention');
      expect(await w.read()).toEqual(failed);
      const calls = w.listSteps.mock.calls.length;
      expect(calls).toBe(1);
      const step = (failed.steps as RetirementStep[]).find(
        s => s.status === 'failed',
      )!;
      await w.store.requestException({
        id: `exc_${randomUUID()}`,
        retirementId: w.id,
        stepId: step.id,
        justification: 'the vendor keeps the key until the contract ends',
        expiresAt: new Date(now.getTime() + 86_400_000),
        actor: alice,
        now,
      });
      const after = await w.read();
      expect(w.stepOf(after, step.id)?.exception?.status).toBe('requested');
      expect(w.listSteps).toHaveBeenCalledTimes(2);
    });

    it('says which pages of evidence are complete (the router keeps those), reading each now', async () => {
      const w = await world(databaseId);
      for (let i = 0; i < 4; i++) {
        await w.store.setHold(w.id, alice, i % 2 === 0, 'x', now);
      }
      const first = await w.reads.evidencePageJson(w.id, { limit: 2 });
      expect(first.complete).toBe(true);
      const full = JSON.parse(first.text);
      expect(full.items).toHaveLength(2);
      expect(full.nextAfterSeq).toBe(full.items[1].seq);
      expect(await w.reads.evidencePageJson(w.id, { limit: 2 })).toEqual(first);
      expect(w.evidencePage).toHaveBeenCalledTimes(2);
      const chain = await w.store.getEvidence(w.id);
      const lastSeq = chain[chain.length - 1].seq;
      const tailQuery = { limit: 10, afterSeq: lastSeq - 1 };
      const tail = () => w.reads.evidencePageJson(w.id, tailQuery);
      const growing = await tail();
      expect(growing.complete).toBe(false);
      expect(JSON.parse(growing.text).items).toHaveLength(1);
      await w.store.setHold(w.id, alice, true, 'y', now);
      expect(JSON.parse((await tail()).text).items).toHaveLength(2);
      expect(w.evidencePage).toHaveBeenCalledTimes(4);
      // A page's tag is its key's: one per retirement, position and size.
      const tag = w.reads.evidencePageEtag(w.id, { limit: 2 });
      expect(w.reads.evidencePageEtag(w.id, { limit: 2 })).toBe(tag);
      expect(w.reads.evidencePageEtag(w.id, { limit: 3 })).not.toBe(tag);
      expect(w.reads.evidencePageEtag(w.id, tailQuery)).not.toBe(tag);
    });

    it('lists retirements with the same answer as the store, from memory until they change', async () => {
      const w = await world(databaseId);
      const filter = { limit: 10, entityRef: w.entityRef };
      // Unchanged: the second list is from memory.
      const running = await w.reads.listJson(filter);
      expect(await w.reads.listJson(filter)).toBe(running);
      expect(w.progressOf).toHaveBeenCalledTimes(1);
      // A claim stamps a step: the entry is read again.
      await w.store.claimSteps({
        workerId: 'w1',
        limit: 1,
        leaseMs: 60_000,
        now,
      });
      await w.reads.listJson(filter);
      expect(w.progressOf).toHaveBeenCalledTimes(2);
      await w.store.cancel(w.id, alice, 'test', now);
      const expected = await w.store.listRetirements(filter);
      const calls = w.progressOf.mock.calls.length;
      expect(JSON.parse(await w.reads.listJson(filter))).toEqual(
        JSON.parse(JSON.stringify(expected)),
      );
      expect(JSON.parse(await w.reads.listJson(filter))).toEqual(
        JSON.parse(JSON.stringify(expected)),
      );
      // The first list read the progress, the second did not.
      expect(w.progressOf.mock.calls.length).toBe(calls + 1);
      expect(await w.reads.entityRefOf(w.id)).toBe(w.entityRef);
      expect(await w.reads.entityRefOf('ret_none')).toBeUndefined();
    });

    it('shows a clean re-verification that wrote no evidence (only the row changed)', async () => {
      const w = await world(databaseId);
      await markCompleted(w.knex, w.id, now);
      const anchor = (await w.store.listAnchors(w.entityRef))[0];
      const check = (at: Date) =>
        w.store.recordReverification(
          w.id,
          {
            results: [
              {
                anchorId: anchor.id,
                providerId: anchor.providerId,
                externalId: anchor.externalId,
                outcome: 'untrusted',
                detail: 'key not found',
                observed: {},
              },
            ],
            recordEveryMs: 86_400_000,
            newStepId: () => `stp_${randomUUID()}`,
          },
          at,
        );
      const filter = { limit: 10, entityRef: w.entityRef };
      expect(await check(now)).toBe('clean');
      const first = JSON.parse(await w.reads.listJson(filter)).items[0];
      expect(first.lastReverifiedAt).toBe(now.toISOString());
      const head = (await w.store.getEvidence(w.id)).length;
      // An hour later: clean again, recorded on the row only (not due in
      // the evidence), and the list shows it.
      const later = new Date(now.getTime() + 3_600_000);
      expect(await check(later)).toBe('clean');
      expect((await w.store.getEvidence(w.id)).length).toBe(head);
      const second = JSON.parse(await w.reads.listJson(filter)).items[0];
      expect(second.lastReverifiedAt).toBe(later.toISOString());
      const single = JSON.parse(
        await w.reads.retirementJson((await w.reads.marked(w.id))!, 'none'),
      );
      expect(single.lastReverifiedAt).toBe(later.toISOString());
    });
  },
);

// Only PostgreSQL runs writers side by side; SQLite's single writer commits
// stamps in the order it takes them.
describe('RetirementReads on POSTGRES_15 with writers committing out of order', () => {
  it('shows a step stamped before another but committed after it', async () => {
    const databaseId: TestDatabaseId = 'POSTGRES_15';
    if (!databases.eachSupportedId().some(([id]) => id === databaseId)) {
      throw new Error('PostgreSQL is needed for this test');
    }
    const w = await world(databaseId);
    const [first, second] = (await w.allSteps()).filter(
      s => s.status === 'pending',
    );
    const stamp = (trx: typeof w.knex, stepId: string, status: string) =>
      trx('nhi_steps')
        .where('id', stepId)
        .update({ status, change_seq: nextStepChange(trx) });
    // A takes the smaller stamp and commits last (a claim racing the end of
    // another attempt, say).
    const a = await w.knex.transaction();
    await stamp(a, first.id, 'running');
    await w.knex.transaction(b => stamp(b, second.id, 'running'));
    const before = await w.allSteps();
    expect(before.find(s => s.id === first.id)?.status).toBe('pending');
    expect(before.find(s => s.id === second.id)?.status).toBe('running');
    await a.commit();
    const after = await w.allSteps();
    expect(after.find(s => s.id === first.id)?.status).toBe('running');
    expect((await w.read()).progress).toEqual(
      (await w.store.getRetirement(w.id, { withSteps: false }))!.progress,
    );
  });
});
