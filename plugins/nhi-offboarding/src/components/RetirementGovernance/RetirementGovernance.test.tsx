import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, retirement } from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { RetirementGovernance } from './RetirementGovernance';

const completed = retirement({
  id: 'r1',
  status: 'completed',
  completedAt: '2026-02-01T10:12:00Z',
});

function governanceApi(overrides: object = {}) {
  return mockApi({
    getRetirementGovernance: jest.fn().mockResolvedValue({
      deadline: {
        retirementId: 'r1',
        entityRef: completed.entityRef,
        status: 'completed',
        mode: 'revoke',
        startedAt: '2026-02-01T10:00:00Z',
        accessRemovedAt: '2026-02-01T10:12:00Z',
        elapsedMs: 12 * 60_000,
        objectiveMs: 4 * 3600_000,
        breached: false,
      },
      lastReverifiedAt: new Date(Date.now() - 5 * 60_000).toISOString(),
      ownership: [
        {
          anchorId: 'a9',
          anchorName: 'Vendor API token',
          providerId: 'demo',
          currentOwner: 'component:default/payments-api',
          candidates: ['group:default/billing'],
          proposedOwner: 'group:default/billing',
        },
      ],
    }),
    ...overrides,
  });
}

describe('RetirementGovernance', () => {
  it('shows elapsed time against the objective and time since the last verification', async () => {
    await render(
      <RetirementGovernance
        retirement={completed}
        canOperate
        onChange={jest.fn()}
      />,
      { api: governanceApi() },
    );
    expect(await screen.findByText(/12 min/)).toBeInTheDocument();
    expect(screen.getByText('Within objective')).toBeInTheDocument();
    expect(screen.getByText(/5 minutes ago/)).toBeInTheDocument();
  });

  it('flags a breach', async () => {
    const api = governanceApi();
    api.getRetirementGovernance.mockResolvedValue({
      deadline: {
        retirementId: 'r1',
        entityRef: completed.entityRef,
        status: 'running',
        mode: 'revoke',
        startedAt: '2026-02-01T10:00:00Z',
        elapsedMs: 5 * 3600_000,
        objectiveMs: 4 * 3600_000,
        breached: true,
      },
      ownership: [],
    });
    await render(
      <RetirementGovernance
        retirement={{ ...completed, status: 'running' }}
        canOperate
        onChange={jest.fn()}
      />,
      { api },
    );
    expect(await screen.findByText('Objective breached')).toBeInTheDocument();
    expect(screen.queryByText(/Last verified/)).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Re-verify now' }),
    ).not.toBeInTheDocument();
  });

  it('re-verifies on request and reports drift', async () => {
    const onChange = jest.fn();
    const drifted = { ...completed, status: 'needs-attention' as const };
    const api = governanceApi({
      reverifyRetirement: jest
        .fn()
        .mockResolvedValue({ verdict: 'drift', retirement: drifted }),
    });
    await render(
      <RetirementGovernance
        retirement={completed}
        canOperate
        onChange={onChange}
      />,
      { api },
    );
    await userEvent.click(
      await screen.findByRole('button', { name: 'Re-verify now' }),
    );
    expect(
      await screen.findByText(/Drift: a system trusts a credential again/),
    ).toBeInTheDocument();
    expect(onChange).toHaveBeenCalledWith(drifted);
  });

  it('proposes the new owner of a shared credential and records it', async () => {
    const api = governanceApi();
    await render(
      <RetirementGovernance
        retirement={completed}
        canOperate
        onChange={jest.fn()}
      />,
      { api },
    );
    await userEvent.click(
      await screen.findByRole('button', {
        name: 'Reassign to group:default/billing',
      }),
    );
    await waitFor(() =>
      expect(api.reassignOwnership).toHaveBeenCalledWith(
        'r1',
        'a9',
        'group:default/billing',
      ),
    );
    expect(
      await screen.findByText(/now belongs to group:default\/billing/),
    ).toBeInTheDocument();
  });

  it('hides operations from people who may not operate, but keeps the export', async () => {
    const createObjectURL = jest.fn(() => 'blob:export');
    Object.assign(URL, { createObjectURL, revokeObjectURL: jest.fn() });
    const api = governanceApi();
    await render(
      <RetirementGovernance
        retirement={completed}
        canOperate={false}
        onChange={jest.fn()}
      />,
      { api },
    );
    await screen.findByText('Within objective');
    expect(
      screen.queryByRole('button', { name: 'Re-verify now' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /Reassign/ }),
    ).not.toBeInTheDocument();
    await userEvent.click(
      screen.getByRole('button', { name: 'Download audit export' }),
    );
    await waitFor(() => expect(createObjectURL).toHaveBeenCalledTimes(1));
    expect(api.getRetirementExport).toHaveBeenCalledWith('r1');
  });
});
