import express, { Request } from 'express';
import type { JsonObject } from '@backstage/types';
import Router from 'express-promise-router';
import type {
  AuditorService,
  AuthService,
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  AuthorizeResult,
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import {
  EvidenceVerification,
  nhiAnchorsReadPermission,
  nhiEntityRetirePermission,
  nhiEvidenceReadPermission,
  nhiExceptionApprovePermission,
  nhiLegalHoldPermission,
  nhiPlatformReadPermission,
  nhiRetirementOperatePermission,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import type { AnchorDiscovery } from '../discovery/AnchorDiscovery';
import type { ProviderRegistry } from '../providers/ProviderRegistry';
import { evidenceToCsv } from '../evidence';
import type { RetirementService } from './RetirementService';
import { residualAccessPageJson } from './residualAccess';
import { CatalogLookupCache } from './catalogLookupCache';
import type { GovernanceService } from '../governance/GovernanceService';
import type { ReverificationSweep } from '../drift/ReverificationSweep';
import { addGovernanceRoutes } from './governanceRoutes';
import { refusalForService } from './serviceCallers';
import {
  addTriggerRoutes,
  TriggerRouteHelpers,
} from '../triggers/triggerRoutes';
import {
  anchorsQuery,
  attestBody,
  cancelBody,
  createBody,
  decisionBody,
  emptyBody,
  exceptionBody,
  exceptionsQuery,
  residualAccessQuery,
  holdBody,
  liftHoldBody,
  listQuery,
  parse,
  parseFullEntityRef,
  parseId,
  parseOwnerRef,
  planBody,
  releaseBody,
} from './validation';
import { RetirementReads } from './RetirementReads';
import { RecentPages } from './RecentPages';
import { SharedChecks } from './SharedChecks';
import { TaggedText, tagged } from './entityTags';
import { TaggedBodies, notModified, sendJsonBody } from './TaggedBodies';
import { evidenceQuery, retirementQuery, stepsQuery } from './pagingValidation';

export interface RouterOptions {
  httpAuth: HttpAuthService;
  auth: AuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  catalog: CatalogService;
  store: RetirementStore;
  discovery: AnchorDiscovery;
  service: RetirementService;
  providers: ProviderRegistry;
  retiredLifecycles: string[];
  /**
   * How long a computed page of residual access is given to other readers,
   * in milliseconds (0: computed on every request). Default 5000.
   */
  residualAccessCacheMs?: number;
  /**
   * How long a computed page of the retirement list not filtered to one
   * entity is given to other readers, in milliseconds (0: computed on every
   * request). Default 2000.
   */
  retirementListCacheMs?: number;
  governance: GovernanceService;
  reverification: ReverificationSweep;
  /** Trigger firings and proposals (routes under /triggers). */
  triggers?: TriggerRouteHelpers['triggers'];
}

/** Sends JSON text built by RetirementReads (what res.json would send). */
function sendJson(res: express.Response, json: string): void {
  res.type('application/json').send(json);
}

/**
 * Pages given to every reader allowed to read them for `ttlMs`, each hashed
 * once for its ETag when computed (express would hash it for every reader).
 */
function sharedPages(ttlMs: number): RecentPages<TaggedText> {
  return new RecentPages<TaggedText>(
    ttlMs,
    undefined,
    undefined,
    page => page.text.length,
  );
}

/** Who did it, as written in the evidence. */
function actorOf(credentials: BackstageCredentials): string {
  const p = credentials.principal as {
    type?: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (p.type === 'user' && p.userEntityRef) return p.userEntityRef;
  if (p.type === 'service' && p.subject) return `service:${p.subject}`;
  return 'unknown';
}

/**
 * The REST API (see ../schema/openapi.yaml). Each handler validates its
 * input, checks the permission, and calls the service; nothing else.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const {
    httpAuth,
    permissions,
    auditor,
    store,
    discovery,
    service,
    providers,
  } = options;
  const router = Router();
  const reads = new RetirementReads(store);
  const bodies = new TaggedBodies();
  const sendTagged = bodies.send.bind(bodies);
  const listPages = sharedPages(options.retirementListCacheMs ?? 2_000);
  router.use(express.json({ limit: '64kb' }));
  router.use((req, _res, next) => {
    const hasBody =
      Number(req.headers['content-length'] ?? 0) > 0 ||
      req.headers['transfer-encoding'];
    if (
      ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method) &&
      hasBody &&
      !req.is('application/json')
    ) {
      next(
        Object.assign(
          new Error(
            'Send the request body as JSON (Content-Type: application/json)',
          ),
          {
            name: 'UnsupportedMediaTypeError',
            statusCode: 415,
          },
        ),
      );
      return;
    }
    next();
  });

  /**
   * The caller, if the policy allows `permission` (on `resourceRef`).
   * With `visibleInCatalog` the same authorize call asks the catalog's own
   * read rule on the entity too, for a user; an entity the catalog would
   * not show the user is answered as the catalog answers it: not found.
   * (Services pass the policy, and a token restricted to this plugin's
   * permissions is not thereby barred from the entities it works on.)
   */
  async function allow(
    req: Request,
    permission: BasicPermission | ResourcePermission,
    resourceRef?: string,
    check: { visibleInCatalog?: boolean } = {},
  ): Promise<BackstageCredentials> {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const serviceRefusal = refusalForService(credentials, permission);
    if (serviceRefusal) throw new NotAllowedError(serviceRefusal);
    const [decision, catalogRead] = await permissions.authorize(
      [
        resourceRef
          ? { permission: permission as ResourcePermission, resourceRef }
          : { permission: permission as BasicPermission },
        ...(resourceRef &&
        check.visibleInCatalog &&
        options.auth.isPrincipal(credentials, 'user')
          ? [{ permission: catalogEntityReadPermission, resourceRef }]
          : []),
      ],
      { credentials },
    );
    if (catalogRead && catalogRead.result !== AuthorizeResult.ALLOW) {
      throw new NotFoundError(`${resourceRef} is not in the catalog`);
    }
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You are not allowed to do this${
          resourceRef ? ` for ${resourceRef}` : ''
        } (permission ${
          permission.name
        }); ask the entity's owners or the platform team`,
      );
    }
    return credentials;
  }

  /** Runs a change and reports it to Backstage's auditor, success or failure. */
  async function audited<T>(
    req: Request,
    eventId: string,
    meta: JsonObject,
    run: () => Promise<T>,
  ): Promise<T> {
    const event = await auditor.createEvent({
      eventId,
      severityLevel: 'medium',
      request: req,
      meta,
    });
    try {
      const result = await run();
      await event.success();
      return result;
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  }

  const entityRefFromPath = (req: Request) =>
    parseFullEntityRef(
      `${req.params.kind}:${req.params.namespace}/${req.params.name}`,
    );

  /** The retirement's id and entity, for the permission check (one small query). */
  async function retirementFor(req: Request) {
    const id = parseId(req.params.id, 'retirement id');
    const entityRef = await reads.entityRefOf(id);
    if (!entityRef) throw new NotFoundError(`No retirement with id ${id}`);
    return { id, entityRef };
  }

  /** The retirement's row with its marks (see RetirementReads), or 404. */
  async function markedFor(req: Request) {
    const id = parseId(req.params.id, 'retirement id');
    const marked = await reads.marked(id);
    if (!marked) throw new NotFoundError(`No retirement with id ${id}`);
    return marked;
  }

  addTriggerRoutes(router, {
    allow,
    audited,
    actorOf,
    triggers: options.triggers,
  });

  // ---- entities ----------------------------------------------------------

  router.get(
    '/entities/:kind/:namespace/:name/trust-anchors',
    async (req, res) => {
      const query = parse(anchorsQuery, req.query, 'query');
      const entityRef = entityRefFromPath(req);
      // Stored anchors need only the permission decisions (the catalog's
      // read rule among them: no catalog round trip); discovering needs the
      // entity itself, fetched with the caller's credentials.
      const credentials = await allow(
        req,
        nhiAnchorsReadPermission,
        entityRef,
        {
          visibleInCatalog: true,
        },
      );
      const anchors = await service.anchorsRead(
        entityRef,
        query.refresh === 'true',
        () => discovery.getEntity(entityRef, credentials),
      );
      if (anchors.etag) await sendTagged(req, res, anchors.etag, anchors.text);
      else sendJson(res, await anchors.text());
    },
  );

  router.post('/entities/:kind/:namespace/:name/plan', async (req, res) => {
    const body = parse(planBody, req.body, 'plan request');
    const entityRef = entityRefFromPath(req);
    const credentials = await allow(req, nhiAnchorsReadPermission, entityRef);
    const entity = await discovery.getEntity(entityRef, credentials);
    res.json(await service.plan(entity, body.mode));
  });

  // ---- retirements -------------------------------------------------------

  router.post('/retirements', async (req, res) => {
    const body = parse(createBody, req.body, 'retirement request');
    const entityRef = parseFullEntityRef(body.entityRef);
    const credentials = await allow(req, nhiEntityRetirePermission, entityRef);
    const entity = await discovery.getEntity(entityRef, credentials);
    const retirement = await audited(
      req,
      'retirement-start',
      { entityRef, mode: body.mode },
      () => service.start({ ...body, entity, actor: actorOf(credentials) }),
    );
    res.status(201).json(retirement);
  });

  router.get('/retirements', async (req, res) => {
    const query = parse(listQuery, req.query, 'query');
    const entityRef = query.entityRef
      ? parseFullEntityRef(query.entityRef)
      : undefined;
    const owner = query.owner ? parseOwnerRef(query.owner) : undefined;
    if (entityRef) {
      // An entity's own retirements (its Retire tab): always read now.
      await allow(req, nhiEvidenceReadPermission, entityRef);
      sendJson(res, await reads.listJson({ ...query, entityRef, owner }));
      return;
    }
    await allow(req, nhiPlatformReadPermission);
    // The platform list is the same for every caller allowed to read it:
    // readers share a page for a moment instead of each reading the marks of
    // every retirement on it again (one retirement's own reads stay exact).
    const key = JSON.stringify([
      query.limit,
      query.cursor ?? '',
      owner ?? '',
      query.kind?.toLocaleLowerCase('en-US') ?? '',
      [...(query.status ?? [])].sort(),
    ]);
    const page = await listPages.get(key, () =>
      reads.listJson({ ...query, owner }).then(tagged),
    );
    await sendTagged(req, res, page.etag, async () => page.text);
  });

  router.get('/retirements/:id', async (req, res) => {
    const query = parse(retirementQuery, req.query, 'query');
    // The row read for the answer also names the entity the permission is
    // checked on; nothing is sent before the check.
    const marked = await markedFor(req);
    await allow(req, nhiEvidenceReadPermission, marked.row.entity_ref);
    if (query.steps === 'all') {
      res.json(await store.getRetirement(marked.row.id, { withSteps: true }));
      return;
    }
    const steps = query.steps;
    await sendTagged(req, res, reads.retirementEtag(marked, steps), () =>
      reads.retirementJson(marked, steps),
    );
  });

  router.get('/retirements/:id/steps', async (req, res) => {
    const query = parse(stepsQuery, req.query, 'query');
    const marked = await markedFor(req);
    await allow(req, nhiEvidenceReadPermission, marked.row.entity_ref);
    await sendTagged(req, res, reads.stepsEtag(marked, query), () =>
      reads.stepsPageJson(marked, query),
    );
  });

  router.post('/retirements/:id/cancel', async (req, res) => {
    const body = parse(cancelBody, req.body, 'cancel request');
    const r = await retirementFor(req);
    const credentials = await allow(
      req,
      nhiRetirementOperatePermission,
      r.entityRef,
    );
    res.json(
      await audited(req, 'retirement-cancel', { retirementId: r.id }, () =>
        service.cancel(
          r.id,
          actorOf(credentials),
          body.reason ?? 'no reason given',
        ),
      ),
    );
  });

  router.post('/retirements/:id/retry', async (req, res) => {
    parse(emptyBody, req.body, 'retry request');
    const r = await retirementFor(req);
    const credentials = await allow(
      req,
      nhiRetirementOperatePermission,
      r.entityRef,
    );
    res.json(
      await audited(req, 'retirement-retry', { retirementId: r.id }, () =>
        service.retry(r.id, actorOf(credentials)),
      ),
    );
  });

  router.post('/retirements/:id/release', async (req, res) => {
    const body = parse(releaseBody, req.body, 'release request');
    const r = await retirementFor(req);
    const credentials = await allow(
      req,
      nhiRetirementOperatePermission,
      r.entityRef,
    );
    res.json(
      await audited(
        req,
        'retirement-release',
        { retirementId: r.id, outcome: body.outcome ?? 'revoke' },
        () =>
          service.release(r.id, actorOf(credentials), body.outcome ?? 'revoke'),
      ),
    );
  });

  router.post('/retirements/:id/hold', async (req, res) => {
    const body = parse(holdBody, req.body, 'legal hold');
    const r = await retirementFor(req);
    const credentials = await allow(req, nhiLegalHoldPermission);
    res.json(
      await audited(
        req,
        'retirement-hold',
        { retirementId: r.id, hold: true },
        () => service.setHold(r.id, actorOf(credentials), true, body.reason),
      ),
    );
  });

  router.delete('/retirements/:id/hold', async (req, res) => {
    const body = parse(liftHoldBody, req.body, 'legal hold');
    const r = await retirementFor(req);
    const credentials = await allow(req, nhiLegalHoldPermission);
    res.json(
      await audited(
        req,
        'retirement-hold',
        { retirementId: r.id, hold: false },
        () =>
          service.setHold(r.id, actorOf(credentials), false, body.reason ?? ''),
      ),
    );
  });

  router.post('/retirements/:id/steps/:stepId/exception', async (req, res) => {
    const body = parse(exceptionBody, req.body, 'exception request');
    const r = await retirementFor(req);
    const stepId = parseId(req.params.stepId, 'step id');
    const expiresAt = new Date(body.expiresAt);
    if (expiresAt <= new Date()) {
      throw new InputError(
        'expiresAt must be in the future: an exception needs an end',
      );
    }
    const credentials = await allow(
      req,
      nhiRetirementOperatePermission,
      r.entityRef,
    );
    const exception = await audited(
      req,
      'exception-request',
      { retirementId: r.id, stepId },
      () =>
        service.requestException({
          retirementId: r.id,
          stepId,
          justification: body.justification,
          expiresAt,
          actor: actorOf(credentials),
        }),
    );
    res.status(201).json(exception);
  });

  for (const decision of ['approve', 'reject'] as const) {
    router.post(
      `/retirements/:id/steps/:stepId/exception/${decision}`,
      async (req, res) => {
        const body = parse(decisionBody, req.body, `exception ${decision}`);
        const r = await retirementFor(req);
        const stepId = parseId(req.params.stepId, 'step id');
        const credentials = await allow(req, nhiExceptionApprovePermission);
        res.json(
          await audited(
            req,
            `exception-${decision}`,
            { retirementId: r.id, stepId },
            () =>
              service.decideException({
                retirementId: r.id,
                stepId,
                approve: decision === 'approve',
                note: body.note ?? '',
                actor: actorOf(credentials),
              }),
          ),
        );
      },
    );
  }

  router.post('/retirements/:id/steps/:stepId/attest', async (req, res) => {
    const body = parse(attestBody, req.body, 'attestation');
    const r = await retirementFor(req);
    const stepId = parseId(req.params.stepId, 'step id');
    const credentials = await allow(
      req,
      nhiRetirementOperatePermission,
      r.entityRef,
    );
    res.json(
      await audited(req, 'step-attest', { retirementId: r.id, stepId }, () =>
        service.attest({
          retirementId: r.id,
          stepId,
          note: body.note,
          actor: actorOf(credentials),
        }),
      ),
    );
  });

  // ---- evidence ----------------------------------------------------------

  router.get('/retirements/:id/evidence', async (req, res) => {
    const query = parse(evidenceQuery, req.query, 'query');
    if (query.format !== 'json' && req.query.limit !== undefined) {
      throw new InputError(
        `Invalid query: limit pages the JSON; format=${query.format} is the whole chain`,
      );
    }
    const r = await retirementFor(req);
    await allow(req, nhiEvidenceReadPermission, r.entityRef);
    if (query.format === 'json') {
      // A complete page never changes: a client holding it gets a 304
      // without the page being read, and its body is kept under its tag.
      // The last page still grows; express tags it by its content.
      const etag = reads.evidencePageEtag(r.id, query);
      if (notModified(req, res, etag)) return;
      const kept = bodies.get(etag);
      if (kept) {
        sendJsonBody(res, kept);
        return;
      }
      const page = await reads.evidencePageJson(r.id, query);
      if (page.complete) {
        sendJsonBody(res, bodies.keep(etag, page.text));
        return;
      }
      res.removeHeader('ETag');
      sendJson(res, page.text);
      return;
    }
    const items = await store.getEvidence(r.id);
    if (query.format === 'csv') {
      res
        .type('text/csv')
        .attachment(`nhi-evidence-${r.id}.csv`)
        .send(evidenceToCsv(items));
      return;
    }
    res.json({ items });
  });

  // Readers of one chain share a check that started after they asked
  // (SharedChecks): the Evidence panel verifies on every refresh.
  const verifications = new SharedChecks<EvidenceVerification>();

  router.get('/retirements/:id/evidence/verify', async (req, res) => {
    const r = await retirementFor(req);
    await allow(req, nhiEvidenceReadPermission, r.entityRef);
    res.json(await verifications.run(r.id, () => store.verifyEvidence(r.id)));
  });

  // ---- platform views ----------------------------------------------------

  const catalogLookups = new CatalogLookupCache();
  // A page is the same for every caller allowed to read it (the catalog is
  // asked with the plugin's own credentials), and it is built from catalog
  // answers up to 30 s old anyway: readers of the platform page share it
  // for a few seconds instead of each scanning the live anchors again.
  const residualPages = sharedPages(options.residualAccessCacheMs ?? 5_000);

  router.get('/residual-access', async (req, res) => {
    const query = parse(residualAccessQuery, req.query, 'query');
    await allow(req, nhiPlatformReadPermission);
    const page = await residualPages.get(
      `${query.limit}|${query.cursor ?? ''}`,
      () =>
        residualAccessPageJson({
          store,
          catalog: options.catalog,
          auth: options.auth,
          retiredLifecycles: options.retiredLifecycles,
          limit: query.limit,
          cursor: query.cursor,
          cache: catalogLookups,
        }).then(tagged),
    );
    await sendTagged(req, res, page.etag, async () => page.text);
  });

  router.get('/exceptions', async (req, res) => {
    const query = parse(exceptionsQuery, req.query, 'query');
    await allow(req, nhiPlatformReadPermission);
    res.json({ items: await store.listExceptions(query.status) });
  });

  router.get('/stats', async (req, res) => {
    parse(emptyBody, req.query, 'query');
    await allow(req, nhiPlatformReadPermission);
    res.json(await store.stats(new Date()));
  });

  router.get('/providers', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    res.json({ items: providers.info() });
  });

  addGovernanceRoutes(router, {
    store,
    governance: options.governance,
    reverification: options.reverification,
    allow,
    audited,
    retirementFor,
    actorOf,
  });

  // Anything else is not part of the API (evidence in particular cannot be
  // changed or deleted): say so instead of an empty 404.
  router.use(req => {
    throw new NotFoundError(
      `${req.method} ${req.path} is not an endpoint of the NHI Offboarding API; see its OpenAPI description`,
    );
  });

  return router;
}
