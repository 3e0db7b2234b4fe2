/*
 * The authorization matrix: every operation of the NHI Offboarding OpenAPI
 * description × every kind of caller, with the status each cell must get.
 * The expectations follow docs/authorization.md ("Who may do what").
 */
import fs from 'node:fs';
import path from 'node:path';
import { root, requireFromRoot, waitFor } from './backendProcess.mjs';

const YAML = requireFromRoot('yaml');

/** The callers, in the order each row tries them (denied ones first). */
export const IDENTITIES = [
  'anonymous',
  'otherTeam',
  'service',
  'owner',
  'platform',
];

export const IDENTITY_LABELS = {
  anonymous: 'anonymous (no token)',
  otherTeam: 'other team (dmitri.volkov, data-team)',
  owner: 'owner (alice, payments-team)',
  platform: 'platform admin (priya.sharma, platform-team)',
  service: 'service token (static, subject matrix-ci)',
};

/** `METHOD /path` of every operation in openapi.yaml. */
export function openApiOperations() {
  const spec = YAML.parse(
    fs.readFileSync(
      path.join(
        root,
        'plugins/nhi-offboarding-backend/src/schema/openapi.yaml',
      ),
      'utf8',
    ),
  );
  const methods = ['get', 'post', 'put', 'patch', 'delete'];
  return Object.entries(spec.paths).flatMap(([p, item]) =>
    methods.filter(m => item[m]).map(m => `${m.toUpperCase()} ${p}`),
  );
}

// Expected cells. READ: every signed-in caller; OWNER_CHANGE: the entity's
// owners and the platform team; PLATFORM_ONLY: the platform team.
const READ = {
  anonymous: 401,
  otherTeam: 200,
  owner: 200,
  platform: 200,
  service: 200,
};
const OWNER_CHANGE = (ok = 200) => ({
  anonymous: 401,
  otherTeam: 403,
  owner: ok,
  platform: ok,
  service: 403,
});
const PLATFORM_ONLY = {
  anonymous: 401,
  otherTeam: 403,
  owner: 403,
  platform: 200,
  service: 403,
};

const inAWeek = () => new Date(Date.now() + 7 * 86400_000).toISOString();

/**
 * The rows. `fixture` names the state the row needs (see createFixtures);
 * `request(f)` builds the request from a fixture. Rows that change something
 * (`changes: true`) get a fresh fixture after every cell that succeeded.
 * `message` (a RegExp) is checked on the cells whose expectation names it.
 */
export const ROWS = [
  {
    name: 'read trust anchors of an owned entity',
    route: 'GET /entities/{kind}/{namespace}/{name}/trust-anchors',
    fixture: 'shared',
    request: f => ({
      method: 'GET',
      path: `/entities/${f.entityPath}/trust-anchors`,
    }),
    expect: READ,
  },
  {
    name: 'dry-run plan of an owned entity',
    route: 'POST /entities/{kind}/{namespace}/{name}/plan',
    fixture: 'shared',
    request: f => ({
      method: 'POST',
      path: `/entities/${f.entityPath}/plan`,
      body: { mode: 'revoke' },
    }),
    expect: READ,
  },
  {
    name: "start a retirement of the owner's entity",
    route: 'POST /retirements',
    fixture: 'fresh',
    changes: true,
    request: f => ({
      method: 'POST',
      path: '/retirements',
      body: {
        entityRef: f.entityRef,
        mode: 'quarantine',
        quarantineDays: 30,
        reason: 'authz matrix',
      },
    }),
    expect: OWNER_CHANGE(201),
  },
  {
    name: 'list all retirements (platform view)',
    route: 'GET /retirements',
    fixture: 'shared',
    request: () => ({ method: 'GET', path: '/retirements' }),
    expect: READ,
  },
  {
    name: "list one entity's retirements",
    route: 'GET /retirements',
    fixture: 'shared',
    request: f => ({
      method: 'GET',
      path: `/retirements?entityRef=${encodeURIComponent(f.entityRef)}`,
    }),
    expect: READ,
  },
  {
    name: 'read a retirement',
    route: 'GET /retirements/{id}',
    fixture: 'shared',
    request: f => ({ method: 'GET', path: `/retirements/${f.retirementId}` }),
    expect: READ,
  },
  {
    name: "read a page of a retirement's steps",
    route: 'GET /retirements/{id}/steps',
    fixture: 'shared',
    request: f => ({
      method: 'GET',
      path: `/retirements/${f.retirementId}/steps?limit=2`,
    }),
    expect: READ,
  },
  {
    name: "cancel the owner's retirement",
    route: 'POST /retirements/{id}/cancel',
    fixture: 'quarantined',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/cancel`,
      body: { reason: 'matrix' },
    }),
    expect: OWNER_CHANGE(),
  },
  {
    name: "retry the owner's failed retirement",
    route: 'POST /retirements/{id}/retry',
    fixture: 'needsAttention',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/retry`,
      body: {},
    }),
    expect: OWNER_CHANGE(),
  },
  {
    name: "end the owner's quarantine early",
    route: 'POST /retirements/{id}/release',
    fixture: 'quarantined',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/release`,
      body: { outcome: 'revoke' },
    }),
    expect: OWNER_CHANGE(),
  },
  {
    name: 'place a legal hold',
    route: 'POST /retirements/{id}/hold',
    fixture: 'quarantined',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/hold`,
      body: { reason: 'litigation' },
    }),
    expect: PLATFORM_ONLY,
  },
  {
    name: 'lift a legal hold',
    route: 'DELETE /retirements/{id}/hold',
    fixture: 'held',
    changes: true,
    request: f => ({
      method: 'DELETE',
      path: `/retirements/${f.retirementId}/hold`,
      body: { reason: 'settled' },
    }),
    expect: PLATFORM_ONLY,
  },
  {
    name: 'request an exception for a step',
    route: 'POST /retirements/{id}/steps/{stepId}/exception',
    fixture: 'quarantined',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/steps/${f.stepId}/exception`,
      body: {
        justification: 'still needed by the auditors',
        expiresAt: inAWeek(),
      },
    }),
    expect: OWNER_CHANGE(201),
  },
  {
    name: "approve the owner's exception request",
    route: 'POST /retirements/{id}/steps/{stepId}/exception/approve',
    fixture: 'exceptionByOwner',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/steps/${f.stepId}/exception/approve`,
      body: { note: 'ok' },
    }),
    expect: PLATFORM_ONLY,
  },
  {
    name: 'approve an exception one requested oneself (four-eyes)',
    route: 'POST /retirements/{id}/steps/{stepId}/exception/approve',
    fixture: 'exceptionByPlatform',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/steps/${f.stepId}/exception/approve`,
      body: { note: 'self' },
    }),
    expect: { ...PLATFORM_ONLY, platform: 403 },
    message: { platform: /four-eyes/ },
  },
  {
    name: "reject the owner's exception request",
    route: 'POST /retirements/{id}/steps/{stepId}/exception/reject',
    fixture: 'exceptionByOwner',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/steps/${f.stepId}/exception/reject`,
      body: { note: 'no' },
    }),
    expect: PLATFORM_ONLY,
  },
  {
    name: 'reject an exception one requested oneself (four-eyes)',
    route: 'POST /retirements/{id}/steps/{stepId}/exception/reject',
    fixture: 'exceptionByPlatform',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/steps/${f.stepId}/exception/reject`,
      body: { note: 'self' },
    }),
    expect: { ...PLATFORM_ONLY, platform: 403 },
    message: { platform: /four-eyes/ },
  },
  {
    name: 'attest a manual step of the owner',
    route: 'POST /retirements/{id}/steps/{stepId}/attest',
    fixture: 'attestWaiting',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/steps/${f.stepId}/attest`,
      body: { note: 'removed by hand' },
    }),
    expect: OWNER_CHANGE(),
  },
  {
    name: 'read evidence (JSON)',
    route: 'GET /retirements/{id}/evidence',
    fixture: 'shared',
    request: f => ({
      method: 'GET',
      path: `/retirements/${f.retirementId}/evidence`,
    }),
    expect: READ,
  },
  {
    name: 'export evidence (CSV)',
    route: 'GET /retirements/{id}/evidence',
    fixture: 'shared',
    request: f => ({
      method: 'GET',
      path: `/retirements/${f.retirementId}/evidence?format=csv`,
    }),
    expect: READ,
  },
  {
    name: 'verify the evidence chain',
    route: 'GET /retirements/{id}/evidence/verify',
    fixture: 'shared',
    request: f => ({
      method: 'GET',
      path: `/retirements/${f.retirementId}/evidence/verify`,
    }),
    expect: READ,
  },
  {
    name: 'residual access report',
    route: 'GET /residual-access',
    fixture: 'shared',
    request: () => ({ method: 'GET', path: '/residual-access' }),
    expect: READ,
  },
  {
    name: 'list exceptions',
    route: 'GET /exceptions',
    fixture: 'shared',
    request: () => ({ method: 'GET', path: '/exceptions' }),
    expect: READ,
  },
  {
    name: 'statistics',
    route: 'GET /stats',
    fixture: 'shared',
    request: () => ({ method: 'GET', path: '/stats' }),
    expect: READ,
  },
  {
    name: 'list providers',
    route: 'GET /providers',
    fixture: 'shared',
    request: () => ({ method: 'GET', path: '/providers' }),
    expect: READ,
  },
  {
    name: 'list trigger firings and proposals (platform view)',
    route: 'GET /triggers/firings',
    fixture: 'shared',
    request: () => ({ method: 'GET', path: '/triggers/firings' }),
    expect: READ,
  },
  {
    name: "a template's nhi:retire proposes retiring the owner's entity",
    route: 'POST /triggers/scaffolder',
    fixture: 'fresh',
    changes: true,
    request: f => ({
      method: 'POST',
      path: '/triggers/scaffolder',
      body: {
        key: `matrix-cell-${f.entityRef}`,
        entityRef: f.entityRef,
        action: 'propose',
        mode: 'revoke',
        reason: 'authz matrix',
      },
    }),
    expect: OWNER_CHANGE(201),
  },
  {
    name: "confirm a proposal for the owner's entity",
    route: 'POST /triggers/firings/{id}/confirm',
    fixture: 'proposal',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/triggers/firings/${f.firingId}/confirm`,
      body: {},
    }),
    expect: OWNER_CHANGE(),
  },
  {
    name: "dismiss a proposal for the owner's entity",
    route: 'POST /triggers/firings/{id}/dismiss',
    fixture: 'proposal',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/triggers/firings/${f.firingId}/dismiss`,
      body: { reason: 'still in use' },
    }),
    expect: OWNER_CHANGE(),
  },
  {
    name: "read a retirement's governance (deadline, last verification)",
    route: 'GET /retirements/{id}/governance',
    fixture: 'shared',
    request: f => ({
      method: 'GET',
      path: `/retirements/${f.retirementId}/governance`,
    }),
    expect: READ,
  },
  {
    name: "re-verify the owner's quarantined retirement now",
    route: 'POST /retirements/{id}/reverify',
    fixture: 'quarantined',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/reverify`,
      body: {},
    }),
    expect: OWNER_CHANGE(),
  },
  {
    // The anchor is not shared, so an allowed caller gets the domain's 400:
    // the permission check came first and let it through.
    name: "reassign an anchor's owner",
    route: 'POST /retirements/{id}/ownership',
    fixture: 'quarantined',
    changes: true,
    request: f => ({
      method: 'POST',
      path: `/retirements/${f.retirementId}/ownership`,
      body: { anchorId: f.anchorId, owner: 'group:default/data-team' },
    }),
    expect: OWNER_CHANGE(400),
    message: { owner: /nothing to reassign/, platform: /nothing to reassign/ },
  },
  {
    name: "export a retirement's evidence for audit",
    route: 'GET /retirements/{id}/export',
    fixture: 'shared',
    request: f => ({
      method: 'GET',
      path: `/retirements/${f.retirementId}/export`,
    }),
    expect: READ,
  },
  {
    name: 'export a period for audit',
    route: 'GET /export',
    fixture: 'shared',
    request: () => ({
      method: 'GET',
      path: `/export?from=${encodeURIComponent(
        new Date(Date.now() - 86400_000).toISOString(),
      )}&to=${encodeURIComponent(new Date().toISOString())}`,
    }),
    expect: READ,
  },
  {
    name: 'orphaned, stale and unlinked anchors',
    route: 'GET /governance/anchors',
    fixture: 'shared',
    request: () => ({ method: 'GET', path: '/governance/anchors' }),
    expect: READ,
  },
  {
    name: 'time-to-revoke deadlines and breaches',
    route: 'GET /governance/deadlines',
    fixture: 'shared',
    request: () => ({ method: 'GET', path: '/governance/deadlines' }),
    expect: READ,
  },
];

// ---- fixtures ------------------------------------------------------------------

/**
 * Catalog entities for the fixtures: components of payments-team.
 * `brokenAnnotations` link the `authz-broken-<i>` ones to a credential whose
 * revocation fails for good (so their retirements need attention).
 */
export function matrixCatalog({ count, broken, brokenAnnotations }) {
  const docs = [];
  for (let i = 1; i <= count; i++) {
    docs.push(
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name: `authz-${i}`,
          annotations: { 'nhi-offboarding/demo': `api-key:authz-${i}` },
        },
        spec: {
          type: 'service',
          lifecycle: 'production',
          owner: 'group:default/payments-team',
          dependsOn: [`resource:default/authz-${i}-manual`],
        },
      },
      {
        // No provider annotation: held by no system, its owner attests.
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Resource',
        metadata: { name: `authz-${i}-manual` },
        spec: { type: 'secret', owner: 'group:default/payments-team' },
      },
    );
  }
  for (let i = 1; i <= broken; i++) {
    docs.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: `authz-broken-${i}`,
        annotations: brokenAnnotations,
      },
      spec: {
        type: 'service',
        lifecycle: 'production',
        owner: 'group:default/payments-team',
      },
    });
  }
  return docs.map(d => JSON.stringify(d)).join('\n---\n');
}

/**
 * Creates fixtures through the API, as the owner (alice) unless said
 * otherwise. `call(identity, method, path, body)` is the API client.
 */
export function createFixtures({ call, count, broken }) {
  let next = 0;
  let nextBroken = 0;
  const entity = () => {
    next++;
    if (next > count)
      throw new Error(`more than ${count} fixture entities needed`);
    return `component:default/authz-${next}`;
  };
  const entityPath = ref => ref.replace(':', '/');
  const get = async id =>
    (await call('platform', 'GET', `/retirements/${id}`)).json;

  async function start(entityRef, mode) {
    const r = await call('owner', 'POST', '/retirements', {
      entityRef,
      mode,
      reason: 'authz matrix fixture',
      ...(mode === 'quarantine' ? { quarantineDays: 30 } : {}),
    });
    if (r.status !== 201)
      throw new Error(
        `fixture retirement of ${entityRef}: ${r.status} ${r.text}`,
      );
    return r.json;
  }

  async function quarantined() {
    const entityRef = entity();
    const created = await start(entityRef, 'quarantine');
    const r = await waitFor(`${created.id} quarantined`, async () => {
      const got = await get(created.id);
      return got?.status === 'quarantined' ? got : undefined;
    });
    // A step the final revoke still has to do: the target of exceptions.
    const step = r.steps.find(
      s => s.anchorId && s.status !== 'succeeded' && s.action !== 'attest',
    );
    return {
      entityRef,
      entityPath: entityPath(entityRef),
      retirementId: r.id,
      stepId: step?.id,
      anchorId: step?.anchorId,
    };
  }

  async function withException(requester) {
    const f = await quarantined();
    const r = await call(
      requester,
      'POST',
      `/retirements/${f.retirementId}/steps/${f.stepId}/exception`,
      {
        justification: `requested by ${requester}`,
        expiresAt: new Date(Date.now() + 7 * 86400_000).toISOString(),
      },
    );
    if (r.status !== 201)
      throw new Error(
        `fixture exception by ${requester}: ${r.status} ${r.text}`,
      );
    return f;
  }

  return {
    fresh: async () => {
      const entityRef = entity();
      return { entityRef, entityPath: entityPath(entityRef) };
    },
    quarantined,
    held: async () => {
      const f = await quarantined();
      const r = await call(
        'platform',
        'POST',
        `/retirements/${f.retirementId}/hold`,
        { reason: 'fixture' },
      );
      if (r.status !== 200)
        throw new Error(`fixture hold: ${r.status} ${r.text}`);
      return f;
    },
    exceptionByOwner: () => withException('owner'),
    exceptionByPlatform: () => withException('platform'),
    attestWaiting: async () => {
      const entityRef = entity();
      const created = await start(entityRef, 'revoke');
      const step = await waitFor(
        `an attest step of ${created.id} waiting`,
        async () =>
          (
            await get(created.id)
          )?.steps?.find(s => s.action === 'attest' && s.status === 'waiting'),
      );
      return {
        entityRef,
        entityPath: entityPath(entityRef),
        retirementId: created.id,
        stepId: step.id,
      };
    },
    proposal: async () => {
      // A template asks for a proposal (nhi:retire with propose: true).
      const entityRef = entity();
      const r = await call('owner', 'POST', '/triggers/scaffolder', {
        key: `matrix-${entityRef}`,
        entityRef,
        action: 'propose',
        mode: 'revoke',
        reason: 'authz matrix fixture',
      });
      if (r.status !== 201 || r.json?.status !== 'proposed')
        throw new Error(`fixture proposal: ${r.status} ${r.text}`);
      return {
        entityRef,
        entityPath: entityPath(entityRef),
        firingId: r.json.id,
      };
    },
    needsAttention: async () => {
      nextBroken++;
      if (nextBroken > broken)
        throw new Error(`more than ${broken} broken entities needed`);
      const entityRef = `component:default/authz-broken-${nextBroken}`;
      const created = await start(entityRef, 'revoke');
      await waitFor(
        `${created.id} needs attention`,
        async () => (await get(created.id))?.status === 'needs-attention',
      );
      return {
        entityRef,
        entityPath: entityPath(entityRef),
        retirementId: created.id,
      };
    },
  };
}

/**
 * What a refused call must leave as it was: the evidence of the fixture's
 * retirement, or the retirements of its entity when it has none yet.
 */
async function stateOf(call, f) {
  const r = f.retirementId
    ? await call('platform', 'GET', `/retirements/${f.retirementId}/evidence`)
    : await call(
        'platform',
        'GET',
        `/retirements?entityRef=${encodeURIComponent(f.entityRef)}`,
      );
  return r.json?.items?.length;
}

/**
 * Runs every row against every identity. Returns the cells, each with the
 * expected and actual status, plus refusals that changed something.
 */
export async function runMatrix({ call, fixtures, shared }) {
  const cells = [];
  for (const row of ROWS) {
    let fixture;
    let fresh = true;
    let before;
    for (const identity of IDENTITIES) {
      if (row.fixture === 'shared') {
        fixture = shared;
      } else if (fresh) {
        fixture = await fixtures[row.fixture]();
        before = await stateOf(call, fixture);
        fresh = false;
      }
      const req = row.request(fixture);
      const res = await call(identity, req.method, req.path, req.body);
      const want = row.expect[identity];
      const messageRule = row.message?.[identity];
      const message = res.json?.error?.message ?? '';
      const ok =
        res.status === want && (!messageRule || messageRule.test(message));
      cells.push({
        row: row.name,
        route: row.route,
        identity,
        want,
        got: res.status,
        ok,
        message,
      });
      if (res.status >= 200 && res.status < 300) {
        if (row.changes) fresh = true;
      }
      // A refusal must change nothing: the evidence is as before.
      if (row.changes && !fresh && before !== undefined) {
        const after = await stateOf(call, fixture);
        if (after !== before) {
          cells[cells.length - 1].ok = false;
          cells[
            cells.length - 1
          ].message += ` [state changed ${before} -> ${after} although refused]`;
        }
      }
    }
  }
  return cells;
}

/** The matrix as text: one line per row, one column per identity. */
export function formatMatrix(cells) {
  const rows = [...new Set(cells.map(c => c.row))];
  const width = Math.max(...rows.map(r => r.length));
  const head = `${'operation'.padEnd(width)} | ${IDENTITIES.map(i =>
    i.padEnd(10),
  ).join(' | ')}`;
  const lines = [head, '-'.repeat(head.length)];
  for (const row of rows) {
    const line = IDENTITIES.map(identity => {
      const c = cells.find(x => x.row === row && x.identity === identity);
      return (c.ok ? `${c.got}` : `${c.got}!=${c.want}`).padEnd(10);
    });
    lines.push(`${row.padEnd(width)} | ${line.join(' | ')}`);
  }
  return lines.join('\n');
}
