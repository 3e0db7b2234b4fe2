import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  ActionContext,
  DiscoverRequest,
  RateLimitedError,
  TransientProviderError,
  TrustAnchorProvider,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

/*
 * Test peer for the engine's fault tests: wraps a provider and injects the
 * faults of a flaky credential system into the calls the engine makes
 * (5xx-like errors, 429 with Retry-After, slow answers, hangs that ignore
 * the abort signal). It logs every call with its times. The demo provider
 * (packages/backend) offers the same fault kinds to the running portal.
 */

export type FaultKind = 'error' | 'rate-limit' | 'slow' | 'hang';

export interface FaultRates {
  errorRate?: number;
  rateLimitRate?: number;
  retryAfterMs?: number;
  slowRate?: number;
  slowMs?: number;
  hangRate?: number;
}

export interface LoggedCall {
  method: string;
  externalId: string;
  stepId: string;
  start: number;
  end?: number;
  result?: 'ok' | FaultKind | 'aborted' | 'failed';
}

const ENGINE_METHODS = [
  'disable',
  'enable',
  'terminateSessions',
  'removeMemberships',
  'revoke',
  'rotate',
  'verify',
] as const;

export class FaultInjectingProvider implements TrustAnchorProvider {
  readonly id: string;
  readonly type: string;
  readonly calls: LoggedCall[] = [];
  [method: string]: unknown;

  constructor(
    readonly inner: TrustAnchorProvider,
    readonly rates: FaultRates,
    private readonly random: () => number = Math.random,
  ) {
    this.id = inner.id;
    this.type = inner.type;
    for (const method of ENGINE_METHODS) {
      const fn = inner[method] as
        | ((a: TrustAnchor, ctx: ActionContext) => Promise<unknown>)
        | undefined;
      if (typeof fn === 'function') {
        this[method] = (anchor: TrustAnchor, ctx: ActionContext) =>
          this.call(method, anchor, ctx, () => fn.call(inner, anchor, ctx));
      }
    }
  }

  get limits() {
    return this.inner.limits;
  }

  discover(request: DiscoverRequest) {
    return this.inner.discover(request);
  }

  private pick(): FaultKind | undefined {
    const r = this.random();
    let edge = 0;
    for (const [kind, rate] of [
      ['error', this.rates.errorRate],
      ['rate-limit', this.rates.rateLimitRate],
      ['slow', this.rates.slowRate],
      ['hang', this.rates.hangRate],
    ] as const) {
      edge += rate ?? 0;
      if (r < edge) return kind;
    }
    return undefined;
  }

  private async call<T>(
    method: string,
    anchor: TrustAnchor,
    ctx: ActionContext,
    real: () => Promise<T>,
  ): Promise<T> {
    const logged: LoggedCall = {
      method,
      externalId: anchor.externalId,
      stepId: ctx.stepId,
      start: Date.now(),
    };
    this.calls.push(logged);
    const end = (result: LoggedCall['result']) => {
      logged.end ??= Date.now();
      logged.result ??= result;
    };
    const fault = this.pick();
    try {
      if (fault === 'error') {
        throw new TransientProviderError(`503 Service Unavailable (${method})`);
      }
      if (fault === 'rate-limit') {
        const after = this.rates.retryAfterMs ?? 1000;
        throw new RateLimitedError(
          `429 Too Many Requests (${method}): retry after ${after} ms`,
          after,
        );
      }
      if (fault === 'hang') {
        // Never answers, and ignores the abort signal.
        ctx.signal?.addEventListener('abort', () => end('hang'));
        return await new Promise<never>(() => {});
      }
      if (fault === 'slow') {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, this.rates.slowMs ?? 60_000);
          ctx.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('aborted'));
          });
        });
      }
      const value = await real();
      end('ok');
      return value;
    } catch (error) {
      end(
        fault === 'slow'
          ? 'aborted'
          : fault ?? (ctx.signal?.aborted ? 'aborted' : 'failed'),
      );
      throw error;
    }
  }
}
