import { randomUUID } from 'crypto';
import { TestDatabases } from '@backstage/backend-test-utils';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RetirementStore } from '../database/RetirementStore';
import { applyDatabaseMigrations } from '../database/migrations';
import { nextAnchorChange } from '../database/dbUtil';
import { createTestRetirement } from '../testing/retirementFixtures';
import { StoredAnchorTexts } from './StoredAnchorTexts';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const now = new Date('2026-11-01T00:00:00Z');

/** An entity's stored anchors as text, or undefined when none is stored. */
async function textOf(
  texts: StoredAnchorTexts,
  entityRef: string,
): Promise<string | undefined> {
  return (await texts.read(entityRef))?.text();
}

describe.each(databases.eachSupportedId())(
  'StoredAnchorTexts on %p',
  databaseId => {
    it('keeps an entity’s anchors until a write of one of them stamps it', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const store = new RetirementStore(knex);
      const entityRef = `component:default/anchors-${randomUUID().slice(0, 8)}`;
      const { id, anchors } = await createTestRetirement(store, {
        entityRef,
        now,
        count: 3,
      });
      await store.startPending(now);
      const texts = new StoredAnchorTexts(store);
      const listAnchorsJson = jest.spyOn(store, 'listAnchorsJson');
      /** The text, and what the store reads now, as objects. */
      const read = async () => {
        const text = (await textOf(texts, entityRef))!;
        const truth = JSON.parse(
          JSON.stringify({
            items: await store.listAnchors(entityRef),
            problems: [],
          }),
        );
        expect(JSON.parse(text)).toEqual(truth);
        return truth.items as TrustAnchor[];
      };
      const statusOf = (items: TrustAnchor[], anchorId: string) =>
        items.find(a => a.id === anchorId)?.status;

      expect(await textOf(texts, 'component:default/nothing-stored')).toBe(
        undefined,
      );
      const first = await textOf(texts, entityRef);
      expect(await textOf(texts, entityRef)).toBe(first);
      expect(listAnchorsJson).toHaveBeenCalledTimes(1);

      // Discovery writes them again, one renamed.
      await store.upsertAnchors([
        { ...anchors[0], displayName: 'Renamed key' },
        ...anchors.slice(1),
      ]);
      expect(
        (await read()).find(a => a.id === anchors[0].id)?.displayName,
      ).toBe('Renamed key');

      // The engine's end of an attempt patches its anchor.
      const [claimed] = await store.claimSteps({
        workerId: 'w1',
        limit: 1,
        leaseMs: 60_000,
        now,
      });
      expect(
        await store.finishStep({
          stepId: claimed.step.id,
          retirementId: id,
          workerId: 'w1',
          now,
          status: 'failed',
          lastError: 'permission denied',
          anchorPatch: { status: 'unknown' },
        }),
      ).toBe(true);
      expect(statusOf(await read(), claimed.anchor!.id)).toBe('unknown');

      // An approved exception marks its anchor excepted.
      await store.requestException({
        id: `exc_${randomUUID()}`,
        retirementId: id,
        stepId: claimed.step.id,
        justification: 'the vendor keeps the key until the contract ends',
        expiresAt: new Date(now.getTime() + 86_400_000),
        actor: 'user:default/alice',
        now,
      });
      await store.decideException({
        retirementId: id,
        stepId: claimed.step.id,
        approve: true,
        note: 'accepted',
        actor: 'user:default/bob',
        now,
      });
      expect(statusOf(await read(), claimed.anchor!.id)).toBe('excepted');
      // Unchanged since: from memory.
      const calls = listAnchorsJson.mock.calls.length;
      await textOf(texts, entityRef);
      expect(listAnchorsJson).toHaveBeenCalledTimes(calls);
    });

    it('shows an owner’s attestation of a manual anchor', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const store = new RetirementStore(knex);
      const entityRef = `component:default/manual-${randomUUID().slice(0, 8)}`;
      const { id, anchors } = await createTestRetirement(store, {
        entityRef,
        now,
        count: 1,
        manual: true,
      });
      await store.startPending(now);
      const texts = new StoredAnchorTexts(store);
      const statusNow = async () =>
        JSON.parse((await textOf(texts, entityRef))!).items[0].status;
      expect(await statusNow()).toBe('active');
      // The engine leaves an attestation step waiting for its owner.
      const step = await knex('nhi_steps')
        .where({
          retirement_id: id,
          action: 'attest',
          anchor_id: anchors[0].id,
        })
        .first();
      expect(step).toBeDefined();
      await knex('nhi_steps')
        .where('id', step.id)
        .update({ status: 'waiting' });
      await store.attest({
        retirementId: id,
        stepId: step.id,
        note: 'deleted in the vendor console',
        actor: 'user:default/alice',
        now,
      });
      expect(await statusNow()).toBe('revoked');
    });
  },
);

// Only PostgreSQL runs writers side by side; SQLite's single writer commits
// stamps in the order it takes them.
describe('StoredAnchorTexts on POSTGRES_15 with writers committing out of order', () => {
  it('shows an anchor stamped before another but committed after it', async () => {
    if (!databases.eachSupportedId().some(([id]) => id === 'POSTGRES_15')) {
      throw new Error('PostgreSQL is needed for this test');
    }
    const knex = await databases.init('POSTGRES_15');
    await applyDatabaseMigrations(knex);
    const store = new RetirementStore(knex);
    const entityRef = `component:default/race-${randomUUID().slice(0, 8)}`;
    const { anchors } = await createTestRetirement(store, {
      entityRef,
      now,
      count: 2,
    });
    const texts = new StoredAnchorTexts(store);
    const statuses = async () =>
      Object.fromEntries(
        (
          JSON.parse((await textOf(texts, entityRef))!).items as TrustAnchor[]
        ).map(a => [a.id, a.status]),
      );
    const revoke = (trx: typeof knex, anchorId: string) =>
      trx('nhi_anchors')
        .where('id', anchorId)
        .update({ status: 'revoked', change_seq: nextAnchorChange(trx) });
    // Two ends of attempts on the same entity: the first to take its stamp
    // commits last.
    const a = await knex.transaction();
    await revoke(a, anchors[0].id);
    await knex.transaction(b => revoke(b, anchors[1].id));
    expect(await statuses()).toEqual({
      [anchors[0].id]: 'active',
      [anchors[1].id]: 'revoked',
    });
    await a.commit();
    expect(await statuses()).toEqual({
      [anchors[0].id]: 'revoked',
      [anchors[1].id]: 'revoked',
    });
  });
});
