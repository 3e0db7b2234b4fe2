import type {
  Retirement,
  StepStatus,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type {
  RetirementFilter,
  RetirementStore,
} from '../database/RetirementStore';
import {
  MarkedRetirement,
  RetirementMarks,
  RetirementRow,
  retirementFromRow,
} from '../database/tables';
import { LruCache } from './LruCache';
import { etagOfKey } from './entityTags';
import type { StepPageJson } from '../database/pagedReads';
import { STEP_PAGE } from './pagingValidation';

type StepsQuery = { limit: number; cursor?: string; status?: StepStatus[] };
type EvidenceQuery = { limit: number; afterSeq?: number };

/**
 * The Retire tab's reads (a retirement with its progress and first page of
 * steps, further pages of steps, pages of evidence, the retirement list) as
 * JSON text, with what has not changed since it was last read kept in memory.
 *
 * What is kept, and why it cannot be stale:
 * - the entity of a retirement: it never changes;
 * - the progress, step pages and list entry of a retirement, under a key
 *   made of its row's `updated_at` and `last_reverified_at` (the one column
 *   a clean re-check changes alone), its newest evidence sequence number
 *   (appended under the row's lock) and its steps' change mark (from their
 *   stamps, dbUtil.ts stampsMark), read with the row in
 *   one statement on every request. Claims and attempt ends stamp the step;
 *   every other change to a retirement's steps (retry, exception, attest,
 *   re-verification, release, cancel) appends evidence in the same
 *   transaction, so the key changes with all of them, in whatever order
 *   side-by-side writers commit; the numbers only grow, so an old key does
 *   not come back. This holds across replicas: the key comes from the
 *   database, not from this process.
 * A complete page of evidence never changes (evidence is append-only): the
 * router keeps its body under its tag (TaggedBodies), not this class.
 */
export class RetirementReads {
  private readonly entityRefs = new LruCache<string>(50_000);
  private readonly progress = new LruCache<Retirement['progress']>(50_000);
  /** A retirement as the list sends it (JSON text). */
  private readonly retirementTexts: LruCache<string>;
  private readonly stepPages: LruCache<StepPageJson>;

  constructor(
    private readonly store: RetirementStore,
    /** Characters of JSON text kept for pages of steps. */
    options: { maxCachedChars?: number } = {},
  ) {
    // A character is 1-2 bytes in memory.
    this.stepPages = new LruCache<StepPageJson>(
      options.maxCachedChars ?? 32 * 1024 * 1024,
      page => page.itemsJson.length,
    );
    this.retirementTexts = new LruCache<string>(
      8 * 1024 * 1024,
      text => text.length,
    );
  }

  /** The entity a retirement is about, or undefined when there is none. */
  async entityRefOf(id: string): Promise<string | undefined> {
    const cached = this.entityRefs.get(id);
    if (cached) return cached;
    const entityRef = await this.store.entityRefOfRetirement(id);
    if (entityRef) this.entityRefs.set(id, entityRef);
    return entityRef;
  }

  /** The row and its change marks; read on every request (it is the key). */
  async marked(id: string): Promise<MarkedRetirement | undefined> {
    const marked = await this.store.getRetirementMarked(id);
    if (marked) this.entityRefs.set(id, marked.row.entity_ref);
    return marked;
  }

  /**
   * Entity tags of the two reads below: the key their text is kept under,
   * so a client polling an unchanged retirement gets a 304 and the server
   * neither builds nor hashes the 20-25 KiB it would send.
   */
  retirementEtag(marked: MarkedRetirement, steps: 'none' | 'page'): string {
    return etagOfKey(`retirement|${steps}|${versionOf(marked.marks)}`);
  }

  stepsEtag(marked: MarkedRetirement, query: StepsQuery): string {
    return etagOfKey(`steps|${stepsKey(marked, query)}`);
  }

  /** `GET /retirements/{id}` with `steps=none|page`. */
  async retirementJson(
    marked: MarkedRetirement,
    steps: 'none' | 'page',
  ): Promise<string> {
    if (steps === 'none') {
      return JSON.stringify(
        retirementFromRow(marked.row, await this.progressOf(marked)),
      );
    }
    // Side by side: on a first read each is a round trip to the database.
    const [progress, page] = await Promise.all([
      this.progressOf(marked),
      this.stepsPage(marked, { limit: STEP_PAGE }),
    ]);
    const retirement: Retirement = retirementFromRow(marked.row, progress);
    // The steps' text is spliced in as it is kept.
    const head = JSON.stringify({
      ...retirement,
      stepsNextCursor: page.nextCursor,
    });
    return `${head.slice(0, -1)},"steps":${page.itemsJson}}`;
  }

  /** `GET /retirements/{id}/steps`: `{ items, nextCursor }`. */
  async stepsPageJson(
    marked: MarkedRetirement,
    query: StepsQuery,
  ): Promise<string> {
    const page = await this.stepsPage(marked, query);
    const cursor =
      page.nextCursor === undefined
        ? ''
        : `,"nextCursor":${JSON.stringify(page.nextCursor)}`;
    return `{"items":${page.itemsJson}${cursor}}`;
  }

  /** A page of steps with its items as JSON text, from memory while the key holds. */
  private async stepsPage(
    marked: MarkedRetirement,
    query: StepsQuery,
  ): Promise<StepPageJson> {
    const key = stepsKey(marked, query);
    const cached = this.stepPages.get(key);
    if (cached) return cached;
    const page = await this.store.listStepsJson(marked.row.id, query);
    this.stepPages.set(key, page);
    return page;
  }

  /**
   * The entity tag of a complete page of evidence (one with a next page):
   * evidence is append-only, so such a page never changes. Only complete
   * pages carry it (evidencePageJson says which), and only they may be kept.
   */
  evidencePageEtag(id: string, query: EvidenceQuery): string {
    return etagOfKey(`evidence|${evidenceKey(id, query)}`);
  }

  /**
   * `GET /retirements/{id}/evidence` (JSON pages): `{ items, nextAfterSeq }`,
   * and whether the page is complete.
   */
  async evidencePageJson(
    id: string,
    query: EvidenceQuery,
  ): Promise<{ text: string; complete: boolean }> {
    const page = await this.store.getEvidencePage(id, query);
    // Only a page with a next page is complete: records are never changed
    // or removed, but the last page still grows.
    return {
      text: JSON.stringify(page),
      complete: page.nextAfterSeq !== undefined,
    };
  }

  /** `GET /retirements`: `{ items, nextCursor }`. */
  async listJson(filter: RetirementFilter): Promise<string> {
    // Marks first (narrow); then whole rows and progress only for the
    // retirements whose text is not kept.
    const { items, nextCursor } = await this.store.listRetirementMarks(filter);
    const texts = new Map<string, string>();
    const misses: RetirementMarks[] = [];
    for (const m of items) {
      const hit = this.retirementTexts.get(versionOf(m));
      if (hit) texts.set(m.id, hit);
      else misses.push(m);
    }
    if (misses.length) {
      const ids = misses.map(m => m.id);
      const [rows, progress] = await Promise.all([
        this.store.getRetirementRows(ids),
        this.store.progressOf(ids),
      ]);
      for (const m of misses) {
        const row = rows.get(m.id);
        if (!row) continue; // deleted between the two reads
        this.entityRefs.set(m.id, row.entity_ref);
        const text = JSON.stringify(
          retirementFromRow(row, progress.get(m.id)!),
        );
        texts.set(m.id, text);
        // Kept only when the row read now is the one the marks describe.
        if (sameRow(m, row)) this.retirementTexts.set(versionOf(m), text);
      }
    }
    const list = items
      .map(m => texts.get(m.id))
      .filter((t): t is string => t !== undefined)
      .join(',');
    const cursor =
      nextCursor === undefined
        ? ''
        : `,"nextCursor":${JSON.stringify(nextCursor)}`;
    return `{"items":[${list}]${cursor}}`;
  }

  /** Progress counts, from memory while the key holds. */
  private async progressOf(
    m: MarkedRetirement,
  ): Promise<Retirement['progress']> {
    const version = versionOf(m.marks);
    const hit = this.progress.get(version);
    if (hit) return hit;
    const p = (await this.store.progressOf([m.row.id])).get(m.row.id)!;
    this.progress.set(version, p);
    return p;
  }
}

/** The key of a page of steps: the retirement's version and the query. */
function stepsKey(marked: MarkedRetirement, query: StepsQuery): string {
  return `${versionOf(marked.marks)}|${query.limit}|${query.cursor ?? ''}|${(
    query.status ?? []
  ).join(',')}`;
}

/** The key of a page of evidence. */
function evidenceKey(id: string, query: EvidenceQuery): string {
  return `${id}|${query.afterSeq ?? ''}|${query.limit}`;
}

/** Whether a row read after its marks is still the row they describe. */
function sameRow(m: RetirementMarks, row: RetirementRow): boolean {
  return (
    row.updated_at === m.updatedAt &&
    (row.last_reverified_at ?? null) === m.lastReverifiedAt
  );
}

/** The cache key of a retirement's text, progress and pages of steps. */
function versionOf(m: RetirementMarks): string {
  return `${m.id}|${m.updatedAt}|${m.lastReverifiedAt ?? ''}|${
    m.evidenceHead
  }|${m.stepChange}`;
}
