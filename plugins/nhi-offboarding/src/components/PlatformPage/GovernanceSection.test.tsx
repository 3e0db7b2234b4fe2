import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import Grid from '@material-ui/core/Grid';
import type { GovernanceFindings } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { anchor, mockApi, retirement } from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { GovernanceSection } from './GovernanceSection';

const findings: GovernanceFindings = {
  staleAfterDays: 45,
  counts: { 'owner-missing': 1, 'owner-group-empty': 0, stale: 2, unlinked: 0 },
  items: [
    {
      anchor: anchor({
        id: 'g1',
        displayName: 'Forgotten key',
        lastUsedAt: '2025-01-01T00:00:00Z',
      }),
      reasons: ['stale'],
      owner: 'group:default/payments',
      unusedDays: 400,
    },
    {
      anchor: anchor({ id: 'g2', displayName: 'Gone owner key' }),
      reasons: ['owner-missing'],
      owner: 'group:default/gone-team',
    },
  ],
};

function governanceApi() {
  return mockApi({
    getGovernanceFindings: jest.fn().mockResolvedValue(findings),
    getDeadlines: jest.fn().mockResolvedValue({
      objectiveMs: 4 * 3600_000,
      items: [
        {
          retirementId: 'r9',
          entityRef: 'component:default/slow-bot',
          status: 'running',
          mode: 'revoke',
          startedAt: '2026-02-01T10:00:00Z',
          elapsedMs: 6 * 3600_000,
          objectiveMs: 4 * 3600_000,
          breached: true,
        },
      ],
    }),
    listRetirements: jest.fn().mockResolvedValue({
      items: [
        retirement({
          id: 'r7',
          entityRef: 'component:default/drifted-bot',
          status: 'needs-attention',
          statusReason: 'Drift: 1 trust anchor(s) trusted again (pg/bot)',
          driftDetectedAt: new Date().toISOString(),
          steps: undefined,
        }),
        retirement({ id: 'r8', status: 'needs-attention', steps: undefined }),
      ],
    }),
  });
}

const page = (
  <Grid container>
    <GovernanceSection />
  </Grid>
);

describe('GovernanceSection', () => {
  it('shows counts per reason, drift and breaches', async () => {
    const api = governanceApi();
    await render(page, { api });
    expect(await screen.findByText('Forgotten key')).toBeInTheDocument();
    expect(screen.getByText('Owner missing: 1')).toBeInTheDocument();
    expect(screen.getByText('Stale: 2')).toBeInTheDocument();
    expect(screen.getByText('Stale (unused 400 days)')).toBeInTheDocument();

    const drift = screen.getByRole('region', { name: 'Drift' });
    expect(
      await within(drift).findByText(/trusted again \(pg\/bot\)/),
    ).toBeInTheDocument();
    expect(within(drift).getAllByRole('alert')).toHaveLength(1);

    const breaches = screen.getByRole('region', {
      name: 'Time-to-revoke breaches',
    });
    expect(
      await within(breaches).findByText('6 h and counting'),
    ).toBeInTheDocument();
    expect(
      within(breaches).getByText(/than the 4 h objective/),
    ).toBeInTheDocument();
    expect(api.getDeadlines).toHaveBeenCalledWith({ breached: true });
  });

  it("filters by reason and by the signed-in user's teams", async () => {
    const api = governanceApi();
    await render(page, {
      api,
      user: 'user:default/alice',
      ownership: ['user:default/alice', 'group:default/payments'],
    });
    await screen.findByText('Forgotten key');
    await userEvent.click(screen.getByText('Stale: 2'));
    await waitFor(() =>
      expect(api.getGovernanceFindings).toHaveBeenLastCalledWith({
        reason: 'stale',
        owners: undefined,
      }),
    );
    await userEvent.click(screen.getByLabelText('Owned by my teams'));
    await waitFor(() =>
      expect(api.getGovernanceFindings).toHaveBeenLastCalledWith({
        reason: 'stale',
        owners: ['user:default/alice', 'group:default/payments'],
      }),
    );
  });

  it('downloads the audit export of a period', async () => {
    const createObjectURL = jest.fn(() => 'blob:export');
    Object.assign(URL, { createObjectURL, revokeObjectURL: jest.fn() });
    const api = governanceApi();
    api.getPeriodExport.mockResolvedValue(
      '{"format":"nhi-offboarding-evidence/v1"}',
    );
    await render(page, { api });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Last 30 days' }),
    );
    await waitFor(() => expect(createObjectURL).toHaveBeenCalledTimes(1));
    const [from, to] = api.getPeriodExport.mock.calls[0];
    expect(to.getTime() - from.getTime()).toBe(30 * 24 * 3600_000);
  });

  it('renders nothing against a backend without the governance API', async () => {
    const api = governanceApi();
    api.getGovernanceFindings.mockResolvedValue(undefined);
    await render(page, { api });
    await waitFor(() => expect(api.getGovernanceFindings).toHaveBeenCalled());
    expect(screen.queryByText('Anchor governance')).not.toBeInTheDocument();
  });
});
