/*
 * BENCHMARK PEER, NOT A CREDENTIAL SYSTEM: an in-memory "credential store"
 * whose every call takes a fixed latency (a timer, no CPU), with declared
 * limits (concurrency and/or ratePerSecond) that the engine must honour.
 * It records how many calls it saw and how many were in flight at once, so
 * the benchmark can check that the limits were respected and how well the
 * engine kept the provider busy. Type `bench-latency`, marked simulated.
 */
import { performance } from 'node:perf_hooks';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type {
  ActionResult,
  DiscoverRequest,
  DiscoveredAnchor,
  ProviderLimits,
  TrustAnchorProvider,
  VerifyResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

export class LatencyCredentialSystem implements TrustAnchorProvider {
  readonly type = 'bench-latency';
  readonly simulated = true;
  /** externalId -> revoked? (never a secret) */
  readonly revoked = new Map<string, boolean>();
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Integral of in-flight calls over time (ms), for the mean occupancy. */
  private busyIntegral = 0;
  private lastChange = performance.now();
  firstCallAt?: number;
  lastCallEndAt?: number;
  /** Calls started per 1-second window, to check a rate cap. */
  readonly startTimes: number[] = [];

  constructor(
    readonly id: string,
    readonly latencyMs: number,
    readonly limits: ProviderLimits,
    private readonly keepStartTimes = false,
  ) {}

  reset(): void {
    this.calls = 0;
    this.maxInFlight = 0;
    this.busyIntegral = 0;
    this.firstCallAt = undefined;
    this.lastCallEndAt = undefined;
    this.startTimes.length = 0;
    this.revoked.clear();
    this.lastChange = performance.now();
  }

  /** Mean number of calls in flight between the first call and the last end. */
  meanInFlight(): number {
    if (this.firstCallAt === undefined || this.lastCallEndAt === undefined)
      return 0;
    return this.busyIntegral / (this.lastCallEndAt - this.firstCallAt);
  }

  private tickBusy(now: number, delta: number) {
    this.busyIntegral += this.inFlight * (now - this.lastChange);
    this.lastChange = now;
    this.inFlight += delta;
  }

  private async call<T>(fn: () => T): Promise<T> {
    const start = performance.now();
    this.firstCallAt ??= start;
    if (this.keepStartTimes) this.startTimes.push(start);
    this.calls++;
    this.tickBusy(start, +1);
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    try {
      await new Promise(resolve => setTimeout(resolve, this.latencyMs));
      return fn();
    } finally {
      const end = performance.now();
      this.tickBusy(end, -1);
      this.lastCallEndAt = end;
    }
  }

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    return request.linked.map(l => ({
      externalId: l.externalId,
      kind: 'api-key',
      displayName: l.externalId,
      fingerprint: `sha256:${l.externalId}`,
      scopes: [],
      sharedWith: l.sharedWith,
      status: this.revoked.get(l.externalId) ? 'revoked' : 'active',
    }));
  }

  revoke(anchor: TrustAnchor): Promise<ActionResult> {
    return this.call(() => {
      const changed = !this.revoked.get(anchor.externalId);
      this.revoked.set(anchor.externalId, true);
      return { changed, detail: changed ? 'revoked' : 'already revoked' };
    });
  }

  verify(anchor: TrustAnchor): Promise<VerifyResult> {
    return this.call(() => {
      const revoked = Boolean(this.revoked.get(anchor.externalId));
      return {
        outcome: revoked ? 'untrusted' : 'trusted',
        detail: revoked ? 'key revoked' : 'key active',
        observed: { revoked },
      };
    });
  }
}

/** The largest number of call starts in any sliding 1 s window. */
export function maxStartsPerSecond(starts: number[]): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < starts.length; hi++) {
    while (starts[hi] - starts[lo] >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
