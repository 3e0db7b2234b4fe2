import type { Request } from 'express';
import type Router from 'express-promise-router';
import type { JsonObject } from '@backstage/types';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type {
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  nhiEvidenceReadPermission,
  nhiPlatformReadPermission,
  nhiRetirementOperatePermission,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { NotFoundError } from '@backstage/errors';
import type { RetirementStore } from '../database/RetirementStore';
import type { ReverificationSweep } from '../drift/ReverificationSweep';
import {
  buildPeriodExport,
  buildRetirementExport,
  retirementExportToCsv,
} from '../evidence/export/buildExport';
import type { GovernanceService } from '../governance/GovernanceService';
import {
  deadlinesQuery,
  exportQuery,
  findingsQuery,
  periodExportQuery,
  reassignBody,
} from './governanceValidation';
import { emptyBody, parse, parseOwnerRef } from './validation';

/** The period export holds at most this many retirements (it says so when cut). */
const PERIOD_EXPORT_CAP = 500;

export interface GovernanceRouteDeps {
  store: RetirementStore;
  governance: GovernanceService;
  reverification: ReverificationSweep;
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
  retirementFor(req: Request): Promise<{ id: string; entityRef: string }>;
  actorOf(credentials: BackstageCredentials): string;
}

/**
 * Governance routes (see ../schema/openapi.yaml): drift re-verification,
 * orphaned/stale/unlinked anchors, time-to-revoke deadlines, ownership of
 * shared anchors and the audit exports.
 */
export function addGovernanceRoutes(
  router: ReturnType<typeof Router>,
  deps: GovernanceRouteDeps,
): void {
  const { store, governance, allow, audited, retirementFor, actorOf } = deps;

  const load = async (id: string) => {
    const retirement = await store.getRetirement(id, { withSteps: true });
    if (!retirement) throw new NotFoundError(`No retirement with id ${id}`);
    return retirement;
  };

  router.get('/retirements/:id/governance', async (req, res) => {
    parse(emptyBody, req.query, 'query');
    const r = await retirementFor(req);
    await allow(req, nhiEvidenceReadPermission, r.entityRef);
    const retirement = await load(r.id);
    const [deadline] = await governance.deadlinesOf([retirement], new Date());
    res.json({
      deadline,
      lastReverifiedAt: retirement.lastReverifiedAt,
      driftDetectedAt: retirement.driftDetectedAt,
      ownership: await governance.ownershipProposals(retirement),
    });
  });

  router.post('/retirements/:id/reverify', async (req, res) => {
    parse(emptyBody, req.body, 're-verification request');
    const r = await retirementFor(req);
    await allow(req, nhiRetirementOperatePermission, r.entityRef);
    const verdict = await audited(
      req,
      'retirement-reverify',
      { retirementId: r.id },
      () => deps.reverification.reverify(r.id),
    );
    res.json({ verdict, retirement: await load(r.id) });
  });

  router.post('/retirements/:id/ownership', async (req, res) => {
    const body = parse(reassignBody, req.body, 'ownership reassignment');
    const owner = parseOwnerRef(body.owner);
    const r = await retirementFor(req);
    const credentials = await allow(
      req,
      nhiRetirementOperatePermission,
      r.entityRef,
    );
    const retirement = await load(r.id);
    const items = await audited(
      req,
      'ownership-reassign',
      { retirementId: r.id, anchorId: body.anchorId, owner },
      () =>
        governance.reassign(
          retirement,
          { anchorId: body.anchorId, owner },
          actorOf(credentials),
          new Date(),
        ),
    );
    res.json({ items });
  });

  router.get('/retirements/:id/export', async (req, res) => {
    const query = parse(exportQuery, req.query, 'query');
    const r = await retirementFor(req);
    const credentials = await allow(
      req,
      nhiEvidenceReadPermission,
      r.entityRef,
    );
    const now = new Date();
    const retirement = await load(r.id);
    const [deadline] = await governance.deadlinesOf([retirement], now);
    const exported = buildRetirementExport({
      retirement,
      deadline,
      records: await store.getEvidence(r.id),
      exportedBy: actorOf(credentials),
      now,
    });
    if (query.format === 'csv') {
      res
        .type('text/csv')
        .attachment(`nhi-evidence-export-${r.id}.csv`)
        .send(retirementExportToCsv(exported));
      return;
    }
    res.attachment(`nhi-evidence-export-${r.id}.json`).json(exported);
  });

  router.get('/export', async (req, res) => {
    const query = parse(periodExportQuery, req.query, 'query');
    const credentials = await allow(req, nhiPlatformReadPermission);
    const from = new Date(query.from);
    const to = new Date(query.to);
    const now = new Date();
    const retirements = await governance.retirementsIn(
      from,
      to,
      PERIOD_EXPORT_CAP + 1,
    );
    const kept = retirements.slice(0, PERIOD_EXPORT_CAP);
    const deadlines = await governance.deadlinesOf(kept, now);
    const exports = [];
    for (let i = 0; i < kept.length; i++) {
      exports.push(
        buildRetirementExport({
          retirement: kept[i],
          deadline: deadlines[i],
          records: await store.getEvidence(kept[i].id),
          exportedBy: actorOf(credentials),
          now,
        }),
      );
    }
    res
      .attachment(
        `nhi-evidence-export-${query.from.slice(0, 10)}-${query.to.slice(
          0,
          10,
        )}.json`,
      )
      .json(
        buildPeriodExport({
          exports,
          from,
          to,
          objectiveMs: governance.options.timeToRevokeMs,
          truncated: retirements.length > PERIOD_EXPORT_CAP,
          exportedBy: actorOf(credentials),
          now,
        }),
      );
  });

  router.get('/governance/anchors', async (req, res) => {
    const query = parse(findingsQuery, req.query, 'query');
    await allow(req, nhiPlatformReadPermission);
    res.json(
      await governance.findings(
        {
          reason: query.reason,
          owners: query.owner?.map(parseOwnerRef),
          providerId: query.providerId,
          limit: query.limit,
        },
        new Date(),
      ),
    );
  });

  router.get('/governance/deadlines', async (req, res) => {
    const query = parse(deadlinesQuery, req.query, 'query');
    await allow(req, nhiPlatformReadPermission);
    res.json({
      objectiveMs: governance.options.timeToRevokeMs,
      items: await governance.deadlines(
        {
          breachedOnly: query.breached === 'true',
          from: query.from ? new Date(query.from) : undefined,
          to: query.to ? new Date(query.to) : undefined,
          limit: query.limit,
        },
        new Date(),
      ),
    });
  });
}
