import type {
  AnchorStatus,
  EvidenceKind,
  ResidualAccessItem,
  RetirementStatus,
  StepAction,
  StepException,
  StepStatus,
  TriggerKind,
  TrustAnchorKind,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

export const ANCHOR_KIND_LABELS: Record<TrustAnchorKind, string> = {
  'api-key': 'API key',
  token: 'Token',
  'oauth-client': 'OAuth client',
  'service-account': 'Service account',
  'iam-user': 'IAM user',
  'iam-role': 'IAM role',
  'access-key': 'Access key',
  certificate: 'Certificate',
  'ssh-key': 'SSH key',
  'deploy-key': 'Deploy key',
  'db-user': 'Database user',
  secret: 'Secret',
  'group-membership': 'Group membership',
  session: 'Session',
  other: 'Other',
};

export const STEP_ACTION_LABELS: Record<StepAction, string> = {
  disable: 'Disable',
  'terminate-sessions': 'End sessions',
  'remove-memberships': 'Remove memberships',
  revoke: 'Revoke',
  rotate: 'Rotate',
  verify: 'Verify',
  attest: 'Owner attests',
  seal: 'Seal evidence',
  enable: 'Re-enable',
};

export const RETIREMENT_STATUS_LABELS: Record<RetirementStatus, string> = {
  pending: 'Pending',
  running: 'Running',
  quarantined: 'Quarantined',
  completed: 'Completed',
  'needs-attention': 'Needs attention',
  cancelled: 'Cancelled',
};

export const STEP_STATUS_LABELS: Record<StepStatus, string> = {
  pending: 'Pending',
  running: 'Running',
  waiting: 'Waiting for a person',
  succeeded: 'Succeeded',
  failed: 'Failed',
  excepted: 'Excepted',
  cancelled: 'Cancelled',
};

export const ANCHOR_STATUS_LABELS: Record<AnchorStatus, string> = {
  active: 'Active',
  disabled: 'Disabled',
  revoked: 'Revoked',
  rotated: 'Rotated',
  excepted: 'Excepted',
  unknown: 'Unknown',
};

export const EXCEPTION_STATUS_LABELS: Record<StepException['status'], string> =
  {
    requested: 'Requested',
    approved: 'Approved',
    rejected: 'Rejected',
  };

export const EVIDENCE_KIND_LABELS: Record<EvidenceKind, string> = {
  planned: 'Planned',
  action: 'Action',
  verification: 'Verification',
  attestation: 'Attestation',
  exception: 'Exception',
  hold: 'Legal hold',
  status: 'Status',
  completion: 'Completion',
  reverification: 'Re-verification',
  drift: 'Drift',
  ownership: 'Ownership',
};

export const RESIDUAL_REASON_LABELS: Record<
  ResidualAccessItem['reason'],
  string
> = {
  'entity-retired': 'Entity retired',
  'entity-deprecated': 'Entity deprecated',
  'entity-missing': 'Entity no longer in the catalog',
  'owner-missing': 'Owner no longer in the catalog',
};

/** Falls back to the raw value for anything the labels don't know yet. */
export function labelOf<K extends string>(
  labels: Record<K, string>,
  value: K | string | undefined,
): string {
  if (!value) {
    return '—';
  }
  return (labels as Record<string, string>)[value] ?? value;
}

/** Completes "Proposed by the … trigger" / "Started by the … trigger". */
export const TRIGGER_KIND_LABELS: Record<TriggerKind, string> = {
  lifecycle: 'lifecycle change',
  missing: 'missing entity',
  event: 'event',
  scaffolder: 'scaffolder template',
};
