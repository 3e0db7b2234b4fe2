import type { Config } from '@backstage/config';
import { readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import type { GovernanceOptions } from './GovernanceService';

/** `nhiOffboarding.timeToRevoke` and `nhiOffboarding.staleAfterDays` (see config.d.ts). */
export function readGovernanceOptions(config: Config): GovernanceOptions {
  const timeToRevokeMs = config.has('nhiOffboarding.timeToRevoke')
    ? readTimeToRevoke(config)
    : 4 * 3600_000; // FedRAMP's PS-4 objective
  const staleAfterDays =
    config.getOptionalNumber('nhiOffboarding.staleAfterDays') ?? 45; // CIS 5.3
  if (!Number.isFinite(timeToRevokeMs) || timeToRevokeMs <= 0) {
    throw new Error(
      'nhiOffboarding.timeToRevoke must be a positive duration, e.g. { hours: 4 } or PT4H',
    );
  }
  if (!Number.isInteger(staleAfterDays) || staleAfterDays < 1) {
    throw new Error(
      `nhiOffboarding.staleAfterDays must be a whole number of days of at least 1, got ${staleAfterDays}`,
    );
  }
  return { timeToRevokeMs, staleAfterDays };
}

function readTimeToRevoke(config: Config): number {
  const value = config.get('nhiOffboarding.timeToRevoke');
  if (typeof value === 'string') {
    // ISO 8601 duration such as PT4H
    const m = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(value);
    if (!m || (!m[1] && !m[2])) {
      throw new Error(
        `nhiOffboarding.timeToRevoke "${value}" is not a duration: use e.g. PT4H, PT90M or { hours: 4 }`,
      );
    }
    return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60_000;
  }
  return durationToMilliseconds(
    readDurationFromConfig(config, { key: 'nhiOffboarding.timeToRevoke' }),
  );
}
