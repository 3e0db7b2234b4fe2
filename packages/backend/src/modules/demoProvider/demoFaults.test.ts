import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  ActionContext,
  RateLimitedError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { DemoTrustAnchorProvider } from './DemoTrustAnchorProvider';
import type { DemoCallLogLine } from './demoCallLog';
import { pickFault } from './demoFaults';

/* The demo provider's injected faults, each kind on its own. The provider is
 * a simulation (it runs here for real); nothing is mocked. */

const entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'svc' },
  spec: { owner: 'group:default/payments-team' },
};

describe('demo provider faults', () => {
  let dir: string;
  let stateFile: string;
  let callLogFile: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-demo-faults-'));
    stateFile = path.join(dir, 'state.json');
    callLogFile = path.join(dir, 'calls.jsonl');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const create = (
    extra: Partial<ConstructorParameters<typeof DemoTrustAnchorProvider>[0]>,
  ) =>
    new DemoTrustAnchorProvider({
      id: 'demo',
      stateFile,
      callLogFile,
      ...extra,
    });

  async function anchorOf(externalId: string): Promise<TrustAnchor> {
    const [d] = await create({}).discover({
      entity,
      entityRef: 'component:default/svc',
      linked: [{ externalId, source: 'annotation', sharedWith: [] }],
    });
    return {
      id: `demo:${externalId}`,
      entityRef: 'component:default/svc',
      providerId: 'demo',
      kind: d.kind,
      externalId,
      displayName: d.displayName,
      fingerprint: d.fingerprint,
      scopes: [],
      sharedWith: [],
      manual: false,
      status: 'active',
      discoveredAt: new Date().toISOString(),
      discoveredBy: 'test',
    };
  }

  const ctx = (signal = new AbortController().signal): ActionContext => ({
    retirementId: 'ret-1',
    stepId: 'step-1',
    signal,
    logger: mockServices.logger.mock(),
  });

  const callLog = (): DemoCallLogLine[] =>
    fs
      .readFileSync(callLogFile, 'utf8')
      .trim()
      .split('\n')
      .map(l => JSON.parse(l));

  it('picks each kind in its share of draws, and none beyond the sum', () => {
    const faults = {
      errorRate: 0.1,
      rateLimitRate: 0.2,
      slowRate: 0.3,
      hangRate: 0.1,
    };
    expect(pickFault(faults, () => 0.05)).toBe('error');
    expect(pickFault(faults, () => 0.25)).toBe('rate-limit');
    expect(pickFault(faults, () => 0.55)).toBe('slow');
    expect(pickFault(faults, () => 0.65)).toBe('hang');
    expect(pickFault(faults, () => 0.75)).toBeUndefined();
    expect(pickFault({}, () => 0)).toBeUndefined();
  });

  it('a 5xx-like error is transient and changes nothing', async () => {
    const anchor = await anchorOf('api-key:e');
    const provider = create({ faults: { errorRate: 1 } });
    const error = await provider.revoke(anchor, ctx()).catch(e => e);
    expect(error).toBeInstanceOf(TransientProviderError);
    expect(error).not.toBeInstanceOf(RateLimitedError);
    expect(error.message).toMatch(/503/);
    expect(provider.inspect('api-key:e')?.status).toBe('active');
    expect(provider.stats().injectedFaults.error).toBe(1);
    const ends = callLog().filter(l => l.ev === 'end' && l.action === 'revoke');
    expect(ends).toEqual([
      expect.objectContaining({ result: 'error', externalId: 'api-key:e' }),
    ]);
  });

  it('rate limiting says when to retry and changes nothing', async () => {
    const anchor = await anchorOf('api-key:r');
    const provider = create({
      faults: { rateLimitRate: 1, retryAfterMs: 1234 },
    });
    const error = await provider.verify(anchor, ctx()).catch(e => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAfterMs).toBe(1234);
    await expect(provider.revoke(anchor, ctx())).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    expect(provider.inspect('api-key:r')?.status).toBe('active');
    expect(provider.stats().injectedFaults['rate-limit']).toBe(2);
  });

  it('a slow answer comes late, or not at all when the caller gives up', async () => {
    const anchor = await anchorOf('api-key:s');
    const provider = create({ faults: { slowRate: 1, slowMs: 150 } });
    const started = Date.now();
    await expect(provider.revoke(anchor, ctx())).resolves.toMatchObject({
      changed: true,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const other = await anchorOf('api-key:s2');
    const controller = new AbortController();
    const pending = provider.revoke(other, ctx(controller.signal));
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toThrow();
    expect(provider.inspect('api-key:s2')?.status).toBe('active');
    const ends = callLog().filter(l => l.ev === 'end' && l.action === 'revoke');
    expect(ends.map(e => [e.externalId, e.result, e.changed])).toEqual([
      ['api-key:s', 'ok', true],
      ['api-key:s2', 'aborted', undefined],
    ]);
  });

  it('a hung call never answers, even when aborted; the log notes the abandonment', async () => {
    const anchor = await anchorOf('api-key:h');
    const provider = create({ faults: { hangRate: 1 } });
    const controller = new AbortController();
    let settled = false;
    provider.revoke(anchor, ctx(controller.signal)).then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise(r => setTimeout(r, 30));
    controller.abort();
    await new Promise(r => setTimeout(r, 100));
    expect(settled).toBe(false);
    expect(provider.inspect('api-key:h')?.status).toBe('active');
    expect(provider.stats().injectedFaults.hang).toBe(1);
    const lines = callLog().filter(l => l.action === 'revoke');
    expect(lines.map(l => [l.ev, l.result])).toEqual([
      ['start', undefined],
      ['end', 'hang-abandoned'],
    ]);
  });

  it('logs start and end of every engine call with pid and step', async () => {
    const anchor = await anchorOf('api-key:l');
    const provider = create({});
    await provider.revoke(anchor, ctx());
    await provider.revoke(anchor, ctx());
    await provider.verify(anchor, ctx());
    const lines = callLog();
    expect(lines).toHaveLength(6);
    expect(
      lines.every(l => l.pid === process.pid && l.stepId === 'step-1'),
    ).toBe(true);
    expect(
      lines.filter(l => l.ev === 'end').map(l => [l.action, l.changed]),
    ).toEqual([
      ['revoke', true],
      ['revoke', false],
      ['verify', undefined],
    ]);
    const [start, end] = lines;
    expect(end.call).toBe(start.call);
    expect(end.at).toBeGreaterThanOrEqual(start.at);
  });

  it('reads faults from config and rejects bad rates', () => {
    const provider = DemoTrustAnchorProvider.fromConfig({
      id: 'demo',
      cwd: dir,
      config: new ConfigReader({
        faults: { errorRate: 0.1, rateLimitRate: 0.1, retryAfterMs: 500 },
        callLogFile: 'calls.jsonl',
      }),
    });
    expect(provider.stats().injectedFaults).toEqual({
      error: 0,
      'rate-limit': 0,
      slow: 0,
      hang: 0,
    });
    expect(() =>
      DemoTrustAnchorProvider.fromConfig({
        id: 'demo',
        cwd: dir,
        config: new ConfigReader({ faults: { hangRate: 1.5 } }),
      }),
    ).toThrow(/faults\.hangRate must be between 0 and 1/);
    expect(() =>
      DemoTrustAnchorProvider.fromConfig({
        id: 'demo',
        cwd: dir,
        config: new ConfigReader({ faults: { errorRate: 0.6, slowRate: 0.6 } }),
      }),
    ).toThrow(/at most 1/);
  });
});
