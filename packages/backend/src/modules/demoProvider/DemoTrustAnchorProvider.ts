/*
 * SIMULATION. The `demo` provider acts on a simulated, in-process credential
 * store (see DemoCredentialStore), not on a real system. Everything it
 * reports is labelled "(simulated)" so nobody mistakes its evidence for the
 * revocation of a real credential.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  ActionContext,
  ActionResult,
  DiscoveredAnchor,
  DiscoverRequest,
  PermanentProviderError,
  ProviderLimits,
  RateLimitedError,
  TransientProviderError,
  TrustAnchorProvider,
  VerifyResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import {
  DemoCredential,
  DemoCredentialStore,
  fakeFingerprint,
} from './DemoCredentialStore';
import { DemoCallLog } from './demoCallLog';
import {
  DEFAULT_RETRY_AFTER_MS,
  DEFAULT_SLOW_MS,
  DemoFaultKind,
  DemoFaultOptions,
  pickFault,
  readFaults,
  validateFaults,
} from './demoFaults';

/** The provider type that `nhiOffboarding.providers[].type` names. */
export const DEMO_PROVIDER_TYPE = 'demo';

/** The calls a provider can receive; counted by {@link DemoTrustAnchorProvider.stats}. */
export const DEMO_PROVIDER_ACTIONS = [
  'discover',
  'disable',
  'enable',
  'revoke',
  'terminateSessions',
  'rotate',
  'removeMemberships',
  'verify',
] as const;
export type DemoProviderAction = (typeof DEMO_PROVIDER_ACTIONS)[number];

/** Per-action call counts. */
export interface DemoProviderStats {
  /** Calls received, including the ones that failed. */
  calls: Record<DemoProviderAction, number>;
  /** Calls that failed with an injected (simulated) transient error. */
  injectedFailures: Record<DemoProviderAction, number>;
  /** Calls that changed the simulated store. */
  changes: Record<DemoProviderAction, number>;
  /** Faults injected into acting and verifying calls (see `faults`). */
  injectedFaults: Record<DemoFaultKind, number>;
  totalCalls: number;
}

/**
 * When an injected failure happens: `before` the store is changed (the call
 * had no effect), `after` it (the change is made but the caller sees an
 * error, as when a response is lost; a retry must then report
 * `changed: false`), or `either` at random.
 */
export type DemoFailureMode = 'before' | 'after' | 'either';

export interface DemoTrustAnchorProviderOptions {
  id: string;
  /** Absolute path of the JSON state file. */
  stateFile: string;
  /** Simulated latency of every call in ms (default 0). */
  latencyMs?: number;
  /** Probability in [0, 1] that a call fails with a TransientProviderError (default 0). */
  failureRate?: number;
  failureMode?: DemoFailureMode;
  /** Faults injected into acting and verifying calls, per kind. */
  faults?: DemoFaultOptions;
  /** Absolute path of a JSONL file that logs every acting and verifying call. */
  callLogFile?: string;
  limits?: ProviderLimits;
  logger?: LoggerService;
  /** For tests: the source of randomness for failure injection. */
  random?: () => number;
  now?: () => Date;
}

const SCOPES_BY_KIND: Partial<Record<string, string[]>> = {
  'api-key': ['read', 'write'],
  token: ['api'],
  'oauth-client': ['client_credentials'],
  'service-account': ['roles/editor'],
  'iam-user': ['policy/ReadWrite'],
  'iam-role': ['sts:AssumeRole'],
  'access-key': ['programmatic-access'],
  'deploy-key': ['repo:write'],
  'db-user': ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  'ssh-key': ['login'],
  'group-membership': ['member'],
};

function scopesOf(credential: Pick<DemoCredential, 'kind' | 'name'>): string[] {
  if (
    credential.kind === 'db-user' &&
    /read[-_]?only|reader/i.test(credential.name)
  ) {
    return ['SELECT'];
  }
  return SCOPES_BY_KIND[credential.kind] ?? [];
}

function emptyFaultCounts(): Record<DemoFaultKind, number> {
  return { error: 0, 'rate-limit': 0, slow: 0, hang: 0 };
}

function emptyCounts(): Record<DemoProviderAction, number> {
  return Object.fromEntries(DEMO_PROVIDER_ACTIONS.map(a => [a, 0])) as Record<
    DemoProviderAction,
    number
  >;
}

function label(credential: Pick<DemoCredential, 'kind' | 'name'>): string {
  return `${credential.kind} ${credential.name}`;
}

function observedOf(credential: DemoCredential): Record<string, unknown> {
  return {
    simulated: true,
    status: credential.status,
    fingerprint: credential.fingerprint,
    sessions: credential.sessions,
    memberships: credential.memberships,
    rotations: credential.rotations.length,
    updatedAt: credential.updatedAt,
    ...(credential.disabledAt ? { disabledAt: credential.disabledAt } : {}),
    ...(credential.revokedAt ? { revokedAt: credential.revokedAt } : {}),
  };
}

/**
 * A provider of type `demo`: a SIMULATED credential store for trying NHI
 * Offboarding end to end. Anchor ids are `<kind>:<name>` (e.g.
 * `api-key:payments-stripe`); an id that an entity links and that the store
 * does not know yet is created as an active credential with a fake
 * fingerprint. Every action is idempotent and persisted before it returns.
 */
export class DemoTrustAnchorProvider implements TrustAnchorProvider {
  readonly id: string;
  readonly type = DEMO_PROVIDER_TYPE;
  readonly simulated = true;
  readonly manual = false;
  readonly limits?: ProviderLimits;

  private readonly store: DemoCredentialStore;
  private readonly latencyMs: number;
  private readonly failureRate: number;
  private readonly failureMode: DemoFailureMode;
  private readonly faults: DemoFaultOptions;
  private readonly callLog?: DemoCallLog;
  private readonly random: () => number;
  private readonly now: () => Date;
  private readonly logger?: LoggerService;
  private counts = {
    calls: emptyCounts(),
    injectedFailures: emptyCounts(),
    changes: emptyCounts(),
    injectedFaults: emptyFaultCounts(),
  };

  /**
   * Builds a provider from one `nhiOffboarding.providers` entry. Relative
   * `stateFile` paths are resolved against the working directory of the
   * backend process (packages/backend when started by the Backstage CLI).
   */
  static fromConfig(options: {
    id: string;
    config: Config;
    logger?: LoggerService;
    cwd?: string;
  }): DemoTrustAnchorProvider {
    const { id, config, logger } = options;
    const cwd = options.cwd ?? process.cwd();
    const stateFile = path.resolve(
      cwd,
      config.getOptionalString('stateFile') ??
        path.join('.data', `demo-credentials-${id}.json`),
    );
    const latencyMs = config.getOptionalNumber('latencyMs') ?? 0;
    const failureRate = config.getOptionalNumber('failureRate') ?? 0;
    if (!(latencyMs >= 0)) {
      throw new Error(
        `nhiOffboarding.providers[${id}].latencyMs must be >= 0, got ${latencyMs}`,
      );
    }
    if (!(failureRate >= 0 && failureRate <= 1)) {
      throw new Error(
        `nhiOffboarding.providers[${id}].failureRate must be between 0 and 1, got ${failureRate}`,
      );
    }
    const failureMode = (config.getOptionalString('failureMode') ??
      'before') as DemoFailureMode;
    if (!['before', 'after', 'either'].includes(failureMode)) {
      throw new Error(
        `nhiOffboarding.providers[${id}].failureMode must be before, after or either, got ${failureMode}`,
      );
    }
    const limits: ProviderLimits = {};
    const concurrency = config.getOptionalNumber('concurrency');
    const ratePerSecond = config.getOptionalNumber('ratePerSecond');
    const propagationWindowMs = config.getOptionalNumber('propagationWindowMs');
    const callTimeoutMs = config.getOptionalNumber('callTimeoutMs');
    if (concurrency !== undefined) limits.concurrency = concurrency;
    if (ratePerSecond !== undefined) limits.ratePerSecond = ratePerSecond;
    if (propagationWindowMs !== undefined) {
      limits.propagationWindowMs = propagationWindowMs;
    }
    if (callTimeoutMs !== undefined) limits.callTimeoutMs = callTimeoutMs;
    const faults = readFaults(config, `nhiOffboarding.providers[${id}]`);
    const callLogFile = config.getOptionalString('callLogFile');

    return new DemoTrustAnchorProvider({
      id,
      stateFile,
      latencyMs,
      failureRate,
      failureMode,
      faults,
      callLogFile: callLogFile ? path.resolve(cwd, callLogFile) : undefined,
      limits,
      logger,
    });
  }

  constructor(options: DemoTrustAnchorProviderOptions) {
    this.id = options.id;
    this.latencyMs = options.latencyMs ?? 0;
    this.failureRate = options.failureRate ?? 0;
    this.failureMode = options.failureMode ?? 'before';
    this.faults = options.faults ?? {};
    validateFaults(this.faults, `demo provider ${options.id}`);
    this.callLog = options.callLogFile
      ? new DemoCallLog(options.callLogFile)
      : undefined;
    this.limits = options.limits;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
    this.store = new DemoCredentialStore({
      file: options.stateFile,
      now: this.now,
    });
  }

  /** The state file of the simulated store. */
  get stateFile(): string {
    return this.store.file;
  }

  /** Per-action call counts since start (or the last {@link resetStats}). */
  stats(): DemoProviderStats {
    const calls = { ...this.counts.calls };
    return {
      calls,
      injectedFailures: { ...this.counts.injectedFailures },
      changes: { ...this.counts.changes },
      injectedFaults: { ...this.counts.injectedFaults },
      totalCalls: Object.values(calls).reduce((a, b) => a + b, 0),
    };
  }

  resetStats(): void {
    this.counts = {
      calls: emptyCounts(),
      injectedFailures: emptyCounts(),
      changes: emptyCounts(),
      injectedFaults: emptyFaultCounts(),
    };
  }

  /** A copy of a credential of the simulated store, for tests and tooling. */
  inspect(externalId: string): DemoCredential | undefined {
    return this.store.get(externalId);
  }

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    await this.enter('discover', request.signal);
    const failAfter = this.pickFailure('discover');
    const owner =
      typeof request.entity.spec?.owner === 'string'
        ? request.entity.spec.owner
        : undefined;
    const anchors: DiscoveredAnchor[] = [];
    const seen = new Set<string>();
    for (const linked of request.linked) {
      const externalId = linked.externalId.trim();
      if (!externalId || seen.has(externalId)) {
        continue;
      }
      seen.add(externalId);
      const credential = await this.store.ensure(externalId);
      anchors.push({
        externalId,
        kind: credential.kind,
        displayName: `${credential.name} (simulated ${credential.kind})`,
        fingerprint: credential.fingerprint,
        scopes: scopesOf(credential),
        owner,
        sharedWith: linked.sharedWith,
        createdAt: credential.createdAt,
        lastUsedAt: credential.lastUsedAt,
        // A rotated credential that still works for its other users is
        // `active`: `rotated` is what the engine records for the entity
        // whose copy was rotated out, not a state of the credential.
        status: credential.status,
      });
    }
    this.failIf(failAfter, 'discover');
    return anchors;
  }

  async disable(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    return this.act('disable', anchor, ctx, c => {
      if (c.status !== 'active') {
        return {
          changed: false,
          detail: `${label(c)} is already ${c.status} (simulated)`,
        };
      }
      c.status = 'disabled';
      c.disabledAt = this.now().toISOString();
      const ended = c.sessions;
      c.sessions = 0;
      return {
        changed: true,
        detail: `Disabled ${label(c)}${
          ended ? ` and ended ${ended} session(s)` : ''
        } (simulated)`,
      };
    });
  }

  async enable(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    return this.act('enable', anchor, ctx, c => {
      if (c.status === 'revoked') {
        throw new PermanentProviderError(
          `${label(
            c,
          )} was revoked and cannot be enabled again (simulated); issue a new credential instead`,
        );
      }
      if (c.status === 'active') {
        return {
          changed: false,
          detail: `${label(c)} is already active (simulated)`,
        };
      }
      c.status = 'active';
      delete c.disabledAt;
      return { changed: true, detail: `Re-enabled ${label(c)} (simulated)` };
    });
  }

  async revoke(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    return this.act('revoke', anchor, ctx, c => {
      if (c.status === 'revoked') {
        return {
          changed: false,
          detail: `${label(c)} is already revoked (simulated)`,
        };
      }
      c.status = 'revoked';
      c.revokedAt = this.now().toISOString();
      c.sessions = 0;
      return { changed: true, detail: `Revoked ${label(c)} (simulated)` };
    });
  }

  async terminateSessions(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    return this.act('terminateSessions', anchor, ctx, c => {
      if (c.sessions === 0) {
        return {
          changed: false,
          detail: `${label(c)} has no live sessions (simulated)`,
        };
      }
      const ended = c.sessions;
      c.sessions = 0;
      return {
        changed: true,
        detail: `Ended ${ended} session(s) of ${label(c)} (simulated)`,
      };
    });
  }

  async rotate(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    return this.act('rotate', anchor, ctx, c => {
      const sameStep = c.rotations.find(
        r => r.stepId === ctx.stepId && r.retirementId === ctx.retirementId,
      );
      if (sameStep) {
        return {
          changed: false,
          detail: `${label(c)} was already rotated by this step (simulated)`,
          newFingerprint: sameStep.toFingerprint,
        };
      }
      if (c.status === 'revoked') {
        return {
          changed: false,
          detail: `${label(
            c,
          )} is revoked: no copy of it works any more, nothing to rotate (simulated)`,
        };
      }
      if (
        anchor.fingerprint &&
        c.retiredFingerprints.includes(anchor.fingerprint)
      ) {
        return {
          changed: false,
          detail: `The copy of ${label(
            c,
          )} known to this entity was already rotated out (simulated)`,
          newFingerprint: c.fingerprint,
        };
      }
      const fromFingerprint = c.fingerprint;
      const toFingerprint = fakeFingerprint(
        `${c.externalId}#rotation-${c.rotations.length + 1}`,
      );
      c.retiredFingerprints.push(fromFingerprint);
      c.fingerprint = toFingerprint;
      c.rotations.push({
        at: this.now().toISOString(),
        fromFingerprint,
        toFingerprint,
        stepId: ctx.stepId,
        retirementId: ctx.retirementId,
      });
      return {
        changed: true,
        detail: `Rotated ${label(
          c,
        )}: the old value no longer works, the remaining users get the new one (simulated)`,
        newFingerprint: toFingerprint,
      };
    });
  }

  /**
   * On an identity: removes it from every group and role it is a member of.
   * On a `group-membership` anchor: ends that membership.
   */
  async removeMemberships(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    return this.act('removeMemberships', anchor, ctx, c => {
      if (c.kind === 'group-membership') {
        if (c.status === 'revoked') {
          return {
            changed: false,
            detail: `Membership ${c.name} was already removed (simulated)`,
          };
        }
        c.status = 'revoked';
        c.revokedAt = this.now().toISOString();
        return {
          changed: true,
          detail: `Removed membership ${c.name} (simulated)`,
        };
      }
      if (c.memberships.length === 0) {
        return {
          changed: false,
          detail: `${label(c)} is a member of no group or role (simulated)`,
        };
      }
      const removed = c.memberships;
      c.memberships = [];
      return {
        changed: true,
        detail: `Removed ${label(c)} from ${removed.join(', ')} (simulated)`,
      };
    });
  }

  async verify(anchor: TrustAnchor, ctx: ActionContext): Promise<VerifyResult> {
    return this.engineCall('verify', anchor, ctx, async () => ({
      value: await this.observe(anchor),
    }));
  }

  private async observe(anchor: TrustAnchor): Promise<VerifyResult> {
    const failAfter = this.pickFailure('verify');
    const c = this.store.get(anchor.externalId);
    let result: VerifyResult;
    if (!c) {
      result = {
        outcome: 'untrusted',
        detail: `${anchor.externalId} does not exist in the simulated store`,
        observed: { simulated: true, exists: false },
      };
    } else if (c.status !== 'active') {
      result = {
        outcome: 'untrusted',
        detail: `${label(c)} is ${c.status}: not accepted (simulated)`,
        observed: observedOf(c),
      };
    } else if (anchor.fingerprint && anchor.fingerprint !== c.fingerprint) {
      const rotated = c.retiredFingerprints.includes(anchor.fingerprint);
      result = {
        outcome: 'untrusted',
        detail: rotated
          ? `${label(
              c,
            )} was rotated: the value this entity held (${anchor.fingerprint.slice(
              0,
              19,
            )}…) is no longer accepted (simulated)`
          : `${label(
              c,
            )} does not accept the fingerprint this entity held (simulated)`,
        observed: {
          ...observedOf(c),
          checkedFingerprint: anchor.fingerprint,
          checkedFingerprintRotated: rotated,
        },
      };
    } else {
      result = {
        outcome: 'trusted',
        detail: `${label(c)} is active and still accepted (simulated)`,
        observed: observedOf(c),
      };
    }
    this.failIf(failAfter, 'verify');
    return result;
  }

  async close(): Promise<void> {
    await this.store.flush();
  }

  /**
   * Runs an action on the stored credential: latency, injected failures,
   * the change itself (persisted before returning) and the counters.
   */
  private async act(
    action: DemoProviderAction,
    anchor: TrustAnchor,
    ctx: ActionContext,
    change: (credential: DemoCredential) => Omit<ActionResult, 'observed'>,
  ): Promise<ActionResult> {
    return this.engineCall(action, anchor, ctx, report =>
      this.apply(action, anchor, ctx, change, report),
    );
  }

  private async apply(
    action: DemoProviderAction,
    anchor: TrustAnchor,
    ctx: ActionContext,
    change: (credential: DemoCredential) => Omit<ActionResult, 'observed'>,
    report: (changed: boolean) => void,
  ): Promise<{ value: ActionResult; changed: boolean }> {
    const failAfter = this.pickFailure(action);
    let outcome: Omit<ActionResult, 'observed'> | undefined;
    const { credential, changed } = await this.store.update(
      anchor.externalId,
      c => {
        outcome = change(c);
        return outcome.changed;
      },
    );
    report(changed);
    if (!credential || !outcome) {
      return {
        changed: false,
        value: {
          changed: false,
          detail: `${anchor.externalId} does not exist in the simulated store; nothing to do`,
          observed: { simulated: true, exists: false },
        },
      };
    }
    if (changed) {
      this.counts.changes[action] += 1;
      ctx.logger?.debug(`demo provider ${this.id}: ${outcome.detail}`);
    }
    this.failIf(failAfter, action);
    return { changed, value: { ...outcome, observed: observedOf(credential) } };
  }

  /**
   * One call of the engine (an action or a verification): logged in the call
   * log, counted, delayed by the latency, and perhaps hit by an injected
   * fault before it reaches the store.
   */
  private async engineCall<T>(
    action: DemoProviderAction,
    anchor: TrustAnchor,
    ctx: ActionContext,
    body: (
      report: (changed: boolean) => void,
    ) => Promise<{ value: T; changed?: boolean }>,
  ): Promise<T> {
    const end = this.callLog?.start({
      provider: this.id,
      action,
      externalId: anchor.externalId,
      retirementId: ctx.retirementId,
      stepId: ctx.stepId,
    });
    let changed: boolean | undefined;
    try {
      await this.enter(action, ctx.signal);
      await this.injectFault(action, ctx.signal, end);
      const { value } = await body(c => {
        changed = c;
      });
      end?.({ changed, result: 'ok' });
      return value;
    } catch (error) {
      end?.({ changed, result: describeFailure(error) });
      throw error;
    }
  }

  /** Applies the injected fault of this call, if one is drawn. */
  private async injectFault(
    action: DemoProviderAction,
    signal: AbortSignal | undefined,
    end: ((e: { result: string }) => void) | undefined,
  ): Promise<void> {
    const fault = pickFault(this.faults, this.random);
    if (!fault) return;
    this.counts.injectedFaults[fault] += 1;
    this.logger?.debug(
      `demo provider ${this.id}: injected fault ${fault} into ${action}`,
    );
    switch (fault) {
      case 'error':
        throw new TransientProviderError(
          `Simulated 503 Service Unavailable from demo provider ${this.id} on ${action}`,
        );
      case 'rate-limit': {
        const retryAfterMs = this.faults.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
        throw new RateLimitedError(
          `Simulated 429 Too Many Requests from demo provider ${this.id} on ${action}: retry after ${retryAfterMs} ms`,
          retryAfterMs,
        );
      }
      case 'slow':
        // A late answer; a caller that gives up first aborts the wait.
        await sleep(
          this.faults.slowMs ?? DEFAULT_SLOW_MS,
          undefined,
          signal ? { signal } : undefined,
        );
        return;
      case 'hang':
      default:
        // Never answers and ignores the abort signal, like a dead connection
        // without a socket timeout: only the caller's own timeout ends it.
        // The call log still notes when the caller gave up.
        signal?.addEventListener('abort', () =>
          end?.({ result: 'hang-abandoned' }),
        );
        await new Promise<never>(() => {});
    }
  }

  /** Counts the call and waits the simulated latency. */
  private async enter(
    action: DemoProviderAction,
    signal?: AbortSignal,
  ): Promise<void> {
    this.counts.calls[action] += 1;
    signal?.throwIfAborted();
    if (this.latencyMs > 0) {
      await sleep(this.latencyMs, undefined, signal ? { signal } : undefined);
    }
  }

  /**
   * Decides whether this call fails. Throws now for a failure before the
   * change; returns true when the failure is to be thrown after it.
   */
  private pickFailure(action: DemoProviderAction): boolean {
    if (this.failureRate <= 0 || this.random() >= this.failureRate) {
      return false;
    }
    const after =
      this.failureMode === 'after' ||
      (this.failureMode === 'either' && this.random() < 0.5);
    if (!after) {
      this.throwInjected(action, 'before');
    }
    return true;
  }

  private failIf(failAfter: boolean, action: DemoProviderAction): void {
    if (failAfter) {
      this.throwInjected(action, 'after');
    }
  }

  private throwInjected(
    action: DemoProviderAction,
    when: 'before' | 'after',
  ): never {
    this.counts.injectedFailures[action] += 1;
    this.logger?.debug(
      `demo provider ${this.id}: injected transient failure of ${action} (${when} the change)`,
    );
    throw new TransientProviderError(
      `Simulated transient failure of ${action} in demo provider ${this.id} (failureRate ${this.failureRate})`,
    );
  }
}

function describeFailure(error: unknown): string {
  if ((error as Error)?.name === 'AbortError') return 'aborted';
  if (error instanceof RateLimitedError) return 'rate-limit';
  if (error instanceof TransientProviderError) {
    return /^Simulated 503/.test(error.message) ? 'error' : 'transient-error';
  }
  if (error instanceof PermanentProviderError) return 'permanent-error';
  return 'error';
}
