/*
 * SIMULATION support: the faults the demo provider can inject into the calls
 * the retirement engine makes (acting and verifying), to show how the engine
 * copes with a flaky credential system.
 */
import type { Config } from '@backstage/config';

/** Rates are probabilities in [0, 1]; together at most 1. */
export interface DemoFaultOptions {
  /** A 5xx-like transient error. */
  errorRate?: number;
  /** A 429-like refusal with Retry-After. */
  rateLimitRate?: number;
  /** The Retry-After of a rate-limit refusal, in ms (default 1000). */
  retryAfterMs?: number;
  /** The answer comes only after `slowMs` (a timeout if the engine's cut-off is shorter). */
  slowRate?: number;
  /** Delay of a slow answer, in ms (default 60000). */
  slowMs?: number;
  /** No answer ever; the call ignores its abort signal too. */
  hangRate?: number;
}

export type DemoFaultKind = 'error' | 'rate-limit' | 'slow' | 'hang';

export const DEFAULT_RETRY_AFTER_MS = 1000;
export const DEFAULT_SLOW_MS = 60_000;

const RATE_KEYS = [
  'errorRate',
  'rateLimitRate',
  'slowRate',
  'hangRate',
] as const;

/** Checks the options; throws a message naming the bad key. */
export function validateFaults(faults: DemoFaultOptions, where: string): void {
  let sum = 0;
  for (const key of RATE_KEYS) {
    const rate = faults[key] ?? 0;
    if (!(rate >= 0 && rate <= 1)) {
      throw new Error(
        `${where}.faults.${key} must be between 0 and 1, got ${rate}`,
      );
    }
    sum += rate;
  }
  if (sum > 1 + 1e-9) {
    throw new Error(
      `${where}.faults: errorRate + rateLimitRate + slowRate + hangRate must be at most 1, got ${sum}`,
    );
  }
  for (const key of ['retryAfterMs', 'slowMs'] as const) {
    const value = faults[key];
    if (value !== undefined && !(value >= 0)) {
      throw new Error(`${where}.faults.${key} must be >= 0, got ${value}`);
    }
  }
}

/** Reads `faults` of one provider entry (see config.d.ts). */
export function readFaults(config: Config, where: string): DemoFaultOptions {
  const c = config.getOptionalConfig('faults');
  if (!c) return {};
  const faults: DemoFaultOptions = {};
  for (const key of [...RATE_KEYS, 'retryAfterMs', 'slowMs'] as const) {
    const value = c.getOptionalNumber(key);
    if (value !== undefined) faults[key] = value;
  }
  validateFaults(faults, where);
  return faults;
}

/** One draw decides the fault of a call, if any. */
export function pickFault(
  faults: DemoFaultOptions,
  random: () => number,
): DemoFaultKind | undefined {
  const r = random();
  let edge = 0;
  const kinds: [DemoFaultKind, number | undefined][] = [
    ['error', faults.errorRate],
    ['rate-limit', faults.rateLimitRate],
    ['slow', faults.slowRate],
    ['hang', faults.hangRate],
  ];
  for (const [kind, rate] of kinds) {
    edge += rate ?? 0;
    if (r < edge) return kind;
  }
  return undefined;
}
