import {
  anchorRoleOf,
  PlannedStep,
  RetirementMode,
  StepAction,
  StepPhase,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { FINAL_STAGE, STAGE } from './stages';

/** Which actions the provider of an anchor can perform. */
export interface ProviderCapabilities {
  manual: boolean;
  disable: boolean;
  revoke: boolean;
  terminateSessions: boolean;
  rotate: boolean;
  removeMemberships: boolean;
  verify: boolean;
}

export interface PlanInput {
  anchors: TrustAnchor[];
  mode: RetirementMode;
  /** Capabilities of a provider id, undefined when it is not configured. */
  capabilitiesOf(providerId: string): ProviderCapabilities | undefined;
}

const DONE_STATUSES = new Set(['revoked', 'rotated']);

/**
 * Turns anchors into ordered steps (a pure function: the dry run and the real
 * run use the same plan). Shared credentials are rotated, never revoked: other
 * entities still use them (NIST SP 800-53 IA-5(i)).
 */
export function planRetirement(input: PlanInput): PlannedStep[] {
  const steps: PlannedStep[] = [];
  const add = (
    anchor: TrustAnchor | undefined,
    stage: number,
    phase: StepPhase,
    action: StepAction,
    rationale: string,
    manual = false,
  ) =>
    steps.push({
      stage,
      phase,
      action,
      anchorId: anchor?.id,
      anchorName: anchor?.displayName,
      anchorKind: anchor?.kind,
      providerId: anchor?.providerId,
      manual,
      rationale,
      afterQuarantine: input.mode === 'quarantine' && stage >= FINAL_STAGE,
    });

  for (const anchor of input.anchors) {
    const caps = input.capabilitiesOf(anchor.providerId);
    if (!caps || caps.manual || anchor.manual) {
      add(
        anchor,
        STAGE.verify,
        4,
        'attest',
        caps
          ? 'No system can act on this credential: its owner removes it and attests'
          : `Provider "${anchor.providerId}" is not configured: its owner removes it and attests`,
        true,
      );
      continue;
    }
    const shared = anchor.sharedWith.length > 0;
    const role = anchorRoleOf(anchor.kind);
    const alreadyGone = DONE_STATUSES.has(anchor.status);

    if (alreadyGone) {
      // Nothing to do but prove it.
    } else if (shared) {
      const users = anchor.sharedWith.join(', ');
      if (caps.rotate) {
        add(
          anchor,
          STAGE.secrets,
          3,
          'rotate',
          `Shared with ${users}: rotated, not revoked, so they keep working`,
        );
      } else {
        add(
          anchor,
          STAGE.secrets,
          3,
          'attest',
          `Shared with ${users} and its system cannot rotate it: rotate it by hand and attest`,
          true,
        );
      }
    } else {
      if (role === 'identity' && caps.disable) {
        add(
          anchor,
          STAGE.disable,
          1,
          'disable',
          'Primary identity: disabled first so nothing new can start',
        );
      }
      if (role === 'identity' && caps.terminateSessions) {
        add(
          anchor,
          STAGE.terminateSessions,
          1,
          'terminate-sessions',
          'Live sessions and tokens survive a disable: ended explicitly',
        );
      }
      if (role === 'identity' && caps.removeMemberships) {
        add(
          anchor,
          STAGE.removeMemberships,
          2,
          'remove-memberships',
          'Role assignments and group memberships removed',
        );
      }
      if (role === 'membership') {
        if (caps.revoke) {
          add(
            anchor,
            STAGE.removeMemberships,
            2,
            'revoke',
            'Membership removed',
          );
        }
      } else if (caps.revoke) {
        add(
          anchor,
          STAGE.secrets,
          3,
          'revoke',
          role === 'identity'
            ? 'Identity deleted for good'
            : 'Own credential revoked',
        );
      }
      if (
        input.mode === 'quarantine' &&
        caps.verify &&
        role === 'identity' &&
        caps.disable
      ) {
        add(
          anchor,
          STAGE.verifyDisabled,
          4,
          'verify',
          'Quarantine: proven disabled before the waiting period',
        );
      }
    }
    if (caps.verify) {
      add(
        anchor,
        STAGE.verify,
        4,
        'verify',
        'Asked the system that holds it whether it still trusts it',
      );
    } else {
      add(
        anchor,
        STAGE.verify,
        4,
        'attest',
        'Its system cannot be asked: the owner confirms and attests',
        true,
      );
    }
  }
  add(
    undefined,
    STAGE.seal,
    5,
    'seal',
    'Completion checked (fail closed) and the evidence chain sealed',
  );
  return steps.sort((a, b) => a.stage - b.stage);
}
