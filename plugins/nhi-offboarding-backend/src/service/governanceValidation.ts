import { z } from 'zod';

/* Request schemas of the governance routes (see validation.ts for the rest). */

const ANCHOR_ID = /^anc_[0-9a-f]{40}$/;

const date = (name: string) =>
  z
    .string({
      required_error: `${name} is required (an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z)`,
      invalid_type_error: `${name} must be an ISO 8601 date-time string`,
    })
    .datetime({
      offset: true,
      message: `${name} must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z`,
    });

const owners = z
  .union([z.string(), z.array(z.string())])
  .transform(v =>
    (Array.isArray(v) ? v : v.split(',')).map(s => s.trim()).filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().max(512, 'each owner must be at most 512 characters'))
      .max(50, 'at most 50 owners at once'),
  );

const limit = (max: number, fallback: number) =>
  z.coerce
    .number({ invalid_type_error: 'limit must be a number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(max, `limit must be at most ${max}`)
    .default(fallback);

export const findingsQuery = z
  .object({
    reason: z
      .enum(['owner-missing', 'owner-group-empty', 'stale', 'unlinked'], {
        errorMap: () => ({
          message:
            'reason must be one of: owner-missing, owner-group-empty, stale, unlinked',
        }),
      })
      .optional(),
    owner: owners.optional(),
    providerId: z
      .string()
      .regex(
        /^[a-z0-9._-]{1,128}$/,
        'providerId must be a provider id such as pg-main',
      )
      .optional(),
    limit: limit(2000, 500),
  })
  .strict();

export const deadlinesQuery = z
  .object({
    breached: z
      .enum(['true', 'false'], {
        errorMap: () => ({ message: 'breached must be true or false' }),
      })
      .optional(),
    from: date('from').optional(),
    to: date('to').optional(),
    limit: limit(500, 100),
  })
  .strict()
  .refine(q => !q.from || !q.to || new Date(q.from) < new Date(q.to), {
    message: 'from must be before to',
  });

export const exportQuery = z
  .object({
    format: z
      .enum(['json', 'csv'], {
        errorMap: () => ({ message: 'format must be json or csv' }),
      })
      .optional(),
  })
  .strict();

export const periodExportQuery = z
  .object({
    from: date('from'),
    to: date('to'),
  })
  .strict()
  .refine(q => new Date(q.from) < new Date(q.to), {
    message: 'from must be before to',
  })
  .refine(
    q =>
      new Date(q.to).getTime() - new Date(q.from).getTime() <=
      366 * 24 * 3600_000,
    { message: 'a period is at most 366 days: export a year at a time' },
  );

export const reassignBody = z
  .object({
    anchorId: z
      .string({
        required_error: 'anchorId is required',
        invalid_type_error: 'anchorId must be a string',
      })
      .regex(
        ANCHOR_ID,
        'anchorId must be a trust anchor id (anc_ and 40 hex digits)',
      ),
    owner: z
      .string({
        required_error: 'owner is required (e.g. group:default/billing-team)',
        invalid_type_error: 'owner must be a string',
      })
      .trim()
      .min(1, 'owner must not be empty')
      .max(512, 'owner must be at most 512 characters'),
  })
  .strict();
