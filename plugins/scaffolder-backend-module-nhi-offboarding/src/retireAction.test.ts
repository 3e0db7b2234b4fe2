/*
 * The action against a stand-in of the NHI Offboarding REST API (a plain
 * HTTP server on loopback that records what it is sent). The API itself is
 * covered by the backend plugin's router and trigger tests; this checks what
 * the action asks of it: a dry run only plans, a run fires the scaffolder
 * trigger with the task and step as idempotency key, on the user's behalf.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { createNhiRetireAction } from './retireAction';

type Seen = { method: string; url: string; auth?: string; body?: any };

let server: Server;
let base: string;
let seen: Seen[] = [];
let firingStatus = 'started';

function readBody(req: IncomingMessage): Promise<any> {
  return new Promise(resolve => {
    let text = '';
    req.on('data', chunk => (text += chunk));
    req.on('end', () => resolve(text ? JSON.parse(text) : undefined));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    seen.push({
      method: req.method!,
      url: req.url!,
      auth: req.headers.authorization,
      body,
    });
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (req.url?.endsWith('/plan')) {
      return reply(200, {
        steps: [{}, {}, {}],
        anchors: [{ id: 'a1' }],
      });
    }
    if (req.url === '/triggers/scaffolder') {
      return firingStatus === 'skipped'
        ? reply(200, { status: 'skipped', detail: 'a retirement is active' })
        : reply(200, { status: firingStatus, retirementId: 'ret-7' });
    }
    if (req.url?.startsWith('/retirements/ret-7')) {
      return reply(200, { id: 'ret-7', progress: { total: 9 } });
    }
    return reply(404, { error: { name: 'NotFoundError', message: 'no' } });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as any).port}`;
});

afterAll(() => new Promise(r => server.close(r)));

beforeEach(() => {
  seen = [];
  firingStatus = 'started';
});

function run(input: Record<string, unknown>, isDryRun = false) {
  const action = createNhiRetireAction({
    discovery: {
      getBaseUrl: async () => base,
      getExternalBaseUrl: async () => base,
    },
    auth: mockServices.auth(),
  });
  const outputs: Record<string, unknown> = {};
  const ctx = {
    input: { mode: 'revoke', propose: false, ...input },
    output: (name: string, value: unknown) => {
      outputs[name] = value;
    },
    logger: mockServices.logger.mock(),
    isDryRun,
    task: { id: 'task-1' },
    step: { id: 'retire', name: 'Retire' },
    getInitiatorCredentials: async () =>
      mockCredentials.user('user:default/alice'),
    workspacePath: '/nonexistent',
    checkpoint: async ({ fn }: { fn: () => unknown }) => fn(),
    createTemporaryDirectory: async () => '/nonexistent',
  };
  return action.handler(ctx as any).then(() => outputs);
}

describe('nhi:retire', () => {
  it('dry run: asks for the plan only and reports its size', async () => {
    const outputs = await run(
      { entityRef: 'component:default/invoice-bot', reason: 'decommissioned' },
      true,
    );
    expect(seen.map(s => `${s.method} ${s.url}`)).toEqual([
      'POST /entities/component/default/invoice-bot/plan',
    ]);
    expect(seen[0].body).toEqual({ mode: 'revoke' });
    expect(outputs).toEqual({ status: 'dry-run', plannedSteps: 3 });
  });

  it("run: fires the scaffolder trigger keyed by task and step, on the user's behalf", async () => {
    const outputs = await run({
      entityRef: 'component:default/invoice-bot',
      reason: 'decommissioned',
      mode: 'quarantine',
      quarantineDays: 14,
    });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/triggers/scaffolder',
      body: {
        key: 'task-1:retire',
        entityRef: 'component:default/invoice-bot',
        action: 'retire',
        mode: 'quarantine',
        quarantineDays: 14,
        reason: 'decommissioned',
      },
    });
    // The mock auth service's plugin token names the user it acts for.
    expect(seen[0].auth).toMatch(/^Bearer .*alice/);
    expect(seen[1].url).toBe('/retirements/ret-7?steps=none');
    expect(outputs).toEqual({
      retirementId: 'ret-7',
      status: 'started',
      plannedSteps: 9,
    });
  });

  it('propose: asks for a proposal the owner confirms', async () => {
    firingStatus = 'proposed';
    await run({
      entityRef: 'component:default/invoice-bot',
      reason: 'template destroy',
      propose: true,
    });
    expect(seen[0].body.action).toBe('propose');
  });

  it('fails the step when the retirement was not started', async () => {
    firingStatus = 'skipped';
    await expect(
      run({ entityRef: 'component:default/invoice-bot', reason: 'x' }),
    ).rejects.toThrow(
      'Retirement of component:default/invoice-bot not started: a retirement is active',
    );
  });

  it('refuses a short entity ref before calling anything', async () => {
    await expect(
      run({ entityRef: 'invoice-bot', reason: 'x' }),
    ).rejects.toThrow('must be a full ref kind:namespace/name');
    expect(seen).toEqual([]);
  });
});
