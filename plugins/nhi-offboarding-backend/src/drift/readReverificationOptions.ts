import type { Config } from '@backstage/config';
import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import type { ReverificationOptions } from './ReverificationSweep';

export interface ReverificationConfig extends ReverificationOptions {
  enabled: boolean;
  schedule: SchedulerServiceTaskScheduleDefinition;
}

/** `nhiOffboarding.reverification` (see config.d.ts) with its defaults. */
export function readReverificationOptions(
  config: Config,
): ReverificationConfig {
  const c = config.getOptionalConfig('nhiOffboarding.reverification');
  const schedule = c?.has('schedule')
    ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
        c.getConfig('schedule'),
      )
    : {
        frequency: { hours: 1 },
        timeout: { minutes: 30 },
        initialDelay: { minutes: 1 },
      };
  const positive = (key: string, fallback: number) => {
    const value = c?.getOptionalNumber(key) ?? fallback;
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(
        `nhiOffboarding.reverification.${key} must be a positive number, got ${value}`,
      );
    }
    return value;
  };
  return {
    enabled: c?.getOptionalBoolean('enabled') ?? true,
    schedule: { ...schedule, scope: 'global' },
    batchSize: positive('batchSize', 50),
    recordEveryMs: positive('recordEveryHours', 24) * 3600_000,
    callTimeoutMs: positive('callTimeoutMs', 30_000),
  };
}
