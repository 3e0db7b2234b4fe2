import type {
  AuthService,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { ResponseError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';

/**
 * `nhi:retire`: retires a catalog entity's non-human identity from a
 * template, so create → destroy lifecycles run inside Backstage. Calls the
 * NHI Offboarding REST API on behalf of the template's user (permissions
 * apply to them). A dry run returns the plan and starts nothing. The task
 * and step id are the idempotency key: a re-run step starts no second
 * retirement.
 */
export function createNhiRetireAction(options: {
  discovery: DiscoveryService;
  auth: AuthService;
}) {
  return createTemplateAction({
    id: 'nhi:retire',
    description:
      'Retires the non-human identity of a catalog entity through NHI Offboarding (or proposes it to the owner)',
    supportsDryRun: true,
    schema: {
      input: {
        entityRef: z =>
          z.string().describe('Full entity ref, e.g. component:default/svc'),
        mode: z =>
          z
            .enum(['revoke', 'quarantine'])
            .default('revoke')
            .describe('revoke now, or quarantine first'),
        reason: z => z.string().min(1).describe('Why, for the evidence'),
        quarantineDays: z =>
          z
            .number()
            .int()
            .min(0)
            .max(365)
            .optional()
            .describe('Days of quarantine'),
        propose: z =>
          z
            .boolean()
            .default(false)
            .describe('Only propose: the owner confirms'),
      },
      output: {
        retirementId: z => z.string().optional(),
        status: z => z.string(),
        plannedSteps: z => z.number(),
      },
    },
    async handler(ctx) {
      const base = await options.discovery.getBaseUrl('nhi-offboarding');
      const { token } = await options.auth.getPluginRequestToken({
        onBehalfOf: await ctx.getInitiatorCredentials(),
        targetPluginId: 'nhi-offboarding',
      });
      const call = async (path: string, body: unknown) => {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${token}`,
          },
          body: JSON.stringify(body),
        });
        if (!res.ok) throw await ResponseError.fromResponse(res);
        return res.json();
      };
      const { entityRef, mode, reason, quarantineDays, propose } = ctx.input;
      // A template may pass its quarantine field whatever the mode.
      const quarantine =
        mode === 'quarantine' && quarantineDays !== undefined
          ? { quarantineDays }
          : {};
      const [kindNs, name] = entityRef.split('/');
      const [kind, namespace] = kindNs.split(':');
      if (!kind || !namespace || !name) {
        throw new Error(
          `entityRef "${entityRef}" must be a full ref kind:namespace/name`,
        );
      }

      if (ctx.isDryRun) {
        const plan = await call(
          `/entities/${encodeURIComponent(kind)}/${encodeURIComponent(
            namespace,
          )}/${encodeURIComponent(name)}/plan`,
          { mode, ...quarantine },
        );
        ctx.logger.info(
          `Dry run: retiring ${entityRef} would run ${plan.steps.length} step(s) on ${plan.anchors.length} trust anchor(s)`,
        );
        ctx.output('status', 'dry-run');
        ctx.output('plannedSteps', plan.steps.length);
        return;
      }

      const firing = await call('/triggers/scaffolder', {
        key: `${ctx.task.id}:${ctx.step?.id ?? 'nhi-retire'}`,
        entityRef,
        action: propose ? 'propose' : 'retire',
        mode,
        reason,
        ...quarantine,
      });
      if (firing.status === 'skipped' || firing.status === 'rejected') {
        throw new Error(
          `Retirement of ${entityRef} not started: ${firing.detail}`,
        );
      }
      let plannedSteps = 0;
      if (firing.retirementId) {
        // steps=none: the progress counts say how many there are.
        const res = await fetch(
          `${base}/retirements/${encodeURIComponent(
            firing.retirementId,
          )}?steps=none`,
          { headers: { Authorization: `Bearer ${token}` } },
        );
        if (res.ok) plannedSteps = (await res.json()).progress?.total ?? 0;
        ctx.output('retirementId', firing.retirementId);
      }
      ctx.logger.info(
        `Retirement of ${entityRef}: ${firing.status}${
          firing.retirementId ? ` (${firing.retirementId})` : ''
        }`,
      );
      ctx.output('status', firing.status);
      ctx.output('plannedSteps', plannedSteps);
    },
  });
}
