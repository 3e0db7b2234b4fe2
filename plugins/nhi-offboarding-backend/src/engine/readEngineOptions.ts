import type { Config } from '@backstage/config';
import { DEFAULT_ENGINE_OPTIONS, EngineOptions } from './RetirementEngine';

/** Engine settings from `nhiOffboarding.engine` (see config.d.ts), with defaults. */
export function readEngineOptions(config: Config): EngineOptions {
  const c = config.getOptionalConfig('nhiOffboarding.engine');
  const d = DEFAULT_ENGINE_OPTIONS;
  const positive = (key: string, fallback: number) => {
    const value = c?.getOptionalNumber(key) ?? fallback;
    if (!(value > 0)) {
      throw new Error(
        `nhiOffboarding.engine.${key} must be a positive number, got ${value}`,
      );
    }
    return value;
  };
  return {
    pollIntervalMs: positive('pollIntervalMs', d.pollIntervalMs),
    leaseMs: positive('leaseMs', d.leaseMs),
    workerConcurrency: positive('workerConcurrency', d.workerConcurrency),
    callTimeoutMs: positive('callTimeoutMs', d.callTimeoutMs),
    retry: {
      maxAttempts: positive('maxAttempts', d.retry.maxAttempts),
      baseDelayMs: positive('retryBaseDelayMs', d.retry.baseDelayMs),
      maxDelayMs: positive('retryMaxDelayMs', d.retry.maxDelayMs),
    },
  };
}
