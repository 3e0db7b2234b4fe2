import type { Knex } from 'knex';
import { InputError } from '@backstage/errors';
import type {
  EvidencePage,
  StepStatus,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  EvidenceRow,
  evidenceFromRow,
  exceptionFromRow,
  latestExceptionSql,
  stepJsonRead,
} from './tables';
import { preparedRead } from './dbUtil';

/*
 * Page-by-page reads of what grows with a retirement (its steps, its
 * evidence), so a request costs the same for 5 steps or 5,000: each page is
 * a range of an index (steps: retirement_id, stage; evidence: the primary
 * key retirement_id, seq) and only the page's rows are read and mapped.
 */

/** The steps cursor: the last step's stage and id, opaque to clients. */
export function encodeStepCursor(stage: number, id: string): string {
  return Buffer.from(JSON.stringify([stage, id])).toString('base64url');
}

export function decodeStepCursor(cursor: string): {
  stage: number;
  id: string;
} {
  try {
    const [stage, id] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    );
    if (Number.isInteger(stage) && typeof id === 'string') return { stage, id };
  } catch {
    // fall through
  }
  throw new InputError(
    'cursor must be the nextCursor (or stepsNextCursor) of the previous page',
  );
}

/** A page of steps with its items as the API's JSON text (an array). */
export interface StepPageJson {
  itemsJson: string;
  nextCursor?: string;
}

/**
 * One page of a retirement's steps in stage order (stage, then id), as the
 * API's JSON text: each step with its anchor as planned (stepJsonRead) and its
 * latest exception request, when it has one, added last.
 */
export async function readStepPageJson(
  db: Knex,
  retirementId: string,
  options: { limit: number; cursor?: string; status?: StepStatus[] },
): Promise<StepPageJson> {
  const read = stepJsonRead(db, 's');
  const query = db('nhi_steps as s')
    .where('s.retirement_id', retirementId)
    .orderBy([{ column: 's.stage' }, { column: 's.id' }])
    .limit(options.limit + 1)
    // The cursor's columns, once (PostgreSQL's read selects them too).
    .select(...new Set(['s.id', 's.stage', ...read.columns]), {
      exception_row: latestExceptionSql(db, 's'),
    });
  if (options.status?.length) query.whereIn('s.status', options.status);
  if (options.cursor) {
    const after = decodeStepCursor(options.cursor);
    // A row-value comparison: both databases read it as a range of the
    // (retirement_id, stage, id, ...) index; an OR of the two cases is not.
    query.whereRaw('(??, ??) > (?, ?)', [
      's.stage',
      's.id',
      after.stage,
      after.id,
    ]);
  }
  const rows = await preparedRead<{
    id: string;
    stage: number | string;
    exception_row: string | null;
  }>(db, query);
  const page = rows.slice(0, options.limit);
  const items = page.map(row => {
    const json = read.json(row);
    if (!row.exception_row) return json;
    const exception = exceptionFromRow(JSON.parse(row.exception_row));
    return `${json.slice(0, -1)},"exception":${JSON.stringify(exception)}}`;
  });
  const last = page[page.length - 1];
  return {
    itemsJson: `[${items.join(',')}]`,
    nextCursor:
      rows.length > options.limit
        ? encodeStepCursor(Number(last.stage), last.id)
        : undefined,
  };
}

/** One page of a retirement's evidence, oldest first, after `afterSeq`. */
export async function readEvidencePage(
  db: Knex,
  retirementId: string,
  options: { limit: number; afterSeq?: number },
): Promise<EvidencePage> {
  const query = db<EvidenceRow>('nhi_evidence')
    .where('retirement_id', retirementId)
    .orderBy('seq', 'asc')
    .limit(options.limit + 1);
  if (options.afterSeq !== undefined) query.where('seq', '>', options.afterSeq);
  const rows = await preparedRead<EvidenceRow>(db, query);
  const items = rows.slice(0, options.limit).map(evidenceFromRow);
  return {
    items,
    nextAfterSeq:
      rows.length > options.limit ? items[items.length - 1].seq : undefined,
  };
}
