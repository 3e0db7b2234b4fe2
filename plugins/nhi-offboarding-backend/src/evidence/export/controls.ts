import type {
  ControlReference,
  EvidenceKind,
  EvidenceRecord,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/** The controls an auditor holds NHI offboarding evidence against. */
export const CONTROLS: ControlReference[] = [
  {
    id: 'OWASP-NHI1:2025',
    framework: 'OWASP Non-Human Identities Top 10 (2025)',
    title: 'NHI1 Improper Offboarding',
  },
  {
    id: 'NIST-CSF-2.0-PR.AA-01',
    framework: 'NIST CSF 2.0',
    title:
      'PR.AA-01 Identities and credentials of users, services and hardware are managed',
  },
  {
    id: 'NIST-CSF-2.0-PR.AA-05',
    framework: 'NIST CSF 2.0',
    title:
      'PR.AA-05 Access permissions are defined, managed, enforced and reviewed',
  },
  {
    id: 'NIST-800-53-AC-2(3)',
    framework: 'NIST SP 800-53 r5',
    title:
      'AC-2(3) Disable accounts no longer associated with a user or inactive',
  },
  {
    id: 'NIST-800-53-AC-2(4)',
    framework: 'NIST SP 800-53 r5',
    title:
      'AC-2(4) Automated audit of account creation, modification, enabling, disabling and removal',
  },
  {
    id: 'NIST-800-53-IA-5(i)',
    framework: 'NIST SP 800-53 r5',
    title:
      'IA-5(i) Change shared or group authenticators when membership changes',
  },
  {
    id: 'NIST-800-53-PS-4',
    framework: 'NIST SP 800-53 r5',
    title:
      'PS-4 Disable access and revoke credentials within the defined time on termination',
  },
  {
    id: 'SOC2-CC6.2',
    framework: 'SOC 2 (2017 TSC)',
    title: 'CC6.2 Credentials are removed when access is no longer authorized',
  },
  {
    id: 'SOC2-CC6.3',
    framework: 'SOC 2 (2017 TSC)',
    title: 'CC6.3 Access is removed based on roles and responsibilities',
  },
  {
    id: 'ISO27001-A.5.18',
    framework: 'ISO/IEC 27001:2022',
    title: 'A.5.18 Access rights are removed when no longer needed',
  },
];

type ControlId = (typeof CONTROLS)[number]['id'];

const OFFBOARD: ControlId[] = [
  'OWASP-NHI1:2025',
  'SOC2-CC6.2',
  'ISO27001-A.5.18',
];

/** Kind of record -> controls it evidences; actions are refined below. */
const BY_KIND: Record<EvidenceKind, ControlId[]> = {
  planned: [...OFFBOARD, 'NIST-CSF-2.0-PR.AA-01'],
  action: ['NIST-800-53-AC-2(4)'],
  verification: [...OFFBOARD, 'NIST-CSF-2.0-PR.AA-01', 'NIST-800-53-PS-4'],
  attestation: ['SOC2-CC6.2', 'ISO27001-A.5.18'],
  exception: ['NIST-CSF-2.0-PR.AA-05', 'SOC2-CC6.3'],
  hold: ['NIST-800-53-AC-2(4)'],
  status: ['NIST-800-53-AC-2(4)'],
  completion: [...OFFBOARD, 'NIST-CSF-2.0-PR.AA-01', 'NIST-800-53-PS-4'],
  reverification: [...OFFBOARD, 'NIST-CSF-2.0-PR.AA-05'],
  drift: [...OFFBOARD, 'NIST-CSF-2.0-PR.AA-05', 'NIST-800-53-AC-2(4)'],
  ownership: ['OWASP-NHI1:2025', 'NIST-CSF-2.0-PR.AA-01', 'ISO27001-A.5.18'],
};

/** What each provider action evidences on top of the audit trail. */
const BY_ACTION: Record<string, ControlId[]> = {
  disable: [...OFFBOARD, 'NIST-800-53-AC-2(3)', 'NIST-800-53-PS-4'],
  'terminate-sessions': [...OFFBOARD, 'NIST-800-53-PS-4'],
  'remove-memberships': [...OFFBOARD, 'SOC2-CC6.3', 'NIST-CSF-2.0-PR.AA-05'],
  revoke: [...OFFBOARD, 'NIST-CSF-2.0-PR.AA-01', 'NIST-800-53-PS-4'],
  rotate: [...OFFBOARD, 'NIST-800-53-IA-5(i)', 'NIST-CSF-2.0-PR.AA-01'],
  enable: [],
};

/** The controls one record evidences, in the order of CONTROLS. */
export function controlsOf(
  record: Pick<EvidenceRecord, 'kind' | 'data'>,
): string[] {
  const ids = new Set<string>(BY_KIND[record.kind] ?? []);
  const action = record.data?.action;
  if (record.kind === 'action' && typeof action === 'string') {
    for (const id of BY_ACTION[action] ?? []) ids.add(id);
  }
  return CONTROLS.map(c => c.id).filter(id => ids.has(id));
}
