import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { planRetirement, ProviderCapabilities } from './planRetirement';
import { STAGE } from './stages';

const ALL: ProviderCapabilities = {
  manual: false,
  disable: true,
  revoke: true,
  terminateSessions: true,
  rotate: true,
  removeMemberships: true,
  verify: true,
};

function anchor(
  partial: Partial<TrustAnchor> & Pick<TrustAnchor, 'id' | 'kind'>,
): TrustAnchor {
  return {
    entityRef: 'component:default/payments-api',
    providerId: 'sys',
    externalId: partial.id,
    displayName: partial.id,
    scopes: [],
    sharedWith: [],
    manual: false,
    status: 'active',
    discoveredAt: '2026-11-26T00:00:00Z',
    discoveredBy: 'sys',
    ...partial,
  };
}

const plan = (
  anchors: TrustAnchor[],
  mode: 'revoke' | 'quarantine' = 'revoke',
  caps = ALL,
) =>
  planRetirement({
    anchors,
    mode,
    capabilitiesOf: id =>
      ((
        { sys: caps, catalog: { ...ALL, manual: true } } as Record<
          string,
          ProviderCapabilities
        >
      )[id]),
  });

describe('planRetirement', () => {
  it('follows the control chain for an identity: disable, end sessions, memberships, revoke, verify, seal', () => {
    const steps = plan([anchor({ id: 'sa', kind: 'service-account' })]);
    expect(steps.map(s => [s.stage, s.phase, s.action])).toEqual([
      [STAGE.disable, 1, 'disable'],
      [STAGE.terminateSessions, 1, 'terminate-sessions'],
      [STAGE.removeMemberships, 2, 'remove-memberships'],
      [STAGE.secrets, 3, 'revoke'],
      [STAGE.verify, 4, 'verify'],
      [STAGE.seal, 5, 'seal'],
    ]);
  });

  it('rotates a shared secret instead of revoking it, and says why', () => {
    const steps = plan([
      anchor({
        id: 'db-pw',
        kind: 'secret',
        sharedWith: ['component:default/billing'],
      }),
    ]);
    const actions = steps.map(s => s.action);
    expect(actions).toContain('rotate');
    expect(actions).not.toContain('revoke');
    expect(steps.find(s => s.action === 'rotate')!.rationale).toContain(
      'component:default/billing',
    );
  });

  it('asks for a manual rotation when the system cannot rotate a shared secret', () => {
    const steps = plan(
      [
        anchor({
          id: 'db-pw',
          kind: 'secret',
          sharedWith: ['component:default/billing'],
        }),
      ],
      'revoke',
      { ...ALL, rotate: false },
    );
    const manual = steps.find(s => s.stage === STAGE.secrets)!;
    expect(manual).toMatchObject({ action: 'attest', manual: true });
  });

  it('removes a group membership in phase 2 and revokes own keys in phase 3', () => {
    const steps = plan([
      anchor({ id: 'grp', kind: 'group-membership' }),
      anchor({ id: 'key', kind: 'api-key' }),
    ]);
    expect(
      steps.find(s => s.anchorId === 'grp' && s.action === 'revoke')!.phase,
    ).toBe(2);
    expect(
      steps.find(s => s.anchorId === 'key' && s.action === 'revoke')!.phase,
    ).toBe(3);
    expect(steps.filter(s => s.anchorId === 'key').map(s => s.action)).toEqual([
      'revoke',
      'verify',
    ]);
  });

  it('makes manual anchors and unknown providers an owner attestation', () => {
    const steps = plan([
      anchor({
        id: 'res',
        kind: 'api-key',
        providerId: 'catalog',
        manual: true,
      }),
      anchor({ id: 'lost', kind: 'api-key', providerId: 'gone' }),
    ]);
    const attest = steps.filter(s => s.action === 'attest');
    expect(attest).toHaveLength(2);
    expect(attest.every(s => s.manual && s.stage === STAGE.verify)).toBe(true);
    expect(attest.find(s => s.anchorId === 'lost')!.rationale).toMatch(
      /not configured/,
    );
  });

  it('only verifies anchors that are already revoked', () => {
    const steps = plan([
      anchor({ id: 'old', kind: 'api-key', status: 'revoked' }),
    ]);
    expect(steps.map(s => s.action)).toEqual(['verify', 'seal']);
  });

  it('in quarantine, proves the disable before waiting and marks final steps as after the quarantine', () => {
    const steps = plan(
      [anchor({ id: 'sa', kind: 'service-account' })],
      'quarantine',
    );
    expect(steps.map(s => [s.action, s.afterQuarantine])).toEqual([
      ['disable', false],
      ['terminate-sessions', false],
      ['verify', false],
      ['remove-memberships', true],
      ['revoke', true],
      ['verify', true],
      ['seal', true],
    ]);
  });

  it('is sorted by stage so the order is the run order', () => {
    const steps = plan([
      anchor({ id: 'key', kind: 'api-key' }),
      anchor({ id: 'sa', kind: 'service-account' }),
      anchor({ id: 'grp', kind: 'group-membership' }),
    ]);
    const stages = steps.map(s => s.stage);
    expect(stages).toEqual([...stages].sort((a, b) => a - b));
  });
});
