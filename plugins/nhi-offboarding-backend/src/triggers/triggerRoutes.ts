import type { Request, Router } from 'express';
import { z } from 'zod';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import type {
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import type { JsonObject } from '@backstage/types';
import {
  nhiEntityRetirePermission,
  nhiEvidenceReadPermission,
  nhiPlatformReadPermission,
  RETIREMENT_MODES,
  TRIGGER_FIRING_STATUSES,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { parse, parseFullEntityRef, parseId } from '../service/validation';
import type { TriggerService } from './TriggerService';
import type { TriggerStore } from './TriggerStore';
import { publicFiring } from './TriggerService';

const firingsQuery = z
  .object({
    entityRef: z.string().max(512).optional(),
    status: z
      .union([
        z.enum(TRIGGER_FIRING_STATUSES),
        z.array(z.enum(TRIGGER_FIRING_STATUSES)),
      ])
      .optional()
      .transform(s => (s === undefined ? undefined : [s].flat())),
    limit: z.coerce
      .number({ invalid_type_error: 'limit must be a number' })
      .int()
      .min(1, 'limit must be 1 to 200')
      .max(200, 'limit must be 1 to 200')
      .default(50),
  })
  .strict();

const dismissBody = z
  .object({ reason: z.string().trim().min(1).max(2000).optional() })
  .strict();

const scaffolderBody = z
  .object({
    key: z
      .string({ required_error: 'key is required (e.g. the task and step id)' })
      .trim()
      .min(1)
      .max(300),
    entityRef: z.string({ required_error: 'entityRef is required' }).max(512),
    action: z.enum(['retire', 'propose']).default('retire'),
    mode: z.enum(RETIREMENT_MODES, {
      errorMap: () => ({
        message: `mode must be one of: ${RETIREMENT_MODES.join(', ')}`,
      }),
    }),
    reason: z
      .string({ required_error: 'reason is required' })
      .trim()
      .min(1, 'reason is required')
      .max(2000),
    quarantineDays: z.number().int().min(0).max(365).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.mode === 'quarantine' && b.quarantineDays === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['quarantineDays'],
        message: 'quarantineDays is required for a quarantine',
      });
    }
  });

export interface TriggerRouteHelpers {
  allow(
    req: Request,
    permission: BasicPermission | ResourcePermission,
    resourceRef?: string,
  ): Promise<BackstageCredentials>;
  audited<T>(
    req: Request,
    eventId: string,
    meta: JsonObject,
    run: () => Promise<T>,
  ): Promise<T>;
  actorOf(credentials: BackstageCredentials): string;
  /** Absent in routers built without triggers (the OpenAPI route listing). */
  triggers?: { service: TriggerService; store: TriggerStore };
}

/**
 * Trigger firings and proposals: list them, confirm or dismiss a proposal,
 * and fire the scaffolder trigger (`nhi:retire`) on behalf of its user.
 */
export function addTriggerRoutes(router: Router, h: TriggerRouteHelpers) {
  const need = () => {
    if (!h.triggers) throw new NotFoundError('Triggers are not set up');
    return h.triggers;
  };

  router.get('/triggers/firings', async (req, res) => {
    const query = parse(firingsQuery, req.query, 'query');
    const entityRef = query.entityRef
      ? parseFullEntityRef(query.entityRef)
      : undefined;
    if (entityRef) await h.allow(req, nhiEvidenceReadPermission, entityRef);
    else await h.allow(req, nhiPlatformReadPermission);
    const items = await need().store.list({ ...query, entityRef });
    res.json({ items: items.map(publicFiring) });
  });

  router.post('/triggers/scaffolder', async (req, res) => {
    const body = parse(scaffolderBody, req.body, 'scaffolder trigger');
    const entityRef = parseFullEntityRef(body.entityRef);
    const credentials = await h.allow(
      req,
      nhiEntityRetirePermission,
      entityRef,
    );
    const actor = h.actorOf(credentials);
    const { firing, duplicate } = await h.audited(
      req,
      'trigger-scaffolder',
      { entityRef, action: body.action, key: body.key },
      () =>
        need().service.fire({
          key: `scaffolder:${body.key}`,
          trigger: 'scaffolder',
          entityRef,
          action: body.action,
          mode: body.mode,
          reason: body.reason,
          quarantineDays: body.quarantineDays,
          detail: `scaffolder action nhi:retire run by ${actor}`,
          actor,
        }),
    );
    res.status(duplicate ? 200 : 201).json(firing);
  });

  for (const verb of ['confirm', 'dismiss'] as const) {
    router.post(`/triggers/firings/:id/${verb}`, async (req, res) => {
      const id = parseId(req.params.id, 'firing id');
      const body = parse(
        verb === 'dismiss' ? dismissBody : z.object({}).strict(),
        req.body,
        `${verb} request`,
      );
      const firing = await need().service.get(id);
      const credentials = await h.allow(
        req,
        nhiEntityRetirePermission,
        firing.entityRef,
      );
      const actor = h.actorOf(credentials);
      res.json(
        await h.audited(req, `proposal-${verb}`, { firingId: id }, () =>
          verb === 'confirm'
            ? need().service.confirm(id, actor)
            : need().service.dismiss(
                id,
                actor,
                (body as { reason?: string }).reason ?? 'no reason given',
              ),
        ),
      );
    });
  }
}
