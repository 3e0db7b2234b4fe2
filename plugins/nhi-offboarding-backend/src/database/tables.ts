import type {
  EvidenceKind,
  EvidenceRecord,
  Retirement,
  RetirementMode,
  RetirementStatus,
  RetirementStep,
  StepException,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { Knex } from 'knex';
import { canonicalJson } from '../evidence/canonicalJson';
import { isPostgres } from './dbUtil';
import type { StoredEvidenceRecord } from '../evidence/evidenceChain';

/* Row shapes of the tables created in ../../migrations, and their mappers. */

export interface AnchorRow {
  id: string;
  entity_ref: string;
  provider_id: string;
  kind: string;
  external_id: string;
  display_name: string;
  fingerprint: string | null;
  scopes: string;
  owner: string | null;
  shared_with: string;
  manual: boolean | number;
  source_created_at: string | null;
  last_used_at: string | null;
  expires_at: string | null;
  status: string;
  discovered_at: string;
  discovered_by: string;
  last_verified_at: string | null;
  last_verified_by: string | null;
  last_verification: string | null;
  /** Stamped by every write of the anchor (RetirementStore.anchorsMark). */
  change_seq?: number | string;
}

export interface RetirementRow {
  id: string;
  entity_ref: string;
  entity_owner: string | null;
  active_entity_ref: string | null;
  mode: string;
  reason: string;
  status: string;
  status_reason: string | null;
  requested_by: string;
  legal_hold: boolean | number;
  hold_reason: string | null;
  quarantine_days: number | null;
  quarantine_until: string | null;
  released: boolean | number;
  restoring: boolean | number;
  current_stage: number;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  last_reverified_at?: string | null;
  reverification_recorded_at?: string | null;
  drift_detected_at?: string | null;
  /** JSON RetirementOrigin, set when a trigger started the retirement. */
  origin?: string | null;
}

export interface StepRow {
  id: string;
  retirement_id: string;
  anchor_id: string | null;
  stage: number;
  phase: number;
  action: string;
  manual: boolean | number;
  after_quarantine: boolean | number;
  rationale: string;
  status: string;
  attempts: number;
  last_error: string | null;
  outcome: string | null;
  not_before: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  first_attempt_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** Its anchor as the plan named it (null: a step without an anchor). */
  anchor_name?: string | null;
  anchor_kind?: string | null;
  provider_id?: string | null;
  /** Stamped by claims and attempt ends (see RetirementMarks). */
  change_seq?: number | string;
}

export interface ExceptionRow {
  id: string;
  retirement_id: string;
  step_id: string;
  anchor_id: string | null;
  justification: string;
  expires_at: string;
  requested_by: string;
  requested_at: string;
  status: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
}

export interface EvidenceRow {
  retirement_id: string;
  seq: number;
  kind: string;
  step_id: string | null;
  anchor_id: string | null;
  actor: string;
  at: string;
  summary: string;
  data: string;
  prev_hash: string;
  hash: string;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/**
 * A trust anchor's fields in the API and the columns they are read from, in
 * the order the API writes them: the one mapping behind both anchorFromRow
 * and anchorJsonRead. A null column is a field left out.
 */
const ANCHOR_FIELDS: ReadonlyArray<
  [field: keyof TrustAnchor, column: keyof AnchorRow, type?: 'json' | 'boolean']
> = [
  ['id', 'id'],
  ['entityRef', 'entity_ref'],
  ['providerId', 'provider_id'],
  ['kind', 'kind'],
  ['externalId', 'external_id'],
  ['displayName', 'display_name'],
  ['fingerprint', 'fingerprint'],
  ['scopes', 'scopes', 'json'],
  ['owner', 'owner'],
  ['sharedWith', 'shared_with', 'json'],
  ['manual', 'manual', 'boolean'],
  ['createdAt', 'source_created_at'],
  ['lastUsedAt', 'last_used_at'],
  ['expiresAt', 'expires_at'],
  ['status', 'status'],
  ['discoveredAt', 'discovered_at'],
  ['discoveredBy', 'discovered_by'],
  ['lastVerifiedAt', 'last_verified_at'],
  ['lastVerifiedBy', 'last_verified_by'],
  ['lastVerification', 'last_verification'],
];

export function anchorFromRow(row: AnchorRow): TrustAnchor {
  const anchor: Record<string, unknown> = {};
  for (const [field, column, type] of ANCHOR_FIELDS) {
    const value = row[column];
    if (value === null) continue;
    if (type === 'json') anchor[field] = JSON.parse(value as string);
    else if (type === 'boolean') anchor[field] = Boolean(value);
    else anchor[field] = value;
  }
  return anchor as unknown as TrustAnchor;
}

/** How a column is written into JSON text (see jsonObjectSql). */
type JsonColumn = [
  field: string,
  /** A column with its table alias, e.g. `a.display_name`. */
  column: string,
  /**
   * text: a string, left out when null (the default); json: JSON text as
   * stored, never null; boolean and number: never null.
   */
  type?: 'text' | 'json' | 'boolean' | 'number',
];

/**
 * A select expression that gives a row as JSON text, fields in the order
 * given: the text JSON.stringify would give for the object the row maps to,
 * built by the database, one string per row instead of many values to read
 * and write out again. Written out by concatenation: null fields are left
 * out, as JSON.stringify leaves out undefined ones, at a third of the cost
 * of SQLite's json_patch. The first column must never be null.
 */
function jsonObjectSql(db: Knex, columns: ReadonlyArray<JsonColumn>): Knex.Raw {
  const quote = isPostgres(db)
    ? (c: string) => `to_json(${c}::text)::text`
    : (c: string) => `json_quote(${c})`;
  const parts = columns.map(([field, c, type], i) => {
    const key = `'${i === 0 ? '' : ','}"${field}":'`;
    if (type === 'json' || type === 'number') return `${key} || ${c}`;
    // SQLite keeps booleans as 0/1.
    if (type === 'boolean')
      return `${key} || case when ${c} then 'true' else 'false' end`;
    return `case when ${c} is null then '' else ${key} || ${quote(c)} end`;
  });
  return db.raw(`'{' || ${parts.join(' || ')} || '}'`);
}

/**
 * How a query gets each row's API JSON text: what to select, and how to read
 * the text from a row. SQLite writes it itself (jsonObjectSql: making an
 * object of each row is what costs most in better-sqlite3); PostgreSQL sends
 * the columns and JSON.stringify writes it here (its `to_json` for each
 * field cost the 2-core machine more than node-pg's rows do: bench/README,
 * fifth session). The same text either way, from the same field map.
 */
export interface JsonRead {
  columns: (string | Record<string, string | Knex.Raw>)[];
  json(row: any): string;
}

/** Anchor rows of `alias`, as JSON.stringify(anchorFromRow(row)) gives them. */
export function anchorJsonRead(db: Knex, alias: string): JsonRead {
  if (isPostgres(db)) {
    return {
      columns: [`${alias}.*`],
      json: (row: AnchorRow) => JSON.stringify(anchorFromRow(row)),
    };
  }
  // JSON columns hold what anchorToRow wrote with JSON.stringify.
  const sql = jsonObjectSql(
    db,
    ANCHOR_FIELDS.map(([field, column, type]) => [
      field,
      `${alias}.${column}`,
      type,
    ]),
  );
  return {
    columns: [{ json: sql }],
    json: (row: { json: string }) => row.json,
  };
}

export function anchorToRow(anchor: TrustAnchor): AnchorRow {
  return {
    id: anchor.id,
    entity_ref: anchor.entityRef,
    provider_id: anchor.providerId,
    kind: anchor.kind,
    external_id: anchor.externalId,
    display_name: anchor.displayName,
    fingerprint: anchor.fingerprint ?? null,
    scopes: JSON.stringify(anchor.scopes),
    owner: anchor.owner ?? null,
    shared_with: JSON.stringify(anchor.sharedWith),
    manual: anchor.manual,
    source_created_at: anchor.createdAt ?? null,
    last_used_at: anchor.lastUsedAt ?? null,
    expires_at: anchor.expiresAt ?? null,
    status: anchor.status,
    discovered_at: anchor.discoveredAt,
    discovered_by: anchor.discoveredBy,
    last_verified_at: anchor.lastVerifiedAt ?? null,
    last_verified_by: anchor.lastVerifiedBy ?? null,
    last_verification: anchor.lastVerification ?? null,
  };
}

/**
 * What tells whether a retirement can have changed since it was last read:
 * every column of its row but `last_reverified_at` changes with
 * `updated_at`; a claim of a step and the end of an attempt stamp the step
 * with a larger `change_seq` (the steps' mark: database/dbUtil.ts
 * stampsMark); every other change to a retirement's steps
 * appends evidence in the same transaction. See service/RetirementReads.ts.
 */
export interface RetirementMarks {
  id: string;
  status: string;
  updatedAt: string;
  lastReverifiedAt: string | null;
  /** Sequence number of its newest evidence record (0 when none). */
  evidenceHead: number;
  /** Its steps' change mark (`count:sum` of their `change_seq`). */
  stepChange: string;
}

/** The columns a marks query selects besides the row's own. */
export interface MarkColumns {
  mark_evidence_head: number | string | null;
  mark_step_change: number | string | null;
}

export function marksFromRow(
  row: Pick<
    RetirementRow,
    'id' | 'status' | 'updated_at' | 'last_reverified_at'
  > &
    MarkColumns,
): RetirementMarks {
  return {
    id: row.id,
    status: row.status,
    updatedAt: row.updated_at,
    lastReverifiedAt: row.last_reverified_at ?? null,
    evidenceHead: Number(row.mark_evidence_head ?? 0),
    stepChange: String(row.mark_step_change ?? '0:0'),
  };
}

/** A retirement's row with its marks. */
export interface MarkedRetirement {
  row: RetirementRow;
  marks: RetirementMarks;
}

export function markedFromRow(
  row: RetirementRow & MarkColumns,
): MarkedRetirement {
  const { mark_evidence_head, mark_step_change, ...rest } = row;
  return {
    row: rest,
    marks: marksFromRow(row),
  };
}

export function retirementFromRow(
  row: RetirementRow,
  progress: Retirement['progress'],
): Retirement {
  return {
    id: row.id,
    entityRef: row.entity_ref,
    owner: opt(row.entity_owner),
    mode: row.mode as RetirementMode,
    reason: row.reason,
    status: row.status as RetirementStatus,
    statusReason: opt(row.status_reason),
    requestedBy: row.requested_by,
    legalHold: Boolean(row.legal_hold),
    holdReason: opt(row.hold_reason),
    quarantineDays: opt(row.quarantine_days),
    quarantineUntil: opt(row.quarantine_until),
    released: Boolean(row.released),
    restoring: Boolean(row.restoring),
    currentStage: row.current_stage,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: opt(row.completed_at),
    lastReverifiedAt: opt(row.last_reverified_at ?? null),
    driftDetectedAt: opt(row.drift_detected_at ?? null),
    ...(row.origin ? { origin: JSON.parse(row.origin) } : {}),
    progress,
  };
}

/**
 * A step's fields in the API and the columns of its row they are read from
 * (its anchor's name, kind and provider as planned). In the order the API
 * writes them, with the exception last; the one mapping behind stepFromRow
 * and stepJsonRead. A null value is a field left out.
 */
const STEP_FIELDS: ReadonlyArray<
  [
    field: keyof RetirementStep,
    column: keyof StepRow,
    type?: 'boolean' | 'number',
  ]
> = [
  ['id', 'id'],
  ['retirementId', 'retirement_id'],
  ['anchorId', 'anchor_id'],
  ['anchorName', 'anchor_name'],
  ['anchorKind', 'anchor_kind'],
  ['providerId', 'provider_id'],
  ['stage', 'stage', 'number'],
  ['phase', 'phase', 'number'],
  ['action', 'action'],
  ['manual', 'manual', 'boolean'],
  ['afterQuarantine', 'after_quarantine', 'boolean'],
  ['rationale', 'rationale'],
  ['status', 'status'],
  ['attempts', 'attempts', 'number'],
  ['lastError', 'last_error'],
  ['outcome', 'outcome'],
  ['notBefore', 'not_before'],
  ['startedAt', 'started_at'],
  ['finishedAt', 'finished_at'],
];

export function stepFromRow(
  row: StepRow,
  exception: StepException | undefined,
): RetirementStep {
  const step: Record<string, unknown> = {};
  for (const [field, column, type] of STEP_FIELDS) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    step[field] = type === 'boolean' ? Boolean(value) : value;
  }
  if (exception) step.exception = exception;
  return step as unknown as RetirementStep;
}

/**
 * Step rows of `step` as their API JSON text without the exception: what
 * JSON.stringify(stepFromRow(row, undefined)) gives (see JsonRead). The
 * exception, last in a step, is spliced in by the caller.
 */
export function stepJsonRead(db: Knex, step: string): JsonRead {
  if (isPostgres(db)) {
    // The API's columns only, not `*`: node-pg turns every column of every
    // row into a property (a page of 50 steps: 9-28 % less CPU without the
    // lease and stamp columns, bench/README.md tenth session).
    return {
      columns: STEP_FIELDS.map(([, column]) => `${step}.${column}`),
      json: row => JSON.stringify(stepFromRow(row, undefined)),
    };
  }
  const sql = jsonObjectSql(
    db,
    STEP_FIELDS.map(([field, column, type]) => [
      field,
      `${step}.${column}`,
      type,
    ]),
  );
  return {
    columns: [{ json: sql }],
    json: (row: { json: string }) => row.json,
  };
}

const EXCEPTION_COLUMNS: ReadonlyArray<keyof ExceptionRow> = [
  'id',
  'retirement_id',
  'step_id',
  'anchor_id',
  'justification',
  'expires_at',
  'requested_by',
  'requested_at',
  'status',
  'decided_by',
  'decided_at',
  'decision_note',
];

/**
 * A select expression of a step's latest exception request (or null), as
 * the JSON text of its ExceptionRow: a scalar subquery on the steps of
 * `step`, so a page of steps and their exceptions is one statement.
 */
export function latestExceptionSql(db: Knex, step: string): Knex.Raw {
  const row = isPostgres(db)
    ? 'row_to_json(e)::text'
    : `json_object(${EXCEPTION_COLUMNS.map(c => `'${c}', e.${c}`).join(', ')})`;
  return db.raw(
    `(select ${row} from nhi_exceptions e where e.step_id = ${step}.id order by e.requested_at desc, e.id desc limit 1)`,
  );
}

export function exceptionFromRow(row: ExceptionRow): StepException {
  return {
    id: row.id,
    retirementId: row.retirement_id,
    stepId: row.step_id,
    anchorId: opt(row.anchor_id),
    justification: row.justification,
    expiresAt: row.expires_at,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    status: row.status as StepException['status'],
    decidedBy: opt(row.decided_by),
    decidedAt: opt(row.decided_at),
    decisionNote: opt(row.decision_note),
  };
}

/** A row for a chain check: data stays the stored text (see chainCore.js). */
export function storedEvidenceFromRow(row: EvidenceRow): StoredEvidenceRecord {
  return {
    retirementId: row.retirement_id,
    seq: Number(row.seq),
    kind: row.kind as EvidenceKind,
    stepId: opt(row.step_id),
    anchorId: opt(row.anchor_id),
    actor: row.actor,
    at: row.at,
    summary: row.summary,
    dataText: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function evidenceFromRow(row: EvidenceRow): EvidenceRecord {
  const { dataText, ...record } = storedEvidenceFromRow(row);
  return { ...record, data: JSON.parse(dataText) };
}

export function evidenceToRow(record: EvidenceRecord): EvidenceRow {
  return {
    retirement_id: record.retirementId,
    seq: record.seq,
    kind: record.kind,
    step_id: record.stepId ?? null,
    anchor_id: record.anchorId ?? null,
    actor: record.actor,
    at: record.at,
    summary: record.summary,
    // Canonical, as it is hashed: a check hashes the stored text as it is.
    data: canonicalJson(record.data),
    prev_hash: record.prevHash,
    hash: record.hash,
  };
}
