import { setMaxListeners } from 'events';
import { hostname } from 'os';
import { randomBytes } from 'crypto';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  AnchorStatus,
  StepAction,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  ActionContext,
  ActionResult,
  TransientProviderError,
  TrustAnchorProvider,
  VerifyResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import type {
  ClaimedStep,
  RetirementStore,
  StepCompletion,
} from '../database/RetirementStore';
import type { ProviderRegistry } from '../providers/ProviderRegistry';
import { sharedProviderGate } from './ProviderGate';
import { DEFAULT_RETRY_POLICY, RetryPolicy, judgeError } from './retryPolicy';
import { withTimeout } from './withTimeout';

export interface EngineOptions {
  /** How often to look for work when there is none (ms). */
  pollIntervalMs: number;
  /** A claimed step is someone else's to take over after this long without a heartbeat (ms). */
  leaseMs: number;
  /** Steps run at once by this process, across providers. */
  workerConcurrency: number;
  retry: RetryPolicy;
  /** Default cut-off of one provider call (ms); providers may declare their own. */
  callTimeoutMs: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  pollIntervalMs: 1000,
  leaseMs: 30_000,
  // Twice what the providers' gates usually admit: a step's end (its rows
  // and evidence, ~12 ms on PostgreSQL under load) overlaps the next call,
  // so the providers are not left idle meanwhile (bench/README.md, benchmark 1).
  workerConcurrency: 32,
  retry: DEFAULT_RETRY_POLICY,
  callTimeoutMs: 30_000,
};

type ActingAction = Exclude<StepAction, 'verify' | 'attest' | 'seal'>;

const METHOD: Record<ActingAction, keyof TrustAnchorProvider> = {
  disable: 'disable',
  enable: 'enable',
  'terminate-sessions': 'terminateSessions',
  'remove-memberships': 'removeMemberships',
  revoke: 'revoke',
  rotate: 'rotate',
};

const STATUS_AFTER: Partial<Record<ActingAction, AnchorStatus>> = {
  disable: 'disabled',
  enable: 'active',
  revoke: 'revoked',
  rotate: 'rotated',
};

/**
 * Runs retirement steps durably. Each step is claimed with a lease that a
 * heartbeat keeps alive; a crashed worker's steps are taken over when the
 * lease runs out, and providers' actions are idempotent, so a step that is
 * run again after a crash does no harm. Results and their evidence are
 * written only while the lease is held.
 */
export class RetirementEngine {
  readonly workerId = `${hostname()}-${process.pid}-${randomBytes(4).toString(
    'hex',
  )}`;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  /** Per step in flight: aborted when the engine stops or the lease is lost. */
  private readonly leases = new Map<string, AbortController>();
  private wakeUp?: () => void;
  /** Set by wake() while not sleeping, so the next sleep is skipped. */
  private woken = false;
  /** Steps ended so far; a pass that saw none claimable may have raced one ending. */
  private ended = 0;
  /**
   * Whether a new retirement may be waiting to start: set by wake() (someone
   * created one) and by every poll, so the passes that follow a step's end
   * skip that query.
   */
  private mayHavePending = true;
  private loop?: Promise<void>;

  constructor(
    private readonly store: RetirementStore,
    private readonly providers: ProviderRegistry,
    private readonly logger: LoggerService,
    private readonly options: EngineOptions = DEFAULT_ENGINE_OPTIONS,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  start(): void {
    // Every provider call in flight listens to this signal (and stops
    // listening when it ends): more than Node's default 10 is no leak.
    setMaxListeners(
      Math.max(10, 2 * this.options.workerConcurrency),
      this.abort.signal,
    );
    if (!this.loop) {
      this.loop = this.run();
    }
  }

  /** Stops claiming; waits for the steps in flight (their leases stay valid meanwhile). */
  async stop(): Promise<void> {
    this.abort.abort(new Error('The backend is shutting down'));
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Look for work now (e.g. a retirement was just created). */
  wake(): void {
    this.mayHavePending = true;
    this.wakeNow();
  }

  private wakeNow(): void {
    if (this.wakeUp) {
      this.wakeUp();
    } else {
      this.woken = true;
    }
  }

  /**
   * One pass: start new retirements, claim what this worker has room for,
   * and launch those steps. Returns how many steps were claimed.
   */
  async tick(): Promise<number> {
    this.mayHavePending = true;
    return this.pass();
  }

  private async pass(): Promise<number> {
    if (this.mayHavePending) {
      this.mayHavePending = false;
      await this.store.startPending(this.clock());
    }
    const room = this.options.workerConcurrency - this.inFlight.size;
    const claimed = await this.store.claimSteps({
      workerId: this.workerId,
      limit: room,
      leaseMs: this.options.leaseMs,
      now: this.clock(),
    });
    for (const step of claimed) {
      const run: Promise<void> = this.runStep(step)
        .catch(error =>
          this.logger.error(
            `Step ${step.step.id} of retirement ${step.retirementId} crashed: ${error}`,
          ),
        )
        .finally(() => {
          this.inFlight.delete(run);
          this.ended++;
          // Claim in batches: a pass per ended step would cost a claim
          // query per step. The provider gates still hold queued steps
          // meanwhile, so batching does not leave them idle.
          if (
            this.inFlight.size === 0 ||
            this.options.workerConcurrency - this.inFlight.size >=
              this.claimBatch
          ) {
            this.wakeNow();
          }
        });
      this.inFlight.add(run);
    }
    return claimed.length;
  }

  /** Runs ticks until nothing is left to do (tests and benchmarks). */
  async drain(maxTicks = 10_000): Promise<void> {
    for (let i = 0; i < maxTicks; i++) {
      const endedBefore = this.ended;
      const claimed = await this.tick();
      if (
        claimed === 0 &&
        this.inFlight.size === 0 &&
        this.ended === endedBefore
      ) {
        return;
      }
      if (claimed === 0 && this.inFlight.size > 0) {
        await Promise.race([...this.inFlight]);
      }
    }
  }

  /** Free workers that make a pass worth it after a step ends. */
  private get claimBatch(): number {
    return Math.max(1, Math.ceil(this.options.workerConcurrency / 4));
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      let claimed = 0;
      let room = 0;
      try {
        room = this.options.workerConcurrency - this.inFlight.size;
        claimed = await this.pass();
      } catch (error) {
        this.logger.error(`NHI Offboarding engine pass failed: ${error}`);
      }
      // Fewer than asked for: nothing more is due now; a step's end or a
      // wake() ends the sleep early.
      if (claimed === 0 || claimed < room) {
        if (!(await this.sleep(this.options.pollIntervalMs))) {
          this.mayHavePending = true;
        }
      }
    }
  }

  /** Resolves true when woken, false when the time ran out. */
  private sleep(ms: number): Promise<boolean> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve(true);
    }
    return new Promise(resolve => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve(woken);
      };
      timer = setTimeout(() => done(false), ms);
      this.wakeUp = () => done(true);
    });
  }

  private async runStep(claimed: ClaimedStep): Promise<void> {
    const { step } = claimed;
    const lease = new AbortController();
    const onStop = () => lease.abort(this.abort.signal.reason);
    this.abort.signal.addEventListener('abort', onStop);
    this.leases.set(step.id, lease);
    const heartbeat = setInterval(() => {
      const until = new Date(this.clock().getTime() + this.options.leaseMs);
      this.store
        .heartbeat(step.id, this.workerId, until)
        .then(held => {
          // Another worker took the step over (this one stalled past its
          // lease): stop the provider call so the two never run at once.
          if (!held && !lease.signal.aborted) {
            lease.abort(
              new TransientProviderError(
                `Lost the lease on step ${step.id}: another worker took it over`,
              ),
            );
          }
        })
        .catch(error =>
          this.logger.warn(`Heartbeat of step ${step.id} failed: ${error}`),
        );
    }, Math.max(250, Math.floor(this.options.leaseMs / 3)));
    try {
      if (step.action === 'seal') {
        await this.store.seal(step.id, this.workerId, this.clock());
        return;
      }
      const provider =
        claimed.anchor && this.providers.get(claimed.anchor.providerId);
      if (!claimed.anchor || !provider) {
        await this.finish(claimed, {
          status: 'failed',
          lastError: `Provider "${
            claimed.anchor?.providerId ?? '?'
          }" is not configured in this backend: configure it again, or request an exception for this anchor`,
        });
        return;
      }
      if (step.action === 'verify') {
        await this.verify(claimed, claimed.anchor, provider);
      } else {
        await this.act(
          claimed,
          claimed.anchor,
          provider,
          step.action as ActingAction,
        );
      }
    } finally {
      clearInterval(heartbeat);
      this.abort.signal.removeEventListener('abort', onStop);
      this.leases.delete(step.id);
    }
  }

  private async act(
    claimed: ClaimedStep,
    anchor: TrustAnchor,
    provider: TrustAnchorProvider,
    action: ActingAction,
  ): Promise<void> {
    const method = provider[METHOD[action]] as
      | ((a: TrustAnchor, ctx: ActionContext) => Promise<ActionResult>)
      | undefined;
    if (typeof method !== 'function') {
      await this.finish(claimed, {
        status: 'failed',
        lastError: `Provider ${provider.id} (${provider.type}) cannot ${action}: act on the credential by hand and request an exception`,
      });
      return;
    }
    let result: ActionResult;
    try {
      result = await this.call(
        provider,
        claimed,
        ctx => method.call(provider, anchor, ctx),
        action,
      );
    } catch (error) {
      await this.failOrRetry(claimed, anchor, provider, action, error);
      return;
    }
    const status = STATUS_AFTER[action];
    await this.finish(claimed, {
      status: 'succeeded',
      lastError: null,
      anchorPatch: status ? { status } : undefined,
      evidence: [
        {
          kind: 'action',
          stepId: claimed.step.id,
          anchorId: anchor.id,
          actor: `provider:${provider.id}`,
          summary: `${action} ${anchor.displayName} on ${provider.id}: ${result.detail}`,
          data: {
            action,
            providerId: provider.id,
            providerType: provider.type,
            simulated: Boolean(provider.simulated),
            externalId: anchor.externalId,
            fingerprint: anchor.fingerprint ?? null,
            changed: result.changed,
            newFingerprint: result.newFingerprint ?? null,
            observed: result.observed ?? {},
            attempt: claimed.step.attempts,
            worker: this.workerId,
          },
        },
      ],
    });
  }

  /**
   * Fail closed: only `untrusted` succeeds. `trusted` is asked again until
   * the provider's propagation window has passed; `unknown` (the system
   * could not be asked) is retried like an error and never counts as done.
   */
  private async verify(
    claimed: ClaimedStep,
    anchor: TrustAnchor,
    provider: TrustAnchorProvider,
  ) {
    const now = this.clock();
    let result: VerifyResult;
    /** The error of a verification call that failed, judged as it is. */
    let failure: unknown;
    try {
      result = await this.call(
        provider,
        claimed,
        ctx => provider.verify!(anchor, ctx),
        'verify',
      );
    } catch (error) {
      failure = error;
      result = {
        outcome: 'unknown',
        detail: (error as Error).message,
        observed: {},
      };
    }
    const anchorPatch = {
      last_verified_at: now.toISOString(),
      last_verified_by: provider.id,
      last_verification: result.outcome,
    };
    const evidence = (summary: string) => [
      {
        kind: 'verification' as const,
        stepId: claimed.step.id,
        anchorId: anchor.id,
        actor: `provider:${provider.id}`,
        summary,
        data: {
          outcome: result.outcome,
          providerId: provider.id,
          simulated: Boolean(provider.simulated),
          externalId: anchor.externalId,
          fingerprint: anchor.fingerprint ?? null,
          detail: result.detail,
          observed: result.observed,
          attempt: claimed.step.attempts,
          worker: this.workerId,
        },
      },
    ];
    if (result.outcome === 'untrusted') {
      await this.finish(claimed, {
        status: 'succeeded',
        outcome: 'untrusted',
        lastError: null,
        anchorPatch,
        evidence: evidence(
          `Verified: ${provider.id} no longer trusts ${anchor.displayName} (${result.detail})`,
        ),
      });
      return;
    }
    if (result.outcome === 'trusted') {
      const windowMs = provider.limits?.propagationWindowMs ?? 0;
      const elapsed =
        now.getTime() - new Date(claimed.firstAttemptAt).getTime();
      if (elapsed < windowMs) {
        await this.finish(claimed, {
          status: 'pending',
          outcome: 'trusted',
          lastError: `Still trusted ${Math.round(
            elapsed / 1000,
          )} s after the change; ${provider.id} may take up to ${Math.round(
            windowMs / 1000,
          )} s`,
          notBefore: new Date(
            now.getTime() +
              Math.min(Math.max(250, windowMs / 10), windowMs - elapsed),
          ),
          anchorPatch,
        });
        return;
      }
      await this.finish(claimed, {
        status: 'failed',
        outcome: 'trusted',
        lastError: `${provider.id} still trusts ${anchor.displayName}: ${result.detail}. Check the credential in ${provider.id}, then retry`,
        anchorPatch,
        evidence: evidence(
          `Verification failed: ${provider.id} still trusts ${anchor.displayName} (${result.detail})`,
        ),
      });
      return;
    }
    // The thrown error itself, so Retry-After and permanent errors count.
    const verdict = judgeError(
      this.options.retry,
      failure ?? new Error(result.detail),
      claimed.step.attempts,
    );
    if (verdict.retry) {
      await this.finish(claimed, {
        status: 'pending',
        outcome: 'unknown',
        lastError: `Could not verify: ${result.detail}`,
        notBefore: new Date(this.clock().getTime() + verdict.delayMs),
        anchorPatch,
      });
      return;
    }
    await this.finish(claimed, {
      status: 'failed',
      outcome: 'unknown',
      lastError: `Unverified: ${provider.id} could not be asked whether it still trusts ${anchor.displayName} (${verdict.message}). It is not counted as revoked`,
      anchorPatch,
      evidence: evidence(
        `Unverified: ${provider.id} could not be asked (${result.detail})`,
      ),
    });
  }

  private async failOrRetry(
    claimed: ClaimedStep,
    anchor: TrustAnchor,
    provider: TrustAnchorProvider,
    action: ActingAction,
    error: unknown,
  ) {
    const verdict = judgeError(
      this.options.retry,
      error,
      claimed.step.attempts,
    );
    if (verdict.retry) {
      await this.finish(claimed, {
        status: 'pending',
        lastError: verdict.message,
        notBefore: new Date(this.clock().getTime() + verdict.delayMs),
      });
      return;
    }
    await this.finish(claimed, {
      status: 'failed',
      lastError: verdict.message,
      evidence: [
        {
          kind: 'action',
          stepId: claimed.step.id,
          anchorId: anchor.id,
          actor: `provider:${provider.id}`,
          summary: `${action} ${anchor.displayName} on ${provider.id} failed: ${verdict.message}`,
          data: {
            action,
            providerId: provider.id,
            externalId: anchor.externalId,
            error: verdict.message,
            attempt: claimed.step.attempts,
            worker: this.workerId,
          },
        },
      ],
    });
  }

  private call<T>(
    provider: TrustAnchorProvider,
    claimed: ClaimedStep,
    fn: (ctx: ActionContext) => Promise<T>,
    what: string,
  ): Promise<T> {
    return sharedProviderGate(this.providers).run(provider, () =>
      withTimeout(
        signal =>
          fn({
            retirementId: claimed.retirementId,
            stepId: claimed.step.id,
            signal,
            logger: this.logger,
          }),
        provider.limits?.callTimeoutMs ?? this.options.callTimeoutMs,
        `${what} on ${provider.id}`,
        this.leases.get(claimed.step.id)?.signal ?? this.abort.signal,
      ),
    );
  }

  private async finish(
    claimed: ClaimedStep,
    completion: Omit<StepCompletion, 'stepId' | 'workerId' | 'now'>,
  ): Promise<void> {
    const held = await this.store.finishStep({
      ...completion,
      stepId: claimed.step.id,
      retirementId: claimed.retirementId,
      workerId: this.workerId,
      now: this.clock(),
    });
    if (!held) {
      this.logger.warn(
        `Lost the lease on step ${claimed.step.id} of retirement ${claimed.retirementId}: another worker owns it now, its result counts`,
      );
    }
  }
}
