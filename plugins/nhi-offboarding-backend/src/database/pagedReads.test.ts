import { TestDatabases } from '@backstage/backend-test-utils';
import type { RetirementStep } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RetirementStore } from './RetirementStore';
import { applyDatabaseMigrations } from './migrations';
import {
  createTestRetirement,
  markCompleted,
} from '../testing/retirementFixtures';
import { canonicalJson, verifyEvidenceChain } from '../evidence';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

describe.each(databases.eachSupportedId())(
  "an entity's own list of retirements on %p",
  databaseId => {
    it('reads compiled once per limit, with the answer of the general query, page by page', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const store = new RetirementStore(knex);
      const ref = 'component:default/listed';
      const other = 'component:default/listed-once';
      const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 0, minute));
      // Four of one entity (two created at the same moment: the id orders
      // them), the last one still active; one of another entity.
      const ids: string[] = [];
      for (const minute of [1, 2, 2, 3]) {
        const { id } = await createTestRetirement(store, {
          entityRef: ref,
          now: at(minute),
          count: 1,
        });
        ids.push(id);
        if (minute < 3) await markCompleted(knex, id, at(minute));
      }
      await createTestRetirement(store, {
        entityRef: other,
        now: at(4),
        count: 1,
      });
      const build = jest.spyOn(store as any, 'retirementMarksQuery');
      /** The same list through the general query: a filter that keeps all. */
      const general = (entityRef: string, limit: number, cursor?: string) =>
        store.listRetirementMarks({
          entityRef,
          limit,
          cursor,
          status: ['pending', 'running', 'completed'],
        });
      for (const limit of [1, 3, 50]) {
        const own = await store.listRetirementMarks({ entityRef: ref, limit });
        expect(own).toEqual(await general(ref, limit));
        expect(own.items).toHaveLength(Math.min(limit, 4));
        expect(own.nextCursor === undefined).toBe(limit >= 4);
      }
      // Page by page: the first page compiled, the next ones general.
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listRetirementMarks({
          entityRef: ref,
          limit: 1,
          cursor,
        });
        seen.push(...page.items.map(m => m.id));
        cursor = page.nextCursor;
      } while (cursor && seen.length < 10);
      const sameMoment = ids.slice(1, 3).sort().reverse();
      expect(seen).toEqual([ids[3], ...sameMoment, ids[0]]);
      expect(
        (await store.listRetirementMarks({ entityRef: other, limit: 1 })).items,
      ).toHaveLength(1);
      expect(
        await store.listRetirementMarks({
          entityRef: 'component:default/none',
          limit: 1,
        }),
      ).toEqual({ items: [], nextCursor: undefined });
      // Built once per limit for an entity's own list; every time otherwise.
      build.mockClear();
      await store.listRetirementMarks({ entityRef: other, limit: 3 });
      await store.listRetirementMarks({ entityRef: ref, limit: 50 });
      expect(build).not.toHaveBeenCalled();
      await general(ref, 50);
      expect(build).toHaveBeenCalledTimes(1);
    });
  },
);

describe.each(databases.eachSupportedId())(
  'paged reads of a big retirement on %p',
  databaseId => {
    it('gives its steps and evidence page by page, in the order of the whole, with filters', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const store = new RetirementStore(knex);
      const now = new Date('2026-11-01T00:00:00Z');
      const entityRef = 'component:default/big';
      const { id } = await createTestRetirement(store, {
        entityRef,
        now,
        reason: 'paging test',
      });
      // A few changes, so the chain has more than one record.
      for (let i = 0; i < 6; i++) {
        await store.setHold(id, 'user:default/alice', i % 2 === 0, 'x', now);
      }
      const whole = (await store.getRetirement(id, { withSteps: true }))!;
      expect(whole.steps!.length).toBeGreaterThan(100);

      /** A page of steps as the API sends it, and its items read back. */
      const pageOf = async (
        options: Parameters<typeof store.listStepsJson>[1],
      ) => {
        const page = await store.listStepsJson(id, options);
        return {
          ...page,
          items: JSON.parse(page.itemsJson) as RetirementStep[],
        };
      };
      const paged = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await pageOf({ limit: 50, cursor });
        expect(page.items.length).toBeLessThanOrEqual(50);
        paged.push(...page.items);
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(Math.ceil(whole.steps!.length / 50));
      expect(paged).toEqual(whole.steps);
      // A step of the page names its anchor as the whole read does.
      expect(paged[0].anchorName).toMatch(/^Key \d+$/);

      const pending = await pageOf({ limit: 500, status: ['pending'] });
      expect(pending.items).toEqual(
        whole.steps!.filter(s => s.status === 'pending'),
      );
      expect((await pageOf({ limit: 10, status: ['failed'] })).items).toEqual(
        [],
      );

      const chain = await store.getEvidence(id);
      expect(chain.length).toBeGreaterThan(3);
      const records = [];
      let afterSeq: number | undefined;
      do {
        const page = await store.getEvidencePage(id, { limit: 2, afterSeq });
        records.push(...page.items);
        afterSeq = page.nextAfterSeq;
      } while (afterSeq !== undefined);
      expect(records).toEqual(chain);
      expect(
        (await store.getEvidencePage(id, { limit: 5, afterSeq: 10_000 })).items,
      ).toEqual([]);
    });

    it('writes each step as the whole read gives it, text for text: every optional field set and unset, awkward text, no anchor, an exception', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const store = new RetirementStore(knex);
      const now = new Date('2026-11-01T00:00:00Z');
      const { id } = await createTestRetirement(store, {
        entityRef: 'component:default/step-json',
        now,
        count: 3,
        reason: 'json test',
      });
      const [first, second, third] = await knex('nhi_steps')
        .where('retirement_id', id)
        .orderBy([{ column: 'stage' }, { column: 'id' }])
        .select('id');
      await knex('nhi_steps').where('id', first.id).update({
        status: 'failed',
        attempts: 6,
        manual: true,
        after_quarantine: true,
        last_error:
          'Quote " back\\slash \n new line, tab \t, bell \u0007, é, 日本, 😀',
        outcome: 'unknown',
        not_before: '2026-11-02T00:00:00.000Z',
        started_at: '2026-11-01T00:00:01.000Z',
        finished_at: '2026-11-01T00:00:02.000Z',
        rationale: 'Why: "because" \\ <b>not markup</b>',
      });
      // A step whose anchor was gone when steps got their anchors' names
      // (migration ..._api_5_step_anchor_names.js) keeps its anchor id,
      // without a name, kind or provider.
      await knex('nhi_steps').where('id', second.id).update({
        anchor_id: 'anc_gone',
        anchor_name: null,
        anchor_kind: null,
        provider_id: null,
      });
      await store.startPending(now);
      const request = (excId: string, stepId: string, at: Date) =>
        store.requestException({
          id: excId,
          retirementId: id,
          stepId,
          justification: 'Vendor "needs" it\nuntil March',
          expiresAt: new Date('2026-12-01T00:00:00.000Z'),
          actor: 'user:default/alice',
          now: at,
        });
      const decide = (stepId: string, approve: boolean) =>
        store.decideException({
          retirementId: id,
          stepId,
          approve,
          note: approve ? 'ok "until" March' : 'no',
          actor: 'user:default/bob',
          now,
        });
      // The third step's first request is rejected and asked again: the
      // latest is the one shown. The first step's is approved.
      await request('exc_json', third.id, now);
      await decide(third.id, false);
      await request('exc_json_again', third.id, new Date(now.getTime() + 1000));
      await request('exc_first', first.id, now);
      await decide(first.id, true);
      const whole = (await store.getRetirement(id, { withSteps: true }))!;
      expect(
        whole.steps!.find(s => s.id === third.id)?.exception,
      ).toMatchObject({ id: 'exc_json_again', status: 'requested' });
      expect(
        whole.steps!.find(s => s.id === first.id)?.exception,
      ).toMatchObject({
        id: 'exc_first',
        status: 'approved',
        decidedBy: 'user:default/bob',
        decisionNote: 'ok "until" March',
      });
      expect(whole.steps!.some(s => s.anchorId && !s.anchorName)).toBe(true);
      expect(whole.steps!.some(s => !s.anchorId)).toBe(true); // the seal
      const page = await store.listStepsJson(id, { limit: 500 });
      expect(page.itemsJson).toBe(JSON.stringify(whole.steps));
    });

    it('shows a step’s anchor as planned, on a page and in the whole read, after discovery renames it', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const store = new RetirementStore(knex);
      const now = new Date('2026-11-01T00:00:00Z');
      const entityRef = 'component:default/renamed';
      const { id, anchors } = await createTestRetirement(store, {
        entityRef,
        now,
        count: 2,
      });
      await store.upsertAnchors([
        { ...anchors[0], displayName: 'Renamed key' },
      ]);
      expect(
        (await store.listAnchors(entityRef)).find(a => a.id === anchors[0].id)
          ?.displayName,
      ).toBe('Renamed key');
      const whole = (await store.getRetirement(id, { withSteps: true }))!;
      const ofFirst = whole.steps!.filter(s => s.anchorId === anchors[0].id);
      expect(ofFirst.length).toBeGreaterThan(0);
      for (const step of ofFirst) {
        expect(step).toMatchObject({
          anchorName: 'Key 0',
          anchorKind: 'api-key',
          providerId: 'sys',
        });
      }
      const page = await store.listStepsJson(id, { limit: 500 });
      expect(page.itemsJson).toBe(JSON.stringify(whole.steps));
    });

    it('verifies a chain page by page with the answer of a whole read, tampering found on any page', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const store = new RetirementStore(knex);
      const now = new Date('2026-11-01T00:00:00Z');
      const { id } = await createTestRetirement(store, {
        entityRef: 'component:default/chain',
        count: 3,
        now,
      });
      for (let i = 0; i < 9; i++) {
        await store.setHold(id, 'user:default/alice', i % 2 === 0, 'x', now);
      }
      const whole = verifyEvidenceChain(await store.getEvidence(id));
      expect(whole.valid).toBe(true);
      expect(whole.count).toBeGreaterThanOrEqual(10);
      for (const pageSize of [1, 3, 5, 10, 5000]) {
        expect(await store.verifyEvidence(id, pageSize)).toEqual(whole);
      }
      // Data is stored in canonical form; a row written in another key order
      // (before it was) still verifies, and changed data does not.
      const row6 = await knex('nhi_evidence')
        .where({ retirement_id: id, seq: 6 })
        .first('data');
      const data6 = JSON.parse(row6.data);
      expect(Object.keys(data6).length).toBeGreaterThan(1);
      expect(row6.data).toBe(canonicalJson(data6));
      const reordered = JSON.stringify(
        Object.fromEntries(Object.entries(data6).reverse()),
      );
      expect(reordered).not.toBe(row6.data);
      await knex('nhi_evidence')
        .where({ retirement_id: id, seq: 6 })
        .update({ data: reordered });
      expect(await store.verifyEvidence(id, 3)).toEqual(whole);
      await knex('nhi_evidence')
        .where({ retirement_id: id, seq: 6 })
        .update({ data: JSON.stringify({ ...data6, tampered: true }) });
      expect(await store.verifyEvidence(id, 3)).toMatchObject({
        valid: false,
        firstInvalidSeq: 6,
      });
      await knex('nhi_evidence')
        .where({ retirement_id: id, seq: 6 })
        .update({ data: row6.data });
      // Altered on the third page of three.
      await knex('nhi_evidence')
        .where({ retirement_id: id, seq: 8 })
        .update({ summary: 'nothing happened' });
      expect(await store.verifyEvidence(id, 3)).toEqual({
        valid: false,
        count: whole.count,
        firstInvalidSeq: 8,
        problem: 'record 8 was altered after it was written',
      });
      expect(await store.verifyEvidence(id, 3)).toEqual(
        verifyEvidenceChain(await store.getEvidence(id)),
      );
      // Records deleted: the first gap (right after a page boundary) is named.
      await knex('nhi_evidence').where({ retirement_id: id, seq: 8 }).delete();
      await knex('nhi_evidence').where({ retirement_id: id, seq: 4 }).delete();
      const cut = await store.verifyEvidence(id, 3);
      expect(cut).toMatchObject({
        valid: false,
        count: whole.count - 2,
        firstInvalidSeq: 4,
      });
      expect(cut.problem).toMatch(/record 4 is missing/);
    });
  },
);
