import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  ActionContext,
  DiscoveredAnchor,
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { DemoTrustAnchorProvider } from './DemoTrustAnchorProvider';
import { fakeFingerprint, parseDemoExternalId } from './DemoCredentialStore';
import { createHash } from 'node:crypto';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'payments-api',
    annotations: {
      'nhi-offboarding/demo':
        'service-account:payments-api, api-key:payments-stripe, group-membership:payments-admins',
    },
  },
  spec: {
    type: 'service',
    lifecycle: 'production',
    owner: 'group:default/payments-team',
  },
};
const entityRef = 'component:default/payments-api';

function linked(...ids: string[]) {
  return ids.map(externalId => ({
    externalId,
    source: 'annotation' as const,
    sharedWith: [] as string[],
  }));
}

function anchorFrom(d: DiscoveredAnchor): TrustAnchor {
  return {
    id: `demo:${d.externalId}`,
    entityRef,
    providerId: 'demo',
    kind: d.kind,
    externalId: d.externalId,
    displayName: d.displayName,
    fingerprint: d.fingerprint,
    scopes: d.scopes ?? [],
    sharedWith: d.sharedWith ?? [],
    manual: false,
    status: d.status,
    discoveredAt: new Date().toISOString(),
    discoveredBy: 'test',
  };
}

function ctx(stepId = 'step-1'): ActionContext {
  return {
    retirementId: 'ret-1',
    stepId,
    signal: new AbortController().signal,
    logger: mockServices.logger.mock(),
  };
}

describe('DemoTrustAnchorProvider', () => {
  let dir: string;
  let stateFile: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-demo-'));
    stateFile = path.join(dir, 'state', 'demo-credentials-demo.json');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const create = (
    extra: Partial<
      ConstructorParameters<typeof DemoTrustAnchorProvider>[0]
    > = {},
  ) => new DemoTrustAnchorProvider({ id: 'demo', stateFile, ...extra });

  async function discoverOne(provider: DemoTrustAnchorProvider, id: string) {
    const [anchor] = await provider.discover({
      entity,
      entityRef,
      linked: linked(id),
    });
    return anchorFrom(anchor);
  }

  it('parses <kind>:<name> ids', () => {
    expect(parseDemoExternalId('api-key:stripe-live')).toEqual({
      kind: 'api-key',
      name: 'stripe-live',
    });
    expect(parseDemoExternalId(' group-membership:payments-admins ')).toEqual({
      kind: 'group-membership',
      name: 'payments-admins',
    });
    expect(parseDemoExternalId('mystery:thing')).toEqual({
      kind: 'other',
      name: 'mystery:thing',
    });
    expect(parseDemoExternalId('no-kind')).toEqual({
      kind: 'other',
      name: 'no-kind',
    });
  });

  it('is labelled as a simulation', () => {
    const provider = create();
    expect(provider.simulated).toBe(true);
    expect(provider.type).toBe('demo');
    expect(provider.manual).toBe(false);
  });

  it('creates linked ids as active credentials with a fake fingerprint', async () => {
    const provider = create();
    const anchors = await provider.discover({
      entity,
      entityRef,
      linked: [
        ...linked('service-account:payments-api', 'api-key:payments-stripe'),
        {
          externalId: 'secret:payments-db-password',
          source: 'catalog-resource',
          sharedWith: ['component:default/invoice-bot'],
          resourceRef: 'resource:default/payments-db-password',
        },
        // duplicates and blanks are ignored
        ...linked('api-key:payments-stripe', ' '),
      ],
    });

    expect(anchors.map(a => [a.externalId, a.kind, a.status])).toEqual([
      ['service-account:payments-api', 'service-account', 'active'],
      ['api-key:payments-stripe', 'api-key', 'active'],
      ['secret:payments-db-password', 'secret', 'active'],
    ]);
    const stripe = anchors[1];
    const expectedFingerprint = `sha256:${createHash('sha256')
      .update('api-key:payments-stripe')
      .digest('hex')}`;
    expect(stripe.fingerprint).toBe(expectedFingerprint);
    expect(fakeFingerprint('api-key:payments-stripe')).toBe(
      expectedFingerprint,
    );
    expect(stripe.displayName).toBe('payments-stripe (simulated api-key)');
    expect(stripe.owner).toBe('group:default/payments-team');
    expect(Date.parse(stripe.createdAt!)).toBeLessThan(
      Date.parse(stripe.lastUsedAt!),
    );
    expect(Date.parse(stripe.lastUsedAt!)).toBeLessThanOrEqual(Date.now());
    expect(anchors[2].sharedWith).toEqual(['component:default/invoice-bot']);

    // Discovering again returns the same credentials, not new ones.
    const again = await provider.discover({
      entity,
      entityRef,
      linked: linked('api-key:payments-stripe'),
    });
    expect(again[0]).toEqual({ ...stripe, sharedWith: [] });
    expect(provider.stats().calls.discover).toBe(2);
  });

  it('revokes idempotently and verifies the result', async () => {
    const provider = create();
    const anchor = await discoverOne(provider, 'api-key:payments-stripe');

    await expect(provider.verify(anchor, ctx())).resolves.toMatchObject({
      outcome: 'trusted',
    });
    const first = await provider.revoke(anchor, ctx());
    expect(first.changed).toBe(true);
    expect(first.detail).toContain('(simulated)');
    expect(first.observed).toMatchObject({
      simulated: true,
      status: 'revoked',
    });

    const second = await provider.revoke(anchor, ctx());
    expect(second).toMatchObject({ changed: false });
    expect(second.detail).toMatch(/already revoked/);

    const verified = await provider.verify(anchor, ctx());
    expect(verified.outcome).toBe('untrusted');
    expect(verified.observed).toMatchObject({ status: 'revoked' });

    // a revoked credential cannot come back
    await expect(provider.enable(anchor, ctx())).rejects.toBeInstanceOf(
      PermanentProviderError,
    );
    expect(provider.inspect('api-key:payments-stripe')?.status).toBe('revoked');

    const stats = provider.stats();
    expect(stats.calls).toMatchObject({
      discover: 1,
      revoke: 2,
      verify: 2,
      enable: 1,
    });
    expect(stats.changes.revoke).toBe(1);
    expect(stats.totalCalls).toBe(6);
  });

  it('disables and re-enables (quarantine and release)', async () => {
    const provider = create();
    const anchor = await discoverOne(provider, 'service-account:invoice-bot');
    const sessions = provider.inspect('service-account:invoice-bot')!.sessions;
    expect(sessions).toBeGreaterThan(0);

    const disabled = await provider.disable(anchor, ctx());
    expect(disabled.changed).toBe(true);
    expect(disabled.detail).toContain(`ended ${sessions} session(s)`);
    expect((await provider.disable(anchor, ctx())).changed).toBe(false);
    await expect(provider.verify(anchor, ctx())).resolves.toMatchObject({
      outcome: 'untrusted',
    });

    expect((await provider.enable(anchor, ctx())).changed).toBe(true);
    expect((await provider.enable(anchor, ctx())).changed).toBe(false);
    await expect(provider.verify(anchor, ctx())).resolves.toMatchObject({
      outcome: 'trusted',
    });
  });

  it('terminates sessions once', async () => {
    const provider = create();
    const anchor = await discoverOne(provider, 'service-account:payments-api');
    const first = await provider.terminateSessions(anchor, ctx());
    expect(first.changed).toBe(true);
    expect(first.observed).toMatchObject({ sessions: 0 });
    expect((await provider.terminateSessions(anchor, ctx())).changed).toBe(
      false,
    );

    // keys have no sessions at all
    const key = await discoverOne(provider, 'api-key:payments-stripe');
    expect((await provider.terminateSessions(key, ctx())).changed).toBe(false);
  });

  it('removes memberships: of an identity, or a group-membership anchor itself', async () => {
    const provider = create();
    const membership = await discoverOne(
      provider,
      'group-membership:payments-admins',
    );
    const account = await discoverOne(provider, 'service-account:payments-api');
    const key = await discoverOne(provider, 'api-key:payments-stripe');

    expect((await provider.removeMemberships(membership, ctx())).changed).toBe(
      true,
    );
    expect((await provider.removeMemberships(membership, ctx())).changed).toBe(
      false,
    );
    await expect(provider.verify(membership, ctx())).resolves.toMatchObject({
      outcome: 'untrusted',
    });

    expect(
      provider.inspect('service-account:payments-api')?.memberships,
    ).toEqual(['role:payments-api-runtime', 'group:payments-services']);
    const fromAccount = await provider.removeMemberships(account, ctx());
    expect(fromAccount).toMatchObject({
      changed: true,
      observed: { memberships: [] },
    });
    expect(fromAccount.detail).toContain('role:payments-api-runtime');
    expect((await provider.removeMemberships(account, ctx())).changed).toBe(
      false,
    );
    // the identity itself is untouched: disabling it is another step
    expect(provider.inspect('service-account:payments-api')?.status).toBe(
      'active',
    );

    expect((await provider.removeMemberships(key, ctx())).changed).toBe(false);
  });

  it('gives read-only database users read scopes only', async () => {
    const provider = create();
    const [ro, rw] = await provider.discover({
      entity,
      entityRef,
      linked: linked('db-user:payments_readonly', 'db-user:ledger_sync'),
    });
    expect(ro.scopes).toEqual(['SELECT']);
    expect(rw.scopes).toEqual(['SELECT', 'INSERT', 'UPDATE', 'DELETE']);
  });

  it('rotates a shared secret: the old fingerprint stops working, the new one works', async () => {
    const provider = create();
    const anchor = await discoverOne(provider, 'secret:payments-db-password');
    const oldFingerprint = anchor.fingerprint!;

    const rotated = await provider.rotate(anchor, ctx('rotate-step'));
    expect(rotated.changed).toBe(true);
    expect(rotated.newFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rotated.newFingerprint).not.toBe(oldFingerprint);

    // re-running the same step is a no-op with the same result
    const rerun = await provider.rotate(anchor, ctx('rotate-step'));
    expect(rerun).toMatchObject({
      changed: false,
      newFingerprint: rotated.newFingerprint,
    });
    // another step with the already rotated-out copy is a no-op too
    expect((await provider.rotate(anchor, ctx('other-step'))).changed).toBe(
      false,
    );

    const oldCopy = await provider.verify(anchor, ctx());
    expect(oldCopy.outcome).toBe('untrusted');
    expect(oldCopy.detail).toContain('rotated');
    expect(oldCopy.observed).toMatchObject({ checkedFingerprintRotated: true });

    const newCopy = await provider.verify(
      { ...anchor, fingerprint: rotated.newFingerprint },
      ctx(),
    );
    expect(newCopy.outcome).toBe('trusted');

    // the credential itself still works for the others
    const rediscovered = await discoverOne(
      provider,
      'secret:payments-db-password',
    );
    expect(rediscovered.status).toBe('active');
    expect(rediscovered.fingerprint).toBe(rotated.newFingerprint);
  });

  it('persists every change: a second instance sharing the state file sees it', async () => {
    const first = create();
    const stripe = await discoverOne(first, 'api-key:payments-stripe');
    const account = await discoverOne(first, 'service-account:payments-api');
    await first.revoke(stripe, ctx());
    await first.disable(account, ctx());

    // "restart": a new instance on the same file, the old one never closed
    const second = create();
    expect(second.inspect('api-key:payments-stripe')?.status).toBe('revoked');
    expect(second.inspect('service-account:payments-api')?.status).toBe(
      'disabled',
    );
    await expect(second.verify(stripe, ctx())).resolves.toMatchObject({
      outcome: 'untrusted',
    });
    expect((await second.revoke(stripe, ctx())).changed).toBe(false);

    // and changes flow back to the first instance
    await second.enable(account, ctx());
    await expect(first.verify(account, ctx())).resolves.toMatchObject({
      outcome: 'trusted',
    });

    const onDisk = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    expect(onDisk.version).toBe(1);
    expect(onDisk.credentials['api-key:payments-stripe']).toMatchObject({
      status: 'revoked',
      kind: 'api-key',
    });
    // written atomically: no temp files left behind
    expect(fs.readdirSync(path.dirname(stateFile))).toEqual([
      'demo-credentials-demo.json',
    ]);
    // ids and fingerprints only
    expect(JSON.stringify(onDisk)).not.toMatch(/password"\s*:/i);
  });

  it('writes concurrent changes safely', async () => {
    const provider = create();
    const ids = Array.from({ length: 25 }, (_, i) => `api-key:key-${i}`);
    const anchors = (
      await provider.discover({ entity, entityRef, linked: linked(...ids) })
    ).map(anchorFrom);
    await Promise.all(anchors.map(a => provider.revoke(a, ctx())));
    await provider.close();

    const reloaded = create();
    expect(
      ids.filter(id => reloaded.inspect(id)?.status === 'revoked'),
    ).toHaveLength(25);
  });

  it('refuses a corrupt state file instead of starting over', () => {
    fs.mkdirSync(path.dirname(stateFile), { recursive: true });
    fs.writeFileSync(stateFile, '{ not json');
    expect(() => create()).toThrow(/not valid JSON/);
  });

  describe('failure injection', () => {
    it('throws TransientProviderError before changing anything', async () => {
      const provider = create();
      const anchor = await discoverOne(provider, 'api-key:flaky');
      const flaky = create({ failureRate: 0.5, random: () => 0.1 });

      await expect(flaky.revoke(anchor, ctx())).rejects.toBeInstanceOf(
        TransientProviderError,
      );
      expect(flaky.inspect('api-key:flaky')?.status).toBe('active');
      expect(flaky.stats().injectedFailures.revoke).toBe(1);
      expect(flaky.stats().calls.revoke).toBe(1);
    });

    it('can fail after the change, and the retry reports changed: false', async () => {
      const provider = create();
      const anchor = await discoverOne(provider, 'api-key:lost-response');
      let fail = true;
      const flaky = create({
        failureRate: 0.5,
        failureMode: 'after',
        random: () => (fail ? 0.1 : 0.9),
      });

      await expect(flaky.revoke(anchor, ctx())).rejects.toThrow(
        /Simulated transient failure of revoke/,
      );
      expect(flaky.inspect('api-key:lost-response')?.status).toBe('revoked');
      fail = false;
      await expect(flaky.revoke(anchor, ctx())).resolves.toMatchObject({
        changed: false,
      });
    });

    it('never fails with failureRate 0', async () => {
      const provider = create({ failureRate: 0, random: () => 0 });
      const anchor = await discoverOne(provider, 'api-key:steady');
      await expect(provider.revoke(anchor, ctx())).resolves.toMatchObject({
        changed: true,
      });
    });
  });

  it('waits the configured latency and honours the abort signal', async () => {
    const provider = create({ latencyMs: 60 });
    const started = Date.now();
    const anchor = await discoverOne(provider, 'api-key:slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);

    const controller = new AbortController();
    const pending = provider.revoke(anchor, {
      ...ctx(),
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(provider.inspect('api-key:slow')?.status).toBe('active');
  });

  describe('fromConfig', () => {
    it('reads latency, failure rate, limits and a relative state file', () => {
      const provider = DemoTrustAnchorProvider.fromConfig({
        id: 'demo-eu',
        cwd: dir,
        config: new ConfigReader({
          id: 'demo-eu',
          type: 'demo',
          latencyMs: 150,
          failureRate: 0.2,
          concurrency: 8,
          ratePerSecond: 50,
        }),
      });
      expect(provider.id).toBe('demo-eu');
      expect(provider.limits).toEqual({ concurrency: 8, ratePerSecond: 50 });
      expect(provider.stateFile).toBe(
        path.join(dir, '.data', 'demo-credentials-demo-eu.json'),
      );
    });

    it('accepts an explicit state file and rejects bad values', () => {
      const provider = DemoTrustAnchorProvider.fromConfig({
        id: 'demo',
        cwd: dir,
        config: new ConfigReader({ stateFile: 'custom/state.json' }),
      });
      expect(provider.stateFile).toBe(path.join(dir, 'custom', 'state.json'));
      expect(provider.limits).toEqual({});

      expect(() =>
        DemoTrustAnchorProvider.fromConfig({
          id: 'demo',
          cwd: dir,
          config: new ConfigReader({ failureRate: 2 }),
        }),
      ).toThrow(/failureRate/);
      expect(() =>
        DemoTrustAnchorProvider.fromConfig({
          id: 'demo',
          cwd: dir,
          config: new ConfigReader({ latencyMs: -1 }),
        }),
      ).toThrow(/latencyMs/);
    });
  });
});
