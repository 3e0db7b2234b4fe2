import type { Config } from '@backstage/config';
import {
  NHI_RETIRE_EVENTS_TOPIC,
  RETIREMENT_MODES,
  RetirementMode,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/** What a trigger does when it fires. */
export interface TriggerAction {
  enabled: boolean;
  /** `retire` starts the retirement; `propose` waits for an owner to confirm. */
  action: 'retire' | 'propose';
  mode: RetirementMode;
  quarantineDays?: number;
}

export interface TriggerOptions {
  lifecycle: TriggerAction & { lifecycles: string[] };
  missing: TriggerAction;
  events: TriggerAction & { topic: string };
  /** Catalog watch (lifecycle and missing triggers) schedule, in seconds. */
  watchFrequencySeconds: number;
}

function readAction(
  config: Config | undefined,
  defaults: { enabled: boolean; action: 'retire' | 'propose' },
  where: string,
): TriggerAction {
  const action = config?.getOptionalString('action') ?? defaults.action;
  if (action !== 'retire' && action !== 'propose') {
    throw new Error(
      `${where}.action must be "retire" or "propose", not "${action}"`,
    );
  }
  const mode = config?.getOptionalString('mode') ?? 'revoke';
  if (!(RETIREMENT_MODES as readonly string[]).includes(mode)) {
    throw new Error(
      `${where}.mode must be one of ${RETIREMENT_MODES.join(', ')}`,
    );
  }
  const quarantineDays = config?.getOptionalNumber('quarantineDays');
  if (mode === 'quarantine' && quarantineDays === undefined) {
    throw new Error(`${where}.quarantineDays is required with mode quarantine`);
  }
  return {
    enabled: config?.getOptionalBoolean('enabled') ?? defaults.enabled,
    action,
    mode: mode as RetirementMode,
    quarantineDays: mode === 'quarantine' ? quarantineDays : undefined,
  };
}

/**
 * `nhiOffboarding.triggers`. Automatic starts are opt-in: every trigger is
 * off unless enabled, and a trigger that is on proposes (an owner confirms)
 * unless configured to retire outright.
 */
export function readTriggerOptions(root: Config): TriggerOptions {
  const config = root.getOptionalConfig('nhiOffboarding.triggers');
  const where = 'nhiOffboarding.triggers';
  const off = { enabled: false, action: 'propose' as const };
  const lifecycleConfig = config?.getOptionalConfig('lifecycle');
  return {
    lifecycle: {
      ...readAction(lifecycleConfig, off, `${where}.lifecycle`),
      lifecycles: lifecycleConfig?.getOptionalStringArray('lifecycles') ?? [
        'deprecated',
        'retired',
        'decommissioned',
      ],
    },
    missing: readAction(
      config?.getOptionalConfig('missing'),
      off,
      `${where}.missing`,
    ),
    events: {
      ...readAction(
        config?.getOptionalConfig('events'),
        off,
        `${where}.events`,
      ),
      topic:
        config?.getOptionalString('events.topic') ?? NHI_RETIRE_EVENTS_TOPIC,
    },
    watchFrequencySeconds:
      config?.getOptionalNumber('watchFrequencySeconds') ?? 60,
  };
}
