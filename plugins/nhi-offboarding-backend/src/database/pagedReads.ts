import type { Knex } from 'knex';
import { InputError } from '@backstage/errors';
import type {
  EvidencePage,
  RetirementStepPage,
  StepException,
  StepStatus,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  AnchorRow,
  EvidenceRow,
  ExceptionRow,
  StepRow,
  evidenceFromRow,
  exceptionFromRow,
  stepFromRow,
} from './tables';

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

/** One page of a retirement's steps in stage order (stage, then id). */
export async function readStepPage(
  db: Knex,
  retirementId: string,
  options: { limit: number; cursor?: string; status?: StepStatus[] },
): Promise<RetirementStepPage> {
  const query = db<StepRow>('nhi_steps')
    .where('retirement_id', retirementId)
    .orderBy([{ column: 'stage' }, { column: 'id' }])
    .limit(options.limit + 1);
  if (options.status?.length) query.whereIn('status', options.status);
  if (options.cursor) {
    const after = decodeStepCursor(options.cursor);
    // A row-value comparison: both databases read it as a range of the
    // (retirement_id, stage, id, ...) index; an OR of the two cases is not.
    query.whereRaw('(??, ??) > (?, ?)', ['stage', 'id', after.stage, after.id]);
  }
  const rows = await query;
  const page = rows.slice(0, options.limit);
  const anchorIds = [
    ...new Set(page.map(r => r.anchor_id).filter((x): x is string => !!x)),
  ];
  const stepIds = page.map(r => r.id);
  const [anchorRows, exceptionRows] = await Promise.all([
    // Only what a step shows of its anchor.
    anchorIds.length
      ? db<AnchorRow>('nhi_anchors')
          .whereIn('id', anchorIds)
          .select('id', 'display_name', 'kind', 'provider_id')
      : Promise.resolve(
          [] as Pick<
            AnchorRow,
            'id' | 'display_name' | 'kind' | 'provider_id'
          >[],
        ),
    stepIds.length
      ? db<ExceptionRow>('nhi_exceptions')
          .where('retirement_id', retirementId)
          .whereIn('step_id', stepIds)
          .orderBy('requested_at', 'asc')
      : Promise.resolve([] as ExceptionRow[]),
  ]);
  const anchors = new Map(
    anchorRows.map(a => [
      a.id,
      {
        displayName: a.display_name,
        kind: a.kind as TrustAnchor['kind'],
        providerId: a.provider_id,
      },
    ]),
  );
  // The latest request of a step wins, as in the full read.
  const exceptions = new Map<string, StepException>();
  for (const row of exceptionRows) {
    exceptions.set(row.step_id, exceptionFromRow(row));
  }
  const last = page[page.length - 1];
  return {
    items: page.map(r =>
      stepFromRow(
        r,
        r.anchor_id ? anchors.get(r.anchor_id) : undefined,
        exceptions.get(r.id),
      ),
    ),
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
  const rows = await query;
  const items = rows.slice(0, options.limit).map(evidenceFromRow);
  return {
    items,
    nextAfterSeq:
      rows.length > options.limit ? items[items.length - 1].seq : undefined,
  };
}
