import type { Knex } from 'knex';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import type {
  AnchorStatus,
  EvidencePage,
  EvidenceRecord,
  EvidenceVerification,
  PlannedStep,
  Retirement,
  RetirementMode,
  RetirementOrigin,
  RetirementStatus,
  RetirementStep,
  StepException,
  StepStatus,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  EvidenceFacts,
  GENESIS_HASH,
  verifyEvidenceChainFrom,
} from '../evidence';
import { STAGE, FINAL_STAGE } from '../planning/stages';
import {
  CompletionCheck,
  decideTransition,
  StepSummary,
  evaluateCompletion,
  StepState,
} from '../engine/transitions';
import { EvidenceHead, appendEvidence, readEvidence } from './evidenceLog';
import { GroupCommit } from './GroupCommit';
import { readEvidencePage, readStepPageJson, StepPageJson } from './pagedReads';
import {
  applyReverification,
  Reverification,
  ReverificationVerdict,
} from '../drift/reverificationChange';
import {
  applyOwnershipReassignment,
  OwnershipReassignment,
} from '../governance/ownershipChange';
import {
  forUpdate,
  newAnchorChange,
  nextAnchorChange,
  nextStepChange,
  compiledRead,
  preparedRead,
  stampsMark,
  inTransaction,
  isPostgres,
  isUniqueViolation,
  rowsOf,
} from './dbUtil';
import {
  AnchorRow,
  EvidenceRow,
  ExceptionRow,
  RetirementRow,
  StepRow,
  anchorFromRow,
  anchorJsonRead,
  anchorToRow,
  storedEvidenceFromRow,
  exceptionFromRow,
  retirementFromRow,
  stepFromRow,
  MarkColumns,
  MarkedRetirement,
  RetirementMarks,
  markedFromRow,
  marksFromRow,
} from './tables';

/** A step claimed by a worker, with the anchor it acts on. */
export interface ClaimedStep {
  step: RetirementStep;
  anchor?: TrustAnchor;
  retirementId: string;
  firstAttemptAt: string;
}

/** How a worker ends its attempt at a step. */
export interface StepCompletion {
  stepId: string;
  /** The step's retirement when the caller knows it (saves a read). */
  retirementId?: string;
  workerId: string;
  now: Date;
  status: Extract<StepStatus, 'succeeded' | 'failed' | 'pending'>;
  outcome?: string;
  lastError?: string | null;
  /** For a step put back to pending: when to try again. */
  notBefore?: Date;
  anchorPatch?: Partial<
    Pick<
      AnchorRow,
      'status' | 'last_verified_at' | 'last_verified_by' | 'last_verification'
    >
  >;
  evidence?: Omit<EvidenceFacts, 'retirementId' | 'at'>[];
}

export interface NewRetirement {
  id: string;
  entityRef: string;
  owner?: string;
  mode: RetirementMode;
  reason: string;
  requestedBy: string;
  quarantineDays?: number;
  quarantineUntil?: Date;
  steps: (PlannedStep & { id: string })[];
  anchors: TrustAnchor[];
  now: Date;
  /** The trigger that started it, when no person did. */
  origin?: RetirementOrigin;
}

export interface RetirementFilter {
  entityRef?: string;
  owner?: string;
  /** Entity kind, e.g. component. */
  kind?: string;
  status?: RetirementStatus[];
  limit: number;
  cursor?: string;
}

/** A row of listRetirementMarks' query. */
type ListMarksRow = Parameters<typeof marksFromRow>[0] & { created_at: string };

const iso = (d: Date) => d.toISOString();
const ACTIVE: RetirementStatus[] = [
  'pending',
  'running',
  'quarantined',
  'needs-attention',
];

/**
 * The knex store of retirements, steps, exceptions and evidence. Every
 * change of state is written in one transaction together with the evidence
 * that proves it, under a lock on the retirement row (PostgreSQL) or
 * SQLite's single writer, so evidence and state can never disagree.
 */
export class RetirementStore {
  /** The reads made on every request, compiled once (dbUtil compiledRead). */
  private readonly markedRead: (
    id: string,
  ) => Promise<(RetirementRow & MarkColumns)[]>;
  private readonly anchorsMarkRead: (
    entityRef: string,
  ) => Promise<{ mark: string | null }[]>;
  /** An entity's list by limit (readRetirementMarks). */
  private readonly entityMarksReads = new Map<
    number,
    (entityRef: string) => Promise<ListMarksRow[]>
  >();

  constructor(
    private readonly db: Knex,
    private readonly onEvidence: (records: EvidenceRecord[]) => void = () => {},
  ) {
    this.markedRead = compiledRead(db, (id: string) =>
      this.withMarks(db('nhi_retirements as r').select('r.*')).where(
        'r.id',
        id,
      ),
    );
    this.anchorsMarkRead = compiledRead(db, (entityRef: string) =>
      db('nhi_anchors')
        .where('entity_ref', entityRef)
        .select(db.raw(`${stampsMark(db)} as mark`)),
    );
  }

  // ---- anchors -----------------------------------------------------------

  async upsertAnchors(anchors: TrustAnchor[]): Promise<void> {
    // Multi-row upserts of 200 (an anchor row binds ~21 values); an id seen
    // twice in one statement would be an error on PostgreSQL, the last wins.
    // Each row written is stamped (see anchorsMark).
    const rows = [
      ...new Map(
        anchors.map(a => [
          a.id,
          {
            ...anchorToRow(a),
            change_seq: newAnchorChange(this.db, a.entityRef),
          },
        ]),
      ).values(),
    ];
    for (let i = 0; i < rows.length; i += 200) {
      await this.db('nhi_anchors')
        .insert(rows.slice(i, i + 200))
        .onConflict('id')
        .merge([
          'change_seq',
          'kind',
          'display_name',
          'fingerprint',
          'scopes',
          'owner',
          'shared_with',
          'manual',
          'source_created_at',
          'last_used_at',
          'expires_at',
          'status',
          'discovered_at',
          'discovered_by',
        ]);
    }
  }

  async listAnchors(entityRef: string): Promise<TrustAnchor[]> {
    const rows = await this.db<AnchorRow>('nhi_anchors')
      .where('entity_ref', entityRef)
      .orderBy(['provider_id', 'external_id']);
    return rows.map(anchorFromRow);
  }

  /**
   * The change mark of an entity's anchors (dbUtil.ts stampsMark), or
   * undefined when none is stored. It changes with every change to them.
   */
  async anchorsMark(entityRef: string): Promise<string | undefined> {
    const [row] = await this.anchorsMarkRead(entityRef);
    return !row?.mark || row.mark.startsWith('0:') ? undefined : row.mark;
  }

  /**
   * listAnchors as API JSON texts (anchorJsonRead): for reads that send
   * anchors as they are.
   */
  async listAnchorsJson(entityRef: string): Promise<string[]> {
    const read = anchorJsonRead(this.db, 'a');
    const rows = await preparedRead(
      this.db,
      this.db('nhi_anchors as a')
        .where('a.entity_ref', entityRef)
        .orderBy(['a.provider_id', 'a.external_id'])
        .select(read.columns),
    );
    return rows.map(read.json);
  }

  /** Anchors by id with their status and API JSON text (see listAnchorsJson). */
  async getAnchorsJson(
    ids: string[],
  ): Promise<{ id: string; status: AnchorStatus; json: string }[]> {
    if (ids.length === 0) return [];
    const read = anchorJsonRead(this.db, 'a');
    const rows = await this.db('nhi_anchors as a')
      .whereIn('a.id', ids)
      .select('a.id', 'a.status', ...read.columns);
    return rows.map(row => ({
      id: row.id,
      status: row.status,
      json: read.json(row),
    }));
  }

  async getAnchors(ids: string[]): Promise<TrustAnchor[]> {
    if (ids.length === 0) return [];
    const rows = await this.db<AnchorRow>('nhi_anchors').whereIn('id', ids);
    return rows.map(anchorFromRow);
  }

  /** Anchors that some system may still trust, page by page. */
  async listLiveAnchors(options: {
    limit: number;
    afterId?: string;
  }): Promise<TrustAnchor[]> {
    return (await this.liveAnchors(options)).map(anchorFromRow);
  }

  /**
   * The same page as listLiveAnchors, only each anchor's id, entity and
   * owner: read from the index alone, for scans that keep few of them.
   */
  async listLiveAnchorRefs(options: {
    limit: number;
    afterId?: string;
  }): Promise<{ id: string; entityRef: string; owner?: string }[]> {
    const rows = await this.liveAnchors(options).select(
      'id',
      'entity_ref',
      'owner',
    );
    return rows.map(r => ({
      id: r.id,
      entityRef: r.entity_ref,
      ...(r.owner ? { owner: r.owner } : {}),
    }));
  }

  private liveAnchors(options: { limit: number; afterId?: string }) {
    // The partial index of live anchors (migration ..._api_2) gives the
    // page in id order without sorting every live anchor: its condition is
    // written as literals so the planners can match it, and SQLite is told
    // to use it (it would pick the status index and sort: 190 ms vs 1 ms
    // per page at 1M anchors).
    const query = this.db<AnchorRow>(
      isPostgres(this.db)
        ? 'nhi_anchors'
        : (this.db.raw('?? indexed by ??', [
            'nhi_anchors',
            'nhi_anchors_live_refs_idx',
          ]) as any),
    )
      .whereRaw(`status in ('active', 'unknown')`)
      .orderBy('id')
      .limit(options.limit);
    if (options.afterId) query.where('id', '>', options.afterId);
    return query;
  }

  // ---- retirements -------------------------------------------------------

  async createRetirement(input: NewRetirement): Promise<Retirement> {
    const now = iso(input.now);
    let written: EvidenceRecord[] = [];
    try {
      await inTransaction(this.db, async trx => {
        await trx('nhi_retirements').insert({
          id: input.id,
          entity_ref: input.entityRef,
          entity_owner: input.owner ?? null,
          active_entity_ref: input.entityRef,
          mode: input.mode,
          reason: input.reason,
          status: 'pending',
          requested_by: input.requestedBy,
          legal_hold: false,
          quarantine_days: input.quarantineDays ?? null,
          quarantine_until: input.quarantineUntil
            ? iso(input.quarantineUntil)
            : null,
          released: false,
          restoring: false,
          current_stage: 0,
          created_at: now,
          updated_at: now,
          status_reason: null,
          hold_reason: null,
          completed_at: null,
          origin: input.origin ? JSON.stringify(input.origin) : null,
        } satisfies RetirementRow);
        const rows: StepRow[] = input.steps.map(s => ({
          id: s.id,
          retirement_id: input.id,
          anchor_id: s.anchorId ?? null,
          anchor_name: s.anchorName ?? null,
          anchor_kind: s.anchorKind ?? null,
          provider_id: s.providerId ?? null,
          stage: s.stage,
          phase: s.phase,
          action: s.action,
          manual: s.manual,
          after_quarantine: s.afterQuarantine,
          rationale: s.rationale,
          status: s.action === 'attest' ? 'waiting' : 'pending',
          attempts: 0,
          last_error: null,
          outcome: null,
          not_before: null,
          lease_owner: null,
          lease_expires_at: null,
          first_attempt_at: null,
          started_at: null,
          finished_at: null,
        }));
        for (let i = 0; i < rows.length; i += 200) {
          await trx('nhi_steps').insert(rows.slice(i, i + 200));
        }
        written = await this.append(trx, [
          {
            retirementId: input.id,
            kind: 'planned',
            actor: input.requestedBy,
            at: now,
            summary: `Retirement of ${input.entityRef} planned (${input.mode}): ${input.anchors.length} trust anchor(s), ${input.steps.length} step(s)`,
            data: {
              entityRef: input.entityRef,
              mode: input.mode,
              reason: input.reason,
              ...(input.origin ? { origin: { ...input.origin } } : {}),
              quarantineUntil: input.quarantineUntil
                ? iso(input.quarantineUntil)
                : null,
              anchors: input.anchors.map(a => ({
                id: a.id,
                providerId: a.providerId,
                kind: a.kind,
                externalId: a.externalId,
                fingerprint: a.fingerprint ?? null,
                sharedWith: a.sharedWith,
                status: a.status,
              })),
              steps: input.steps.map(s => ({
                id: s.id,
                stage: s.stage,
                phase: s.phase,
                action: s.action,
                anchorId: s.anchorId ?? null,
              })),
            },
          },
        ]);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'nhi_retirements', 'active_entity_ref')) {
        throw new ConflictError(
          `${input.entityRef} already has an active retirement: finish or cancel it first`,
        );
      }
      throw error;
    }
    // The planned record reaches the auditor, signals and notifications too.
    if (written.length) this.onEvidence(written);
    return (await this.getRetirement(input.id, { withSteps: true }))!;
  }

  /** 409 when the entity already has an active retirement. */
  async assertNoActiveRetirement(entityRef: string): Promise<void> {
    const active = await this.db<RetirementRow>('nhi_retirements')
      .where('active_entity_ref', entityRef)
      .first('id');
    if (active) {
      throw new ConflictError(
        `${entityRef} already has an active retirement (${active.id}): finish or cancel it first`,
      );
    }
  }

  /** The entity a retirement is about, or undefined when there is no such retirement. */
  async entityRefOfRetirement(id: string): Promise<string | undefined> {
    const row = await this.db<RetirementRow>('nhi_retirements')
      .where('id', id)
      .first('entity_ref');
    return row?.entity_ref;
  }

  async getRetirement(
    id: string,
    options: { withSteps: boolean },
  ): Promise<Retirement | undefined> {
    const row = await this.db<RetirementRow>('nhi_retirements')
      .where('id', id)
      .first();
    if (!row) return undefined;
    const progress = await this.progressOf([id]);
    const retirement = retirementFromRow(row, progress.get(id)!);
    if (options.withSteps) {
      retirement.steps = await this.stepsOf(id);
    }
    return retirement;
  }

  /**
   * A retirement's row with its change marks: the newest evidence sequence
   * number and its steps' change mark (see RetirementReads). One statement,
   * two ranges of indexes besides the row.
   */
  async getRetirementMarked(id: string): Promise<MarkedRetirement | undefined> {
    const [row] = await this.markedRead(id);
    return row ? markedFromRow(row) : undefined;
  }

  /** Newest first; the cursor is opaque to clients. */
  async listRetirements(
    filter: RetirementFilter,
  ): Promise<{ items: Retirement[]; nextCursor?: string }> {
    const { items, nextCursor } = await this.listRetirementMarks(filter);
    const ids = items.map(m => m.id);
    const [rows, progress] = await Promise.all([
      this.getRetirementRows(ids),
      this.progressOf(ids),
    ]);
    return {
      items: ids.map(id => retirementFromRow(rows.get(id)!, progress.get(id)!)),
      nextCursor,
    };
  }

  /**
   * A page of retirements (newest first) as their marks only: the narrow
   * read that tells which rows a reader must read whole.
   */
  async listRetirementMarks(
    filter: RetirementFilter,
  ): Promise<{ items: RetirementMarks[]; nextCursor?: string }> {
    const rows = await this.readRetirementMarks(filter);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(marksFromRow),
      nextCursor:
        rows.length > filter.limit
          ? encodeCursor(last.created_at, last.id)
          : undefined,
    };
  }

  /**
   * The rows of a page of listRetirementMarks. An entity's own list with no
   * other filter (its Retire tab's, read on every request) runs compiled
   * once per limit (compiledRead); any other filter is built each time.
   */
  private readRetirementMarks(filter: RetirementFilter) {
    const { entityRef, limit, ...others } = filter;
    // Any filter beyond the entity (one added later too) takes the general way.
    const onlyEntity = Object.values(others).every(
      v => v === undefined || (Array.isArray(v) && v.length === 0),
    );
    if (entityRef && onlyEntity) {
      let read = this.entityMarksReads.get(limit);
      if (!read) {
        read = compiledRead(this.db, (ref: string) =>
          this.retirementMarksQuery({ entityRef: ref, limit }),
        );
        this.entityMarksReads.set(limit, read);
      }
      return read(entityRef);
    }
    return preparedRead<ListMarksRow>(
      this.db,
      this.retirementMarksQuery(filter),
    );
  }

  /** The query of a page of listRetirementMarks (one row more than the limit: is there a next page). */
  private retirementMarksQuery(filter: RetirementFilter): Knex.QueryBuilder {
    const query = this.withMarks(
      this.db('nhi_retirements as r').select(
        'r.id',
        'r.status',
        'r.updated_at',
        'r.last_reverified_at',
        'r.created_at',
      ),
    )
      .orderBy([
        { column: 'r.created_at', order: 'desc' },
        { column: 'r.id', order: 'desc' },
      ])
      .limit(filter.limit + 1);
    if (filter.entityRef) query.where('r.entity_ref', filter.entityRef);
    if (filter.owner) query.where('r.entity_owner', filter.owner);
    if (filter.kind) {
      query.where(
        'r.entity_ref',
        'like',
        `${filter.kind.toLocaleLowerCase('en-US')}:%`,
      );
    }
    if (filter.status?.length) query.whereIn('r.status', filter.status);
    if (filter.cursor) {
      const { createdAt, id } = decodeCursor(filter.cursor);
      query.where(q =>
        q
          .where('r.created_at', '<', createdAt)
          .orWhere(q2 =>
            q2.where('r.created_at', createdAt).andWhere('r.id', '<', id),
          ),
      );
    }
    return query;
  }

  /** Whole retirement rows by id. */
  async getRetirementRows(ids: string[]): Promise<Map<string, RetirementRow>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db<RetirementRow>('nhi_retirements').whereIn(
      'id',
      ids,
    );
    return new Map(rows.map(r => [r.id, r]));
  }

  /** Adds a retirement's marks (see RetirementMarks) to a query of `r`. */
  private withMarks(query: Knex.QueryBuilder) {
    return query.select(
      this.db.raw(
        '(select max(e.seq) from nhi_evidence e where e.retirement_id = r.id) as mark_evidence_head',
      ),
      this.db.raw(
        `(select ${stampsMark(
          this.db,
        )} from nhi_steps s where s.retirement_id = r.id) as mark_step_change`,
      ),
    );
  }

  async listExceptions(
    status?: StepException['status'],
  ): Promise<(StepException & { entityRef: string })[]> {
    const query = this.db('nhi_exceptions as e')
      .join('nhi_retirements as r', 'r.id', 'e.retirement_id')
      .select('e.*', 'r.entity_ref')
      .orderBy('e.expires_at', 'asc')
      .limit(1000);
    if (status) query.where('e.status', status);
    const rows: (ExceptionRow & { entity_ref: string })[] = await query;
    return rows.map(r => ({ ...exceptionFromRow(r), entityRef: r.entity_ref }));
  }

  /** Figures for the platform page's charts. */
  async stats(now: Date): Promise<{
    retirements: { byStatus: Record<string, number> };
    completedPerDay: { day: string; count: number }[];
    timeToVerifiedMs: number[];
  }> {
    const byStatus: Record<string, number> = {};
    const counts: { status: string; n: number | string }[] = await this.db(
      'nhi_retirements',
    )
      .select('status')
      .count({ n: '*' })
      .groupBy('status');
    for (const row of counts) {
      byStatus[row.status] = Number(row.n);
    }
    const since = iso(new Date(now.getTime() - 90 * 24 * 3600 * 1000));
    const completed = await this.db<RetirementRow>('nhi_retirements')
      .where('status', 'completed')
      .where('completed_at', '>=', since)
      .select('created_at', 'completed_at')
      .orderBy('completed_at', 'desc')
      .limit(5000);
    const perDay = new Map<string, number>();
    for (const r of completed) {
      const day = r.completed_at!.slice(0, 10);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    return {
      retirements: { byStatus },
      completedPerDay: [...perDay.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([day, count]) => ({ day, count })),
      timeToVerifiedMs: completed.map(
        r =>
          new Date(r.completed_at!).getTime() -
          new Date(r.created_at).getTime(),
      ),
    };
  }

  async getEvidence(retirementId: string): Promise<EvidenceRecord[]> {
    return readEvidence(this.db, retirementId);
  }

  /**
   * Verifies a retirement's whole chain as stored, page by page, so a long
   * chain is never held in memory at once (1M records: a 1.3 GB heap and
   * half the speed when read whole, bench/README.md benchmark 3).
   */
  async verifyEvidence(
    retirementId: string,
    pageSize = 5000,
  ): Promise<EvidenceVerification> {
    const stats = await this.db('nhi_evidence')
      .where('retirement_id', retirementId)
      .max({ head: 'seq' })
      .count({ n: '*' })
      .first();
    const head = Number(stats?.head ?? 0);
    let previous = { count: 0, hash: GENESIS_HASH };
    // Pages are ranges of sequence numbers, both ends bound: a range of the
    // primary key on either database (with only a lower bound and a LIMIT,
    // PostgreSQL scanned the table for each page of a 1M-record chain).
    const readPage = (from: number): Promise<EvidenceRow[]> =>
      Promise.resolve(
        this.db<EvidenceRow>('nhi_evidence')
          .where('retirement_id', retirementId)
          .whereBetween('seq', [from, from + pageSize - 1])
          .orderBy('seq', 'asc'),
      );
    // The next page is read while this one is hashed (PostgreSQL works on
    // the other core meanwhile).
    let nextPage = head >= 1 ? readPage(1) : undefined;
    for (let from = 1; from <= head; from += pageSize) {
      const rows = await nextPage!;
      nextPage =
        from + pageSize <= head ? readPage(from + pageSize) : undefined;
      const check = verifyEvidenceChainFrom(
        rows.map(storedEvidenceFromRow),
        previous,
      );
      if (!check.valid) {
        nextPage?.catch(() => undefined); // not needed any more
        // Say how long the whole chain is, as a check of all of it would.
        return { ...check, count: Number(stats?.n ?? check.count) };
      }
      if (check.count) previous = { count: check.count, hash: check.headHash! };
    }
    return previous.count
      ? { valid: true, count: previous.count, headHash: previous.hash }
      : { valid: true, count: 0 };
  }

  /** A page of the evidence (see pagedReads.ts). */
  async getEvidencePage(
    retirementId: string,
    options: { limit: number; afterSeq?: number },
  ): Promise<EvidencePage> {
    return readEvidencePage(this.db, retirementId, options);
  }

  /** A page of the steps in stage order, as JSON text (see pagedReads.ts). */
  async listStepsJson(
    retirementId: string,
    options: { limit: number; cursor?: string; status?: StepStatus[] },
  ): Promise<StepPageJson> {
    return readStepPageJson(this.db, retirementId, options);
  }

  // ---- the engine's side -------------------------------------------------

  /** Moves new retirements to running. Returns how many started. */
  async startPending(now: Date): Promise<number> {
    const rows = await this.db<RetirementRow>('nhi_retirements')
      .where('status', 'pending')
      .select('id')
      .limit(100);
    for (const { id } of rows) {
      await this.mutate(id, 'engine', now, async () => undefined);
    }
    return rows.length;
  }

  /**
   * Claims up to `limit` runnable steps with a lease: steps of a running
   * retirement's current stage that are due, and steps whose worker's lease
   * ran out (it crashed). PostgreSQL skips rows another worker is claiming;
   * the conditional update makes the claim safe on every database.
   */
  async claimSteps(options: {
    workerId: string;
    limit: number;
    leaseMs: number;
    now: Date;
  }): Promise<ClaimedStep[]> {
    if (options.limit <= 0) return [];
    const now = iso(options.now);
    const leaseUntil = iso(new Date(options.now.getTime() + options.leaseMs));
    const due = (q: Knex.QueryBuilder, alias: string) =>
      q
        .where(q2 =>
          q2
            .where(`${alias}status`, 'pending')
            .where(q3 =>
              q3
                .whereNull(`${alias}not_before`)
                .orWhere(`${alias}not_before`, '<=', now),
            ),
        )
        .orWhere(q2 =>
          q2
            .where(`${alias}status`, 'running')
            .where(`${alias}lease_expires_at`, '<', now),
        );
    const candidates = this.db('nhi_steps as s')
      .join('nhi_retirements as r', 'r.id', 's.retirement_id')
      .where('r.status', 'running')
      .whereRaw('s.stage = r.current_stage')
      // A legal hold blocks the final steps; re-enabling is never blocked.
      .where(q =>
        q
          .where('r.legal_hold', false)
          .orWhere('s.stage', '<', FINAL_STAGE)
          .orWhere('s.action', 'enable'),
      )
      // Redundant with `due`, but lets the planner use the partial index
      // of open steps (nhi_steps_open_id_idx).
      .whereIn('s.status', ['pending', 'running'])
      .where(q => due(q, 's.'))
      .select('s.id')
      .limit(options.limit);
    if (isPostgres(this.db)) {
      // Step ids are random: in id order (read from the partial index of
      // open steps, no sort) a batch spreads over many retirements, so the
      // steps' ends do not all queue for one retirement's row lock.
      // PostgreSQL skips rows another worker is claiming right now.
      candidates.orderBy('s.id').forUpdate('s').skipLocked();
    }
    // SQLite: no ORDER BY (sorting every candidate made this query 40x
    // slower at 20k steps, bench/experiments/claim-query.ts); it has one
    // writer at a time anyway, so there is no row lock to spread over.
    // One statement picks, re-checks and leases the steps (one commit per
    // claim pass instead of a transaction with an UPDATE per step).
    const picked = this.db<StepRow>('nhi_steps');
    if (isPostgres(this.db)) {
      // `id IN (subquery)` lets PostgreSQL run the locking subquery more
      // than once (a semi-join), so one claim of 3 could lease 4 steps; an
      // array built once by the subquery cannot.
      const { sql, bindings } = candidates.toSQL();
      picked.whereRaw(`id = any(array(${sql}))`, bindings as any[]);
    } else {
      picked.whereIn('id', candidates);
    }
    const rows: StepRow[] = await picked
      .where(q => due(q, ''))
      .update({
        status: 'running',
        lease_owner: options.workerId,
        lease_expires_at: leaseUntil,
        attempts: this.db.raw('attempts + 1'),
        started_at: this.db.raw('coalesce(started_at, ?)', [now]),
        first_attempt_at: this.db.raw('coalesce(first_attempt_at, ?)', [now]),
        change_seq: nextStepChange(this.db),
      } as any)
      .returning('*');
    if (rows.length === 0) return [];
    const anchors = new Map(
      (
        await this.getAnchors(
          rows.map(r => r.anchor_id).filter((x): x is string => !!x),
        )
      ).map(a => [a.id, a]),
    );
    return rows.map(row => {
      const anchor = row.anchor_id ? anchors.get(row.anchor_id) : undefined;
      return {
        step: stepFromRow(row, undefined),
        anchor,
        retirementId: row.retirement_id,
        firstAttemptAt: row.first_attempt_at ?? now,
      };
    });
  }

  /** Extends a lease; false when the worker lost it. */
  async heartbeat(
    stepId: string,
    workerId: string,
    leaseUntil: Date,
  ): Promise<boolean> {
    const count = await this.db('nhi_steps')
      .where({ id: stepId, lease_owner: workerId, status: 'running' })
      .update({ lease_expires_at: iso(leaseUntil) });
    return count === 1;
  }

  /**
   * Records the end of an attempt, its evidence and what it means for the
   * retirement, in one transaction. Returns false (and writes nothing) when
   * the worker no longer holds the step's lease: another worker took it over
   * and its result is the one that counts. Ends that arrive while others are
   * being written share the next transaction (GroupCommit): one commit, one
   * lock statement, one summary and one evidence INSERT for all of them.
   */
  async finishStep(done: StepCompletion): Promise<boolean> {
    const retirementId =
      done.retirementId ??
      (
        await this.db<StepRow>('nhi_steps')
          .where('id', done.stepId)
          .first('retirement_id')
      )?.retirement_id;
    if (!retirementId) return false;
    return this.stepEnds.add({ ...done, retirementId });
  }

  private readonly stepEnds = new GroupCommit<
    StepCompletion & { retirementId: string },
    boolean
  >(batch => this.finishSteps(batch), {
    // Two batches side by side keep PostgreSQL busy while one commits; a
    // batch holds its retirements' row locks to its commit, so it is kept
    // small enough not to stall the API's state changes.
    maxInFlight: 2,
    maxBatch: 32,
  });

  private async finishSteps(
    batch: (StepCompletion & { retirementId: string })[],
  ): Promise<boolean[]> {
    const held: boolean[] = [];
    const written = await inTransaction(this.db, async trx => {
      held.length = 0;
      // The steps' own rows are written before the retirements' row locks
      // are taken, so the locks are held for the summary, the evidence and
      // the commit only (PostgreSQL: step ends of one retirement waited for
      // each other's whole transactions). Only the lease holder writes a
      // running step, and nobody holding a retirement's lock waits for a
      // running step's row; the locks are taken in id order, so two batches
      // cannot deadlock either.
      for (const done of batch) held.push(await this.endAttempt(trx, done));
      const changes = new Map<string, RetirementChange>();
      batch.forEach((done, i) => {
        if (!held[i]) return;
        const change = changes.get(done.retirementId) ?? {
          now: done.now,
          facts: [],
        };
        if (done.now > change.now) change.now = done.now;
        for (const fact of done.evidence ?? []) {
          change.facts.push({
            ...fact,
            retirementId: done.retirementId,
            at: iso(done.now),
          });
        }
        changes.set(done.retirementId, change);
      });
      if (!changes.size) return [];
      const rows = await lockRetirements(trx, [...changes.keys()]);
      const gone = [...changes.keys()].find(id => !rows.some(r => r.id === id));
      if (gone) throw new NotFoundError(`No retirement with id ${gone}`);
      return this.settle(trx, rows, changes, 'engine');
    });
    if (written.length) this.onEvidence(written);
    return held;
  }

  /**
   * Writes the end of one attempt if this worker still holds the step (the
   * lease check and the write are one statement); false when it does not.
   */
  private async endAttempt(
    trx: Knex.Transaction,
    done: StepCompletion & { retirementId: string },
  ): Promise<boolean> {
    const terminal = done.status !== 'pending';
    const count = await trx('nhi_steps')
      .where({
        id: done.stepId,
        retirement_id: done.retirementId,
        lease_owner: done.workerId,
        status: 'running',
      })
      .update({
        status: done.status,
        ...(done.outcome !== undefined ? { outcome: done.outcome } : {}),
        ...(done.lastError !== undefined ? { last_error: done.lastError } : {}),
        not_before: done.notBefore ? iso(done.notBefore) : null,
        lease_owner: null,
        lease_expires_at: null,
        finished_at: terminal ? iso(done.now) : null,
        change_seq: nextStepChange(trx),
      });
    if (count !== 1) return false;
    if (done.anchorPatch) {
      await trx('nhi_anchors')
        .whereIn(
          'id',
          trx('nhi_steps').where('id', done.stepId).select('anchor_id'),
        )
        .update({
          ...done.anchorPatch,
          change_seq: nextAnchorChange(trx),
        });
    }
    return true;
  }

  /**
   * The seal step: decides completion (fail closed) and, when complete,
   * closes the chain with a completion record that names the head hash.
   */
  async seal(
    stepId: string,
    workerId: string,
    now: Date,
  ): Promise<CompletionCheck | undefined> {
    const step = await this.db<StepRow>('nhi_steps')
      .where('id', stepId)
      .first();
    if (!step) return undefined;
    let check: CompletionCheck | undefined;
    await this.mutate(step.retirement_id, 'engine', now, async (trx, facts) => {
      const current = await trx<StepRow>('nhi_steps')
        .where({ id: stepId, lease_owner: workerId, status: 'running' })
        .first();
      if (!current) return;
      const steps = (
        await trx<StepRow>('nhi_steps').where(
          'retirement_id',
          step.retirement_id,
        )
      ).map(toState);
      const exceptions = (
        await trx<ExceptionRow>('nhi_exceptions').where(
          'retirement_id',
          step.retirement_id,
        )
      ).map(exceptionFromRow);
      check = evaluateCompletion(
        steps.filter(s => s.id !== stepId),
        exceptions,
        now,
      );
      const head = await trx('nhi_evidence')
        .where('retirement_id', step.retirement_id)
        .orderBy('seq', 'desc')
        .first('seq', 'hash');
      await trx('nhi_steps')
        .where('id', stepId)
        .update({
          status: check.complete ? 'succeeded' : 'failed',
          last_error: check.complete
            ? null
            : `${
                check.unresolved.length
              } trust anchor(s) are neither verified, attested nor excepted: ${check.unresolved.join(
                ', ',
              )}`,
          lease_owner: null,
          lease_expires_at: null,
          finished_at: iso(now),
          change_seq: nextStepChange(trx),
        });
      if (check.complete) {
        await trx('nhi_retirements')
          .where('id', step.retirement_id)
          .update({
            status: 'completed',
            status_reason: null,
            active_entity_ref: null,
            completed_at: iso(now),
            updated_at: iso(now),
          });
        facts.push({
          retirementId: step.retirement_id,
          kind: 'completion',
          stepId,
          actor: 'engine',
          at: iso(now),
          summary: `Completed: ${check.verifiedBySystem} verified untrusted by their systems, ${check.attested} attested by owners (unverified by a system), ${check.excepted} under approved exceptions`,
          data: {
            verifiedBySystem: check.verifiedBySystem,
            attestedUnverifiedBySystem: check.attested,
            excepted: check.excepted,
            chainHeadBeforeSeal: head?.hash ?? null,
            recordsBeforeSeal: head ? Number(head.seq) : 0,
          },
        });
      }
    });
    return check;
  }

  /**
   * Writes the result of re-verifying a finished retirement's anchors
   * (clean, or drift: see ../drift/reverificationChange.ts).
   */
  async recordReverification(
    id: string,
    input: Reverification,
    now: Date,
  ): Promise<ReverificationVerdict> {
    let verdict: ReverificationVerdict = 'skipped';
    await this.mutate(id, 'reverification', now, async (trx, facts, r) => {
      verdict = await applyReverification(
        trx,
        facts,
        r,
        input,
        'reverification',
        now,
      );
    });
    return verdict;
  }

  /** Records a shared anchor's new owner (../governance/ownershipChange.ts). */
  async recordOwnershipReassignment(
    id: string,
    input: OwnershipReassignment,
    actor: string,
    now: Date,
  ): Promise<void> {
    await this.mutate(id, actor, now, (trx, facts, r) =>
      applyOwnershipReassignment(trx, facts, r, input, actor, now),
    );
  }

  /** Lets quarantines whose time is up go on to the final revoke. */
  async endExpiredQuarantines(now: Date): Promise<string[]> {
    const rows = await this.db<RetirementRow>('nhi_retirements')
      .where('status', 'quarantined')
      .where('quarantine_until', '<=', iso(now))
      .select('id');
    for (const { id } of rows) {
      await this.mutate(id, 'scheduler', now, async () => undefined);
    }
    return rows.map(r => r.id);
  }

  // ---- people's actions --------------------------------------------------

  async cancel(
    id: string,
    actor: string,
    reason: string,
    now: Date,
  ): Promise<void> {
    await this.mutate(id, actor, now, async (trx, facts, r) => {
      requireActive(r, 'only an active one can be cancelled');
      await trx('nhi_steps')
        .where('retirement_id', id)
        .whereIn('status', ['pending', 'waiting'])
        .update({ status: 'cancelled', finished_at: iso(now) });
      await trx('nhi_retirements')
        .where('id', id)
        .update({
          status: 'cancelled',
          status_reason: reason,
          active_entity_ref: null,
          updated_at: iso(now),
        });
      facts.push(
        statusFact(
          id,
          actor,
          now,
          'cancelled',
          `Cancelled by ${actor}: ${reason}`,
        ),
      );
    });
  }

  async retry(id: string, actor: string, now: Date): Promise<void> {
    await this.mutate(id, actor, now, async (trx, facts, r) => {
      if (r.status !== 'needs-attention') {
        throw new ConflictError(
          `Retirement ${id} is ${r.status}: only one that needs attention can be retried`,
        );
      }
      const count = await trx('nhi_steps')
        .where({ retirement_id: id, status: 'failed' })
        .update({
          status: 'pending',
          attempts: 0,
          not_before: null,
          first_attempt_at: null,
          finished_at: null,
        });
      await trx('nhi_retirements')
        .where('id', id)
        .update({ status: 'running', updated_at: iso(now) });
      r.status = 'running';
      facts.push(
        statusFact(
          id,
          actor,
          now,
          'running',
          `${count} failed step(s) retried by ${actor}`,
        ),
      );
    });
  }

  async release(id: string, actor: string, now: Date): Promise<void> {
    await this.mutate(id, actor, now, async (trx, facts, r) => {
      requireActiveQuarantine(r);
      if (r.released) return;
      await trx('nhi_retirements')
        .where('id', id)
        .update({ released: true, updated_at: iso(now) });
      r.released = true;
      facts.push(
        statusFact(
          id,
          actor,
          now,
          r.status,
          `Quarantine ended early by ${actor}: the final revoke may run`,
        ),
      );
    });
  }

  /**
   * Ends a quarantine by giving access back: open steps are cancelled and
   * every anchor that was disabled is re-enabled. Refused once anything
   * final (memberships, revocations) has started.
   */
  async restore(
    id: string,
    actor: string,
    now: Date,
    newStepId: () => string,
  ): Promise<void> {
    await this.mutate(id, actor, now, async (trx, facts, r) => {
      requireActiveQuarantine(r);
      if (r.restoring) return;
      const steps = await trx<StepRow>('nhi_steps').where('retirement_id', id);
      const final = steps.filter(
        s =>
          s.stage >= FINAL_STAGE &&
          s.stage < STAGE.restore &&
          ['running', 'succeeded', 'failed'].includes(s.status),
      );
      if (final.length > 0) {
        throw new ConflictError(
          `Access can no longer be restored: ${final.length} final step(s) of retirement ${id} have already run`,
        );
      }
      if (steps.some(s => s.status === 'running')) {
        throw new ConflictError(
          'A step is running right now: try again in a moment',
        );
      }
      await trx('nhi_steps')
        .where('retirement_id', id)
        .whereIn('status', ['pending', 'waiting', 'failed'])
        .update({ status: 'cancelled', finished_at: iso(now) });
      const disabled = steps.filter(
        s => s.action === 'disable' && s.status === 'succeeded' && s.anchor_id,
      );
      const rows: StepRow[] = disabled.map(s => ({
        ...s,
        id: newStepId(),
        stage: STAGE.restore,
        phase: 1,
        action: 'enable',
        manual: false,
        after_quarantine: false,
        rationale: 'Quarantine ended by restoring access: re-enabled',
        status: 'pending',
        attempts: 0,
        last_error: null,
        outcome: null,
        not_before: null,
        lease_owner: null,
        lease_expires_at: null,
        first_attempt_at: null,
        started_at: null,
        finished_at: null,
      }));
      if (rows.length) await trx('nhi_steps').insert(rows);
      await trx('nhi_retirements')
        .where('id', id)
        .update({ restoring: true, released: true, updated_at: iso(now) });
      facts.push(
        statusFact(
          id,
          actor,
          now,
          r.status,
          `Restore requested by ${actor}: ${rows.length} disabled credential(s) will be re-enabled, nothing is revoked`,
        ),
      );
    });
  }

  async setHold(
    id: string,
    actor: string,
    hold: boolean,
    reason: string,
    now: Date,
  ): Promise<void> {
    await this.mutate(id, actor, now, async (trx, facts, r) => {
      requireActive(r, 'a legal hold only applies to an active one');
      if (Boolean(r.legal_hold) === hold) return;
      await trx('nhi_retirements')
        .where('id', id)
        .update({
          legal_hold: hold,
          hold_reason: hold ? reason : null,
          updated_at: iso(now),
        });
      facts.push({
        retirementId: id,
        kind: 'hold',
        actor,
        at: iso(now),
        summary: hold
          ? `Legal hold placed by ${actor}: final revocation blocked (${reason})`
          : `Legal hold lifted by ${actor}${reason ? ` (${reason})` : ''}`,
        data: { legalHold: hold, reason },
      });
    });
  }

  async requestException(input: {
    id: string;
    retirementId: string;
    stepId: string;
    justification: string;
    expiresAt: Date;
    actor: string;
    now: Date;
  }): Promise<StepException> {
    await this.mutate(
      input.retirementId,
      input.actor,
      input.now,
      async (trx, facts, r) => {
        requireActive(r, 'exceptions apply to active ones');
        const step = await this.stepIn(trx, input.retirementId, input.stepId);
        if (!step.anchor_id) {
          throw new ConflictError(
            'This step concerns no trust anchor: there is nothing to except',
          );
        }
        if (step.status === 'succeeded') {
          throw new ConflictError(
            'This step already succeeded: it needs no exception',
          );
        }
        const open = await trx('nhi_exceptions')
          .where({ step_id: input.stepId })
          .whereIn('status', ['requested', 'approved'])
          .first();
        if (open) {
          throw new ConflictError(
            `This step already has a ${open.status} exception (${open.id})`,
          );
        }
        await trx('nhi_exceptions').insert({
          id: input.id,
          retirement_id: input.retirementId,
          step_id: input.stepId,
          anchor_id: step.anchor_id,
          justification: input.justification,
          expires_at: iso(input.expiresAt),
          requested_by: input.actor,
          requested_at: iso(input.now),
          status: 'requested',
        });
        facts.push({
          retirementId: input.retirementId,
          kind: 'exception',
          stepId: input.stepId,
          anchorId: step.anchor_id,
          actor: input.actor,
          at: iso(input.now),
          summary: `Exception requested by ${input.actor} until ${iso(
            input.expiresAt,
          )}: ${input.justification}`,
          data: {
            exceptionId: input.id,
            decision: 'requested',
            expiresAt: iso(input.expiresAt),
            justification: input.justification,
          },
        });
      },
    );
    return (await this.getException(input.id))!;
  }

  /** Four-eyes: the requester of an exception can never decide it. */
  async decideException(input: {
    retirementId: string;
    stepId: string;
    approve: boolean;
    note: string;
    actor: string;
    now: Date;
  }): Promise<StepException> {
    let exceptionId = '';
    await this.mutate(
      input.retirementId,
      input.actor,
      input.now,
      async (trx, facts) => {
        await this.stepIn(trx, input.retirementId, input.stepId);
        const row = await trx<ExceptionRow>('nhi_exceptions')
          .where({ step_id: input.stepId, status: 'requested' })
          .first();
        if (!row) {
          throw new NotFoundError(
            'This step has no exception waiting for a decision',
          );
        }
        exceptionId = row.id;
        if (row.requested_by === input.actor) {
          throw new NotAllowedError(
            'You requested this exception: another approver must decide it (four-eyes rule)',
          );
        }
        if (input.approve && new Date(row.expires_at) <= input.now) {
          throw new ConflictError(
            'This exception has already expired: request a new one with a later expiry',
          );
        }
        await trx('nhi_exceptions')
          .where('id', row.id)
          .update({
            status: input.approve ? 'approved' : 'rejected',
            decided_by: input.actor,
            decided_at: iso(input.now),
            decision_note: input.note || null,
          });
        if (input.approve) {
          await trx('nhi_steps')
            .where({
              retirement_id: input.retirementId,
              anchor_id: row.anchor_id,
            })
            .whereIn('status', ['pending', 'waiting', 'failed'])
            .update({ status: 'excepted', finished_at: iso(input.now) });
          await trx('nhi_anchors')
            .where('id', row.anchor_id!)
            .update({
              status: 'excepted',
              change_seq: nextAnchorChange(trx),
            });
        }
        facts.push({
          retirementId: input.retirementId,
          kind: 'exception',
          stepId: input.stepId,
          anchorId: row.anchor_id ?? undefined,
          actor: input.actor,
          at: iso(input.now),
          summary: `Exception ${input.approve ? 'approved' : 'rejected'} by ${
            input.actor
          } (requested by ${row.requested_by}, expires ${row.expires_at})${
            input.note ? `: ${input.note}` : ''
          }`,
          data: {
            exceptionId: row.id,
            decision: input.approve ? 'approved' : 'rejected',
            requestedBy: row.requested_by,
            expiresAt: row.expires_at,
            justification: row.justification,
            note: input.note,
          },
        });
      },
    );
    return (await this.getException(exceptionId))!;
  }

  async attest(input: {
    retirementId: string;
    stepId: string;
    note: string;
    actor: string;
    now: Date;
  }): Promise<void> {
    await this.mutate(
      input.retirementId,
      input.actor,
      input.now,
      async (trx, facts, r) => {
        requireActive(r, 'nothing to attest');
        const step = await this.stepIn(trx, input.retirementId, input.stepId);
        if (step.action !== 'attest') {
          throw new ConflictError(
            `This step (${step.action}) is done by a system, not attested by a person`,
          );
        }
        if (step.status !== 'waiting') {
          throw new ConflictError(
            `This step is ${step.status}: only a waiting step can be attested`,
          );
        }
        await trx('nhi_steps')
          .where('id', step.id)
          .update({
            status: 'succeeded',
            outcome: 'attested',
            finished_at: iso(input.now),
          });
        if (step.anchor_id) {
          await trx('nhi_anchors')
            .where('id', step.anchor_id)
            .update({
              status: step.stage === STAGE.secrets ? 'rotated' : 'revoked',
              change_seq: nextAnchorChange(trx),
            });
        }
        facts.push({
          retirementId: input.retirementId,
          kind: 'attestation',
          stepId: step.id,
          anchorId: step.anchor_id ?? undefined,
          actor: input.actor,
          at: iso(input.now),
          summary: `Attested by ${input.actor} (not verified by a system): ${input.note}`,
          data: { note: input.note, verifiedBySystem: false },
        });
      },
    );
  }

  // ---- internals ---------------------------------------------------------

  /**
   * The one way state changes: lock the retirement, apply `change`, let the
   * engine's rules move the retirement on, append the evidence, commit.
   */
  private async mutate(
    retirementId: string,
    actor: string,
    now: Date,
    change: (
      trx: Knex.Transaction,
      facts: EvidenceFacts[],
      retirement: RetirementRow,
    ) => Promise<void>,
  ): Promise<void> {
    const written = await inTransaction(this.db, async trx => {
      const [row] = await lockRetirements(trx, [retirementId]);
      if (!row) {
        throw new NotFoundError(`No retirement with id ${retirementId}`);
      }
      const facts: EvidenceFacts[] = [];
      await change(trx, facts, row);
      const fresh = (await trx<RetirementRow>('nhi_retirements')
        .where('id', retirementId)
        .first())!;
      return this.settle(
        trx,
        [fresh],
        new Map([[retirementId, { now, facts }]]),
        actor,
      );
    });
    if (written.length) this.onEvidence(written);
  }

  /**
   * After a change to retirements locked by this transaction: lets the
   * engine's rules move each on (from one summary of all their steps) and
   * appends the evidence, the change's facts before any status record.
   */
  private async settle(
    trx: Knex.Transaction,
    retirements: RetirementRow[],
    changes: Map<string, RetirementChange>,
    actor: string,
  ): Promise<EvidenceRecord[]> {
    const summaries = await summarizeStepsOf(
      trx,
      retirements.map(r => r.id),
    );
    const facts: EvidenceFacts[] = [];
    const heads = new Map<string, EvidenceHead | undefined>();
    for (const fresh of retirements) {
      const { now, facts: changeFacts } = changes.get(fresh.id)!;
      const { summary, head } = summaries.get(fresh.id)!;
      heads.set(fresh.id, head);
      facts.push(...changeFacts);
      const next = decideTransition(
        {
          status: fresh.status as RetirementStatus,
          mode: fresh.mode as RetirementMode,
          currentStage: fresh.current_stage,
          released: Boolean(fresh.released),
          restoring: Boolean(fresh.restoring),
          quarantineUntil: fresh.quarantine_until ?? undefined,
        },
        summary,
        now,
      );
      if (!next) continue;
      await trx('nhi_retirements')
        .where('id', fresh.id)
        .update({
          status: next.status,
          current_stage: next.currentStage,
          status_reason: next.statusReason ?? null,
          updated_at: iso(now),
          ...(next.status === 'cancelled' ? { active_entity_ref: null } : {}),
        });
      if (next.status !== fresh.status) {
        facts.push(
          statusFact(
            fresh.id,
            actor,
            now,
            next.status,
            describeStatus(next.status, fresh, next.statusReason),
          ),
        );
      }
    }
    return this.append(trx, facts, heads);
  }

  private append(
    trx: Knex.Transaction,
    facts: EvidenceFacts[],
    heads?: Map<string, EvidenceHead | undefined>,
  ) {
    return facts.length
      ? appendEvidence(trx, facts, heads)
      : Promise.resolve([]);
  }

  private async stepIn(
    trx: Knex.Transaction,
    retirementId: string,
    stepId: string,
  ): Promise<StepRow> {
    const step = await trx<StepRow>('nhi_steps')
      .where({ id: stepId, retirement_id: retirementId })
      .first();
    if (!step) {
      throw new NotFoundError(
        `Retirement ${retirementId} has no step ${stepId}`,
      );
    }
    return step;
  }

  private async getException(id: string): Promise<StepException | undefined> {
    const row = await this.db<ExceptionRow>('nhi_exceptions')
      .where('id', id)
      .first();
    return row ? exceptionFromRow(row) : undefined;
  }

  private async stepsOf(retirementId: string): Promise<RetirementStep[]> {
    const rows = await this.db<StepRow>('nhi_steps')
      .where('retirement_id', retirementId)
      .orderBy([{ column: 'stage' }, { column: 'id' }]);
    // A step's latest request wins, ties by id, as on a page of steps
    // (latestExceptionSql).
    const exceptions = new Map<string, StepException>();
    for (const row of await this.db<ExceptionRow>('nhi_exceptions')
      .where('retirement_id', retirementId)
      .orderBy([{ column: 'requested_at' }, { column: 'id' }])) {
      exceptions.set(row.step_id, exceptionFromRow(row));
    }
    return rows.map(r => stepFromRow(r, exceptions.get(r.id)));
  }

  /** Progress counts of retirements, from the steps' covering index. */
  async progressOf(
    ids: string[],
  ): Promise<Map<string, Retirement['progress']>> {
    const map = new Map<string, Retirement['progress']>();
    for (const id of ids)
      map.set(id, { total: 0, done: 0, failed: 0, anchors: 0, verified: 0 });
    if (ids.length === 0) return map;
    const rows: {
      retirement_id: string;
      stage: number;
      status: string;
      outcome: string | null;
      n: number | string;
    }[] = await preparedRead(
      this.db,
      this.db('nhi_steps')
        .whereIn('retirement_id', ids)
        .select('retirement_id', 'stage', 'status', 'outcome')
        .count({ n: '*' })
        .groupBy('retirement_id', 'stage', 'status', 'outcome'),
    );
    for (const row of rows) {
      const p = map.get(row.retirement_id)!;
      const n = Number(row.n);
      p.total += n;
      if (row.status === 'succeeded' || row.status === 'excepted') p.done += n;
      if (row.status === 'failed') p.failed += n;
      if (row.stage === STAGE.verify) {
        p.anchors += n;
        if (
          (row.status === 'succeeded' &&
            (row.outcome === 'untrusted' || row.outcome === 'attested')) ||
          row.status === 'excepted'
        ) {
          p.verified += n;
        }
      }
    }
    return map;
  }
}

/** What a transaction did to one retirement it locked. */
interface RetirementChange {
  /** When (the latest of the change's moments). */
  now: Date;
  /** Its evidence, in order. */
  facts: EvidenceFacts[];
}

/**
 * Locks retirement rows for the rest of the transaction, in id order (two
 * transactions that lock several cannot deadlock), and returns them.
 */
async function lockRetirements(
  trx: Knex.Transaction,
  ids: string[],
): Promise<RetirementRow[]> {
  return forUpdate(
    trx,
    trx<RetirementRow>('nhi_retirements').whereIn('id', ids).orderBy('id'),
  );
}

/**
 * The step summary of retirements and the heads of their evidence chains,
 * in one round trip: an aggregate over their open and failed steps (index on
 * retirement_id, status), so a step's end costs the same in a run of ten
 * steps or of ten thousand, and each chain's newest record (primary key).
 * Read under the retirements' row locks, after the change, right before the
 * append.
 */
async function summarizeStepsOf(
  trx: Knex.Transaction,
  retirementIds: string[],
): Promise<
  Map<string, { summary: StepSummary; head: EvidenceHead | undefined }>
> {
  const ids = retirementIds.map(() => '?').join(', ');
  const rows: {
    retirement_id: string;
    status: string;
    n: number | string | null;
    stage: number | string | null;
    error: string | null;
    seq: number | string | null;
    hash: string | null;
  }[] = rowsOf(
    trx,
    await trx.raw(
      `select retirement_id, status, count(*) as n, min(stage) as stage,
              min(last_error) as error, null as seq, null as hash
         from nhi_steps
        where retirement_id in (${ids})
          and status in ('pending', 'running', 'waiting', 'failed')
        group by retirement_id, status
       union all
       select r.id, 'head', null, null, null,
              (select seq from nhi_evidence e where e.retirement_id = r.id
                order by seq desc limit 1),
              (select hash from nhi_evidence e where e.retirement_id = r.id
                order by seq desc limit 1)
         from nhi_retirements r
        where r.id in (${ids})`,
      [...retirementIds, ...retirementIds],
    ),
  );
  const summaries = new Map(
    retirementIds.map(id => [
      id,
      {
        summary: { open: 0, failed: 0 } as StepSummary,
        head: undefined as EvidenceHead | undefined,
      },
    ]),
  );
  for (const row of rows) {
    const of = summaries.get(row.retirement_id)!;
    const summary = of.summary;
    if (row.status === 'head') {
      if (row.seq !== null) of.head = { seq: Number(row.seq), hash: row.hash! };
      continue;
    }
    const n = Number(row.n);
    if (row.status === 'failed') {
      summary.failed = n;
      summary.firstError = row.error ?? undefined;
    } else {
      summary.open += n;
      const stage = Number(row.stage);
      if (
        summary.lowestOpenStage === undefined ||
        stage < summary.lowestOpenStage
      ) {
        summary.lowestOpenStage = stage;
      }
    }
  }
  return summaries;
}

/** Throws 409 unless the retirement is still active; `why` completes the sentence. */
function requireActive(r: RetirementRow, why: string): void {
  if (!ACTIVE.includes(r.status as RetirementStatus)) {
    throw new ConflictError(`Retirement ${r.id} is ${r.status}: ${why}`);
  }
}

function requireActiveQuarantine(r: RetirementRow): void {
  if (r.mode !== 'quarantine') {
    throw new ConflictError(`Retirement ${r.id} is not a quarantine`);
  }
  requireActive(r, 'its quarantine is over');
}

function toState(row: StepRow): StepState {
  return {
    id: row.id,
    anchorId: row.anchor_id ?? undefined,
    stage: row.stage,
    action: row.action as StepState['action'],
    status: row.status as StepStatus,
    outcome: row.outcome ?? undefined,
    lastError: row.last_error ?? undefined,
  };
}

function statusFact(
  retirementId: string,
  actor: string,
  now: Date,
  status: string,
  summary: string,
): EvidenceFacts {
  return {
    retirementId,
    kind: 'status',
    actor,
    at: iso(now),
    summary,
    data: { status },
  };
}

function describeStatus(
  status: RetirementStatus,
  before: RetirementRow,
  reason?: string,
): string {
  switch (status) {
    case 'running':
      return before.status === 'pending'
        ? 'Retirement started'
        : 'Retirement running again';
    case 'quarantined':
      return `Identity disabled and proven so; quarantined until ${before.quarantine_until}, then revoked for good`;
    case 'needs-attention':
      return `Needs attention: ${reason}`;
    default:
      return `Status: ${status}`;
  }
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    );
    if (typeof createdAt === 'string' && typeof id === 'string')
      return { createdAt, id };
  } catch {
    // fall through
  }
  throw new InputError(
    'The cursor is not one this API returned: start again without it',
  );
}
