import { z } from 'zod';
import { RETIREMENT_MODES } from '@nhi-offboarding/plugin-nhi-offboarding-common';

/**
 * The payload of an event on the retire topic (README: "Event trigger").
 * `id` is the sender's idempotency key: the same (source, id) delivered
 * twice starts one retirement.
 */
export const retireEventPayload = z
  .object({
    id: z.string().trim().min(1).max(200),
    source: z
      .string()
      .trim()
      .regex(/^[a-zA-Z0-9._-]{1,64}$/, 'source: letters, digits, . _ - only')
      .default('external'),
    entityRef: z
      .string()
      .trim()
      .regex(
        /^[a-zA-Z0-9._-]+:[a-zA-Z0-9._-]+\/[a-zA-Z0-9._-]+$/,
        'entityRef must be a full ref kind:namespace/name',
      ),
    reason: z.string().trim().min(1).max(2000),
    action: z.enum(['retire', 'propose']).optional(),
    mode: z.enum(RETIREMENT_MODES).optional(),
    quarantineDays: z.number().int().min(0).max(365).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.mode === 'quarantine' && p.quarantineDays === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['quarantineDays'],
        message: 'quarantineDays is required with mode quarantine',
      });
    }
  });

export type RetireEventPayload = z.infer<typeof retireEventPayload>;
