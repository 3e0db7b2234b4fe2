import type { TrustAnchorProvider } from '@nhi-offboarding/plugin-nhi-offboarding-node';

interface Lane {
  active: number;
  waiting: (() => void)[];
  nextSlotAt: number;
}

/**
 * Enforces each provider's declared limits inside this process: at most
 * `concurrency` calls in flight and at most `ratePerSecond` calls started.
 */
export class ProviderGate {
  private readonly lanes = new Map<string, Lane>();

  async run<T>(
    provider: TrustAnchorProvider,
    call: () => Promise<T>,
  ): Promise<T> {
    const lane = this.lane(provider.id);
    const concurrency = Math.max(1, provider.limits?.concurrency ?? 4);
    if (lane.active >= concurrency) {
      await new Promise<void>(resolve => lane.waiting.push(resolve));
    } else {
      lane.active++;
    }
    try {
      const rate = provider.limits?.ratePerSecond;
      if (rate && rate > 0) {
        const now = Date.now();
        const startAt = Math.max(now, lane.nextSlotAt);
        lane.nextSlotAt = startAt + 1000 / rate;
        if (startAt > now) {
          await new Promise(resolve => setTimeout(resolve, startAt - now));
        }
      }
      return await call();
    } finally {
      const next = lane.waiting.shift();
      if (next) {
        next(); // hands the slot over: active stays the same
      } else {
        lane.active--;
      }
    }
  }

  private lane(id: string): Lane {
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = { active: 0, waiting: [], nextSlotAt: 0 };
      this.lanes.set(id, lane);
    }
    return lane;
  }
}

const sharedGates = new WeakMap<object, ProviderGate>();

/**
 * The gate of a set of providers (e.g. the ProviderRegistry): the engine and
 * the re-verification sweep take it, so together they stay within each
 * provider's declared limits in this process.
 */
export function sharedProviderGate(providers: object): ProviderGate {
  let gate = sharedGates.get(providers);
  if (!gate) {
    gate = new ProviderGate();
    sharedGates.set(providers, gate);
  }
  return gate;
}
