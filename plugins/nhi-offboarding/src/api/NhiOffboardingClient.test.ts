import { ResponseError } from '@backstage/errors';
import { NhiOffboardingClient } from './NhiOffboardingClient';

const BASE = 'http://backend.test/api/nhi-offboarding';
const STATUS_TEXT: Record<number, string> = {
  404: 'Not Found',
  409: 'Conflict',
};

function response(
  status: number,
  body: unknown,
  contentType = 'application/json',
): Response {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: STATUS_TEXT[status] ?? 'OK',
    headers: {
      get: (name: string) =>
        name.toLowerCase() === 'content-type' ? contentType : null,
    },
    json: async () => JSON.parse(text),
    text: async () => text,
  } as unknown as Response;
}

function setup(reply: Response) {
  const fetch = jest.fn().mockResolvedValue(reply);
  const discoveryApi = { getBaseUrl: jest.fn().mockResolvedValue(BASE) };
  const client = new NhiOffboardingClient({
    discoveryApi,
    fetchApi: { fetch },
  });
  const call = (i = 0) => {
    const [url, init] = fetch.mock.calls[i] as [string, RequestInit];
    return {
      url,
      method: init.method,
      body: init.body ? JSON.parse(init.body as string) : undefined,
      headers: init.headers as Record<string, string>,
    };
  };
  return { client, fetch, discoveryApi, call };
}

describe('NhiOffboardingClient', () => {
  it('reads trust anchors by entity path, lower-casing the kind and encoding segments', async () => {
    const { client, call, discoveryApi } = setup(
      response(200, { items: [{ id: 'a1' }] }),
    );
    await expect(
      client.getTrustAnchors('Component:team a/bot#1', { refresh: true }),
    ).resolves.toEqual({ items: [{ id: 'a1' }], problems: [] });
    expect(discoveryApi.getBaseUrl).toHaveBeenCalledWith('nhi-offboarding');
    expect(call().url).toBe(
      `${BASE}/entities/component/team%20a/bot%231/trust-anchors?refresh=true`,
    );
    expect(call().method).toBe('GET');
  });

  it('omits refresh when not asked to re-discover, and passes discovery problems on', async () => {
    const problems = [{ providerId: 'vault', message: 'connection refused' }];
    const { client, call } = setup(response(200, { items: [], problems }));
    await expect(
      client.getTrustAnchors('component:default/bot'),
    ).resolves.toEqual({ items: [], problems });
    expect(call().url).toBe(
      `${BASE}/entities/component/default/bot/trust-anchors`,
    );
  });

  it('posts the dry run with mode and days', async () => {
    const { client, call } = setup(response(200, { steps: [{ stage: 1 }] }));
    await expect(
      client.planRetirement('component:default/bot', {
        mode: 'quarantine',
        quarantineDays: 7,
      }),
    ).resolves.toEqual({ steps: [{ stage: 1 }], problems: [] });
    expect(call()).toMatchObject({
      url: `${BASE}/entities/component/default/bot/plan`,
      method: 'POST',
      body: { mode: 'quarantine', quarantineDays: 7 },
    });
    expect(call().headers['Content-Type']).toBe('application/json');
  });

  it('starts a retirement', async () => {
    const { client, call } = setup(response(201, { id: 'r1' }));
    await client.startRetirement({
      entityRef: 'component:default/bot',
      mode: 'revoke',
      reason: 'gone',
    });
    expect(call()).toMatchObject({
      url: `${BASE}/retirements`,
      method: 'POST',
      body: {
        entityRef: 'component:default/bot',
        mode: 'revoke',
        reason: 'gone',
      },
    });
  });

  it('lists retirements with only the filters given', async () => {
    const { client, call } = setup(
      response(200, { items: [], nextCursor: 'c2' }),
    );
    await expect(
      client.listRetirements({
        entityRef: 'component:default/bot',
        status: 'running',
        limit: 5,
      }),
    ).resolves.toEqual({ items: [], nextCursor: 'c2' });
    const url = new URL(call().url);
    expect(url.pathname).toBe('/api/nhi-offboarding/retirements');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      entityRef: 'component:default/bot',
      status: 'running',
      limit: '5',
    });
  });

  it.each([
    [
      'cancel',
      (c: NhiOffboardingClient) => c.cancelRetirement('r/1', 'no longer'),
      'POST',
      '/retirements/r%2F1/cancel',
      { reason: 'no longer' },
    ],
    [
      'retry',
      (c: NhiOffboardingClient) => c.retryRetirement('r1'),
      'POST',
      '/retirements/r1/retry',
      {},
    ],
    [
      'release',
      (c: NhiOffboardingClient) => c.releaseQuarantine('r1', 'restore'),
      'POST',
      '/retirements/r1/release',
      { outcome: 'restore' },
    ],
    [
      'hold',
      (c: NhiOffboardingClient) => c.placeLegalHold('r1', 'case 42'),
      'POST',
      '/retirements/r1/hold',
      { reason: 'case 42' },
    ],
    [
      'lift',
      (c: NhiOffboardingClient) => c.liftLegalHold('r1'),
      'DELETE',
      '/retirements/r1/hold',
      {},
    ],
    [
      'exception',
      (c: NhiOffboardingClient) =>
        c.requestException('r1', 's1', {
          justification: 'j',
          expiresAt: '2026-05-01T00:00:00Z',
        }),
      'POST',
      '/retirements/r1/steps/s1/exception',
      { justification: 'j', expiresAt: '2026-05-01T00:00:00Z' },
    ],
    [
      'approve',
      (c: NhiOffboardingClient) =>
        c.decideException('r1', 's1', 'approve', 'ok'),
      'POST',
      '/retirements/r1/steps/s1/exception/approve',
      { note: 'ok' },
    ],
    [
      'reject',
      (c: NhiOffboardingClient) => c.decideException('r1', 's1', 'reject'),
      'POST',
      '/retirements/r1/steps/s1/exception/reject',
      {},
    ],
    [
      'attest',
      (c: NhiOffboardingClient) => c.attestStep('r1', 's1', 'deleted by hand'),
      'POST',
      '/retirements/r1/steps/s1/attest',
      { note: 'deleted by hand' },
    ],
    [
      'confirm proposal',
      (c: NhiOffboardingClient) => c.confirmProposal('f/1'),
      'POST',
      '/triggers/firings/f%2F1/confirm',
      {},
    ],
    [
      'dismiss proposal',
      (c: NhiOffboardingClient) => c.dismissProposal('f1', 'still needed'),
      'POST',
      '/triggers/firings/f1/dismiss',
      { reason: 'still needed' },
    ],
    [
      'dismiss proposal without a reason',
      (c: NhiOffboardingClient) => c.dismissProposal('f1'),
      'POST',
      '/triggers/firings/f1/dismiss',
      {},
    ],
  ])('%s calls the right endpoint', async (_name, act, method, path, body) => {
    const { client, call } = setup(response(200, { id: 'r1' }));
    await act(client);
    expect(call().url).toBe(`${BASE}${path}`);
    expect(call().method).toBe(method);
    expect(call().body).toEqual(body);
  });

  it('lists trigger firings with only the filters given', async () => {
    const { client, call, fetch } = setup(
      response(200, { items: [{ id: 'f1', status: 'proposed' }] }),
    );
    await expect(
      client.listTriggerFirings({
        entityRef: 'component:default/bot',
        status: 'proposed',
        limit: 10,
      }),
    ).resolves.toEqual([{ id: 'f1', status: 'proposed' }]);
    const url = new URL(call().url);
    expect(url.pathname).toBe('/api/nhi-offboarding/triggers/firings');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      entityRef: 'component:default/bot',
      status: 'proposed',
      limit: '10',
    });
    fetch.mockResolvedValueOnce(response(200, { items: [] }));
    await expect(client.listTriggerFirings()).resolves.toEqual([]);
    expect(call(1).url).toBe(`${BASE}/triggers/firings`);
    expect(call(1).method).toBe('GET');
  });

  it('reads evidence, its verification and the CSV', async () => {
    const { client, call, fetch } = setup(
      response(200, { items: [{ seq: 1 }] }),
    );
    await expect(client.getEvidence('r1')).resolves.toEqual([{ seq: 1 }]);
    // The whole chain (for downloads) is the explicit export format.
    expect(call().url).toBe(`${BASE}/retirements/r1/evidence?format=export`);

    fetch.mockResolvedValueOnce(
      response(200, 'seq,kind\n1,action\n', 'text/csv'),
    );
    await expect(client.getEvidenceCsv('r1')).resolves.toBe(
      'seq,kind\n1,action\n',
    );
    expect(call(1).url).toBe(`${BASE}/retirements/r1/evidence?format=csv`);
    expect(call(1).headers.Accept).toBe('text/csv');

    fetch.mockResolvedValueOnce(response(200, { valid: true, count: 3 }));
    await expect(client.verifyEvidence('r1')).resolves.toEqual({
      valid: true,
      count: 3,
    });
    expect(call(2).url).toBe(`${BASE}/retirements/r1/evidence/verify`);
  });

  it('reads steps and evidence page by page', async () => {
    const { client, call, fetch } = setup(
      response(200, { items: [{ id: 's1' }], nextCursor: 'c2' }),
    );
    await expect(
      client.getRetirementSteps('r1', {
        limit: 100,
        cursor: 'c1',
        status: ['failed', 'waiting'],
      }),
    ).resolves.toEqual({ items: [{ id: 's1' }], nextCursor: 'c2' });
    expect(call(0).url).toBe(
      `${BASE}/retirements/r1/steps?limit=100&cursor=c1&status=failed%2Cwaiting`,
    );
    fetch.mockResolvedValueOnce(
      response(200, { items: [{ seq: 51 }], nextAfterSeq: 51 }),
    );
    await expect(
      client.getEvidencePage('r1', { limit: 50, afterSeq: 50 }),
    ).resolves.toEqual({ items: [{ seq: 51 }], nextAfterSeq: 51 });
    expect(call(1).url).toBe(
      `${BASE}/retirements/r1/evidence?limit=50&afterSeq=50`,
    );
  });

  it('follows residual access pages to the end when asked for all of it', async () => {
    const { client, call, fetch } = setup(
      response(200, { items: [{ reason: 'b' }] }),
    );
    fetch.mockResolvedValueOnce(
      response(200, { items: [{ reason: 'a' }], nextCursor: 'anc_1' }),
    );
    await expect(client.getResidualAccess()).resolves.toEqual([
      { reason: 'a' },
      { reason: 'b' },
    ]);
    expect(call(0).url).toBe(`${BASE}/residual-access`);
    expect(call(1).url).toBe(`${BASE}/residual-access?cursor=anc_1`);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('lists exceptions by status, residual access and providers', async () => {
    const { client, call } = setup(response(200, { items: [] }));
    await client.listExceptions({ status: 'requested' });
    await client.getResidualAccess();
    await client.getProviders();
    expect(call(0).url).toBe(`${BASE}/exceptions?status=requested`);
    expect(call(1).url).toBe(`${BASE}/residual-access`);
    expect(call(2).url).toBe(`${BASE}/providers`);
  });

  it('throws a ResponseError carrying the backend message on 4xx', async () => {
    const { client } = setup(
      response(409, {
        error: {
          name: 'ConflictError',
          message: 'payments-bot already has an active retirement',
        },
        request: { method: 'POST', url: '/retirements' },
        response: { statusCode: 409 },
      }),
    );
    const error = await client
      .startRetirement({
        entityRef: 'component:default/bot',
        mode: 'revoke',
        reason: 'x',
      })
      .catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(409);
    expect(error.body.error.message).toBe(
      'payments-bot already has an active retirement',
    );
  });

  it('treats a missing /stats endpoint as "no stats", other errors as errors', async () => {
    const { client, fetch } = setup(response(404, 'Not Found', 'text/plain'));
    await expect(client.getStats()).resolves.toBeUndefined();
    fetch.mockResolvedValueOnce(
      response(500, {
        error: { name: 'Error', message: 'boom' },
        response: { statusCode: 500 },
      }),
    );
    await expect(client.getStats()).rejects.toBeInstanceOf(ResponseError);
  });

  it('calls the governance routes', async () => {
    const { client, call, fetch } = setup(response(200, { items: [] }));
    await client.getRetirementGovernance('r 1');
    expect(call(0).url).toBe(`${BASE}/retirements/r%201/governance`);
    await client.reverifyRetirement('r1');
    expect(call(1)).toMatchObject({
      url: `${BASE}/retirements/r1/reverify`,
      method: 'POST',
      body: {},
    });
    await client.reassignOwnership('r1', 'anc_1', 'group:default/billing');
    expect(call(2)).toMatchObject({
      url: `${BASE}/retirements/r1/ownership`,
      method: 'POST',
      body: { anchorId: 'anc_1', owner: 'group:default/billing' },
    });
    await client.getGovernanceFindings({
      reason: 'stale',
      owners: ['group:default/a', 'user:default/me'],
    });
    expect(call(3).url).toBe(
      `${BASE}/governance/anchors?reason=stale&owner=group%3Adefault%2Fa%2Cuser%3Adefault%2Fme`,
    );
    await client.getDeadlines({ breached: true });
    expect(call(4).url).toBe(`${BASE}/governance/deadlines?breached=true`);
    await client.getPeriodExport(
      new Date('2026-01-01T00:00:00Z'),
      new Date('2026-02-01T00:00:00Z'),
    );
    expect(call(5).url).toBe(
      `${BASE}/export?from=2026-01-01T00%3A00%3A00.000Z&to=2026-02-01T00%3A00%3A00.000Z`,
    );
    await client.getRetirementExport('r1');
    expect(call(6).url).toBe(`${BASE}/retirements/r1/export`);
    expect(fetch).toHaveBeenCalledTimes(7);
  });

  it('treats a missing governance API as "no findings"', async () => {
    const { client } = setup(
      response(404, { error: { name: 'NotFoundError', message: 'no' } }),
    );
    await expect(client.getGovernanceFindings()).resolves.toBeUndefined();
  });
});
