import { z } from 'zod';
import { STEP_STATUSES } from '@nhi-offboarding/plugin-nhi-offboarding-common';

/*
 * Query schemas of the paged reads of one retirement (its steps, its
 * evidence). A bad limit or cursor is a 400 that says what is accepted.
 */

/** Steps in the first page of GET /retirements/{id} and the steps default. */
export const STEP_PAGE = 50;
export const EVIDENCE_PAGE = 50;

/**
 * A whole number from the query string. Only a string of digits: a repeated
 * parameter (an array) or `2.5` is refused, where z.coerce would take them.
 */
const wholeNumber = (name: string, min: number, max: number) =>
  z
    .string({ invalid_type_error: `${name} must be given once, as a number` })
    .regex(/^\d{1,9}$/, `${name} must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `${name} must be at least ${min}`)
        .max(max, `${name} must be at most ${max}`),
    );

const limit = (max: number, fallback: number) =>
  wholeNumber('limit', 1, max)
    .optional()
    .transform(v => v ?? fallback);

const cursor = z
  .string({ invalid_type_error: 'cursor must be a string' })
  .regex(
    /^[A-Za-z0-9_-]{1,400}$/,
    'cursor must be the nextCursor (or stepsNextCursor) of the previous page',
  );

export const retirementQuery = z
  .object({
    steps: z
      .enum(['page', 'none', 'all'], {
        errorMap: () => ({
          message:
            'steps must be page (the first page and stepsNextCursor), none or all',
        }),
      })
      .default('page'),
  })
  .strict();

export const stepsQuery = z
  .object({
    limit: limit(500, STEP_PAGE),
    cursor: cursor.optional(),
    status: z
      .union([z.string(), z.array(z.string())])
      .transform(v =>
        (Array.isArray(v) ? v : v.split(','))
          .map(s => s.trim())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z.enum(STEP_STATUSES, {
            errorMap: () => ({
              message: `status must be one or more of: ${STEP_STATUSES.join(
                ', ',
              )}`,
            }),
          }),
        ),
      )
      .optional(),
  })
  .strict();

export const evidenceQuery = z
  .object({
    format: z
      .enum(['json', 'csv', 'export'], {
        errorMap: () => ({
          message:
            'format must be json (a page), csv or export (the whole chain)',
        }),
      })
      .default('json'),
    limit: limit(1000, EVIDENCE_PAGE),
    afterSeq: wholeNumber('afterSeq', 0, 999_999_999).optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    // limit has a default, so only afterSeq can be checked here; the route
    // rejects an explicit limit with a whole-chain format.
    if (q.format !== 'json' && q.afterSeq !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['afterSeq'],
        message: `afterSeq pages the JSON; format=${q.format} is the whole chain`,
      });
    }
  });
