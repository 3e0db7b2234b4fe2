import { z } from 'zod';
import { InputError } from '@backstage/errors';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  RETIREMENT_MODES,
  RETIREMENT_STATUSES,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/*
 * Request schemas. Every request is parsed here before anything is read or
 * written; a failure becomes a 400 that names the field and what it needs.
 */

const text = (name: string, max: number) =>
  z
    .string({
      required_error: `${name} is required`,
      invalid_type_error: `${name} must be a string`,
    })
    .trim()
    .min(1, `${name} must not be empty`)
    .max(max, `${name} must be at most ${max} characters`);

const mode = z.enum(RETIREMENT_MODES, {
  errorMap: () => ({
    message: `mode must be one of: ${RETIREMENT_MODES.join(', ')}`,
  }),
});

const quarantineDays = z
  .number({ invalid_type_error: 'quarantineDays must be a number of days' })
  .int('quarantineDays must be a whole number of days')
  .min(0, 'quarantineDays must be 0 or more')
  .max(365, 'quarantineDays must be at most 365');

export const planBody = z
  .object({ mode, quarantineDays: quarantineDays.optional() })
  .strict();

export const createBody = z
  .object({
    entityRef: text('entityRef', 512),
    mode,
    reason: text('reason', 2000),
    quarantineDays: quarantineDays.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.mode === 'quarantine' && body.quarantineDays === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['quarantineDays'],
        message:
          'quarantineDays is required for a quarantine (how long to wait before the final revoke)',
      });
    }
    if (body.mode === 'revoke' && body.quarantineDays !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['quarantineDays'],
        message: 'quarantineDays only applies to mode "quarantine"',
      });
    }
  });

export const cancelBody = z
  .object({ reason: text('reason', 2000).optional() })
  .strict();
export const emptyBody = z.object({}).strict();
export const releaseBody = z
  .object({
    outcome: z
      .enum(['revoke', 'restore'], {
        errorMap: () => ({
          message:
            'outcome must be "revoke" (end the quarantine now and revoke for good) or "restore" (re-enable and stop)',
        }),
      })
      .optional(),
  })
  .strict();
export const holdBody = z.object({ reason: text('reason', 2000) }).strict();
export const liftHoldBody = z
  .object({ reason: text('reason', 2000).optional() })
  .strict();
export const exceptionBody = z
  .object({
    justification: text('justification', 4000),
    expiresAt: z
      .string({
        required_error: 'expiresAt is required',
        invalid_type_error: 'expiresAt must be an ISO 8601 date-time string',
      })
      .datetime({
        offset: true,
        message:
          'expiresAt must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z',
      }),
  })
  .strict();
export const decisionBody = z
  .object({ note: text('note', 4000).optional() })
  .strict();
export const attestBody = z.object({ note: text('note', 4000) }).strict();

export const listQuery = z
  .object({
    entityRef: text('entityRef', 512).optional(),
    owner: text('owner', 512).optional(),
    kind: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9]{0,62}$/,
        'kind must be an entity kind such as component',
      )
      .optional(),
    status: z
      .union([z.string(), z.array(z.string())])
      .transform(v =>
        (Array.isArray(v) ? v : v.split(','))
          .map(s => s.trim())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z.enum(RETIREMENT_STATUSES, {
            errorMap: () => ({
              message: `status must be one or more of: ${RETIREMENT_STATUSES.join(
                ', ',
              )}`,
            }),
          }),
        ),
      )
      .optional(),
    limit: z.coerce
      .number({ invalid_type_error: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(500, 'limit must be at most 500')
      .default(50),
    cursor: text('cursor', 1000).optional(),
  })
  .strict();

export const anchorsQuery = z
  .object({
    refresh: z
      .enum(['true', 'false'], {
        errorMap: () => ({ message: 'refresh must be true or false' }),
      })
      .optional(),
  })
  .strict();

export const residualAccessQuery = z
  .object({
    limit: z.coerce
      .number({ invalid_type_error: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(5000, 'limit must be at most 5000')
      .default(5000),
    cursor: z
      .string()
      .regex(
        /^anc_[0-9a-f]{1,64}$/,
        'cursor must be the nextCursor of the previous page',
      )
      .optional(),
  })
  .strict();

export const exceptionsQuery = z
  .object({
    status: z
      .enum(['requested', 'approved', 'rejected'], {
        errorMap: () => ({
          message: 'status must be requested, approved or rejected',
        }),
      })
      .optional(),
  })
  .strict();

const ID_PATTERN = /^[a-z]{3}_[0-9a-f-]{36}$/;

/** Ids this API hands out; anything else cannot exist. */
export function parseId(value: string, what: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new InputError(`${what} "${value.slice(0, 80)}" is not a valid id`);
  }
  return value;
}

/** A full entity ref (kind:namespace/name), normalised. */
export function parseFullEntityRef(value: string): string {
  try {
    const ref = parseEntityRef(value);
    return stringifyEntityRef(ref);
  } catch (error) {
    throw new InputError(
      `entityRef "${value.slice(
        0,
        80,
      )}" is not an entity ref: use kind:namespace/name, e.g. component:default/payments-api`,
    );
  }
}

/** An owner as people type it: `payments-team` means group:default/payments-team. */
export function parseOwnerRef(value: string): string {
  try {
    return stringifyEntityRef(
      parseEntityRef(value, {
        defaultKind: 'group',
        defaultNamespace: 'default',
      }),
    );
  } catch {
    throw new InputError(
      `owner "${value.slice(
        0,
        80,
      )}" is not an entity ref: use e.g. group:default/payments-team or payments-team`,
    );
  }
}

export function parse<T extends z.ZodTypeAny>(
  schema: T,
  value: unknown,
  where: string,
): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const details = result.error.issues
      .map(i =>
        i.code === 'unrecognized_keys'
          ? `unknown field(s) ${i.keys.join(', ')}`
          : i.message,
      )
      .join('; ');
    throw new InputError(`Invalid ${where}: ${details}`);
  }
  return result.data;
}
