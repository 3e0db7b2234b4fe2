import type { Entity } from '@backstage/catalog-model';
import type {
  EvidenceRecord,
  PlannedStep,
  Retirement,
  RetirementStep,
  TrustAnchor,
  TriggerFiring,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { NhiOffboardingApi } from '../api';

export const ENTITY_REF = 'component:default/payments-bot';

export const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments-bot', namespace: 'default' },
  spec: {
    type: 'service',
    lifecycle: 'production',
    owner: 'group:default/payments',
  },
};

export function anchor(overrides: Partial<TrustAnchor> = {}): TrustAnchor {
  return {
    id: 'a1',
    entityRef: ENTITY_REF,
    providerId: 'demo',
    kind: 'api-key',
    externalId: 'key-123',
    displayName: 'Payments API key',
    fingerprint: 'sha256:0123456789abcdef0123456789abcdef',
    scopes: ['payments:write'],
    owner: 'group:default/payments',
    sharedWith: [],
    manual: false,
    lastUsedAt: '2026-01-01T10:00:00Z',
    status: 'active',
    discoveredAt: '2026-01-01T00:00:00Z',
    discoveredBy: 'demo',
    ...overrides,
  };
}

export const plan: PlannedStep[] = [
  {
    stage: 1,
    phase: 1,
    action: 'disable',
    anchorId: 'sa',
    anchorName: 'payments-bot service account',
    anchorKind: 'service-account',
    providerId: 'demo',
    manual: false,
    rationale: 'The identity itself is disabled first',
    afterQuarantine: false,
  },
  {
    stage: 3,
    phase: 3,
    action: 'revoke',
    anchorId: 'a1',
    anchorName: 'Payments API key',
    anchorKind: 'api-key',
    providerId: 'demo',
    manual: false,
    rationale: 'Only this entity uses it: revoked',
    afterQuarantine: false,
  },
  {
    stage: 3,
    phase: 3,
    action: 'rotate',
    anchorId: 'a2',
    anchorName: 'Shared DB password',
    anchorKind: 'secret',
    providerId: 'demo',
    manual: false,
    rationale: 'Shared with component:default/ledger: rotated',
    afterQuarantine: false,
  },
  {
    stage: 4,
    phase: 4,
    action: 'attest',
    anchorId: 'a3',
    anchorName: 'Legacy FTP account',
    anchorKind: 'other',
    providerId: 'manual',
    manual: true,
    rationale:
      'No system can act on this credential: its owner removes it and attests',
    afterQuarantine: false,
  },
];

export function step(overrides: Partial<RetirementStep> = {}): RetirementStep {
  return {
    ...plan[1],
    id: 's1',
    retirementId: 'r1',
    status: 'succeeded',
    attempts: 1,
    ...overrides,
  };
}

export function retirement(overrides: Partial<Retirement> = {}): Retirement {
  return {
    id: 'r1',
    entityRef: ENTITY_REF,
    mode: 'revoke',
    reason: 'Replaced by payments-v2',
    status: 'running',
    requestedBy: 'user:default/alice',
    legalHold: false,
    released: false,
    restoring: false,
    currentStage: 3,
    createdAt: '2026-02-01T10:00:00Z',
    updatedAt: '2026-02-01T10:01:00Z',
    progress: { total: 6, done: 2, failed: 0, anchors: 4, verified: 1 },
    steps: [
      step({ id: 's0', ...plan[0], status: 'succeeded' }),
      step({ id: 's1', status: 'running' }),
    ],
    ...overrides,
  } as Retirement;
}

/** An open proposal of the lifecycle trigger for the default entity. */
export function firing(overrides: Partial<TriggerFiring> = {}): TriggerFiring {
  return {
    id: 'f1',
    trigger: 'lifecycle',
    entityRef: ENTITY_REF,
    action: 'propose',
    status: 'proposed',
    detail: 'spec.lifecycle production → deprecated',
    mode: 'revoke',
    reason: 'The entity was deprecated',
    createdAt: '2026-02-02T09:00:00Z',
    updatedAt: '2026-02-02T09:00:00Z',
    ...overrides,
  };
}

export function record(
  seq: number,
  overrides: Partial<EvidenceRecord> = {},
): EvidenceRecord {
  return {
    retirementId: 'r1',
    seq,
    kind: 'action',
    actor: 'user:default/alice',
    at: `2026-02-01T10:0${seq}:00Z`,
    summary: `Record ${seq}`,
    data: {},
    prevHash: `hash-${seq - 1}`,
    hash: `hash-${seq}`,
    ...overrides,
  };
}

/** An API whose every method is a jest mock; override what a test needs. */
export function mockApi(
  overrides: Partial<jest.Mocked<NhiOffboardingApi>> = {},
): jest.Mocked<NhiOffboardingApi> {
  return {
    getTrustAnchors: jest.fn().mockResolvedValue({ items: [], problems: [] }),
    planRetirement: jest.fn().mockResolvedValue({ steps: plan, problems: [] }),
    startRetirement: jest.fn().mockResolvedValue(retirement()),
    listRetirements: jest.fn().mockResolvedValue({ items: [] }),
    getRetirement: jest.fn().mockResolvedValue(retirement()),
    getRetirementSteps: jest.fn().mockResolvedValue({ items: [] }),
    cancelRetirement: jest.fn(),
    retryRetirement: jest.fn(),
    releaseQuarantine: jest.fn(),
    placeLegalHold: jest.fn(),
    liftLegalHold: jest.fn(),
    requestException: jest.fn(),
    decideException: jest.fn(),
    attestStep: jest.fn(),
    getEvidence: jest.fn().mockResolvedValue([]),
    getEvidencePage: jest.fn().mockResolvedValue({ items: [] }),
    getEvidenceCsv: jest.fn().mockResolvedValue('seq,kind\n'),
    verifyEvidence: jest.fn().mockResolvedValue({ valid: true, count: 0 }),
    getResidualAccess: jest.fn().mockResolvedValue([]),
    getResidualAccessPage: jest.fn().mockResolvedValue({ items: [] }),
    listExceptions: jest.fn().mockResolvedValue([]),
    getProviders: jest
      .fn()
      .mockResolvedValue([
        { id: 'demo', type: 'demo', manual: false, simulated: true },
      ]),
    getStats: jest.fn().mockResolvedValue(undefined),
    listTriggerFirings: jest.fn().mockResolvedValue([]),
    confirmProposal: jest.fn(),
    dismissProposal: jest.fn(),
    getRetirementGovernance: jest.fn().mockResolvedValue({
      deadline: {
        retirementId: 'r1',
        entityRef: 'component:default/payments-api',
        status: 'running',
        mode: 'revoke',
        startedAt: '2026-02-01T10:00:00Z',
        elapsedMs: 60_000,
        objectiveMs: 4 * 3600_000,
        breached: false,
      },
      ownership: [],
    }),
    reverifyRetirement: jest.fn(),
    reassignOwnership: jest.fn().mockResolvedValue([]),
    getRetirementExport: jest.fn().mockResolvedValue('{}'),
    getPeriodExport: jest.fn().mockResolvedValue('{}'),
    getGovernanceFindings: jest.fn().mockResolvedValue(undefined),
    getDeadlines: jest
      .fn()
      .mockResolvedValue({ objectiveMs: 4 * 3600_000, items: [] }),
    ...overrides,
  };
}
