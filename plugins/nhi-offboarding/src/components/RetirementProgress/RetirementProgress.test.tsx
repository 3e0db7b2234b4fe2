import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ResponseError } from '@backstage/errors';
import { PHASE_TITLES } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { mockApi, plan, retirement, step } from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { RetirementProgress } from './RetirementProgress';

const failed = retirement({
  status: 'needs-attention',
  statusReason: 'Revoking Payments API key failed three times.',
  progress: { total: 6, done: 1, failed: 1, anchors: 4, verified: 1 },
  steps: [
    step({ id: 's0', ...plan[0], status: 'succeeded' }),
    step({
      id: 's1',
      status: 'failed',
      attempts: 3,
      lastError: 'the provider answered 503 Service Unavailable',
    }),
    step({ id: 's3', ...plan[3], status: 'waiting', attempts: 0 }),
  ],
});

describe('RetirementProgress', () => {
  it('says which trigger started a retirement, as text', async () => {
    const api = mockApi();
    await render(
      <RetirementProgress
        retirement={retirement({
          origin: {
            trigger: 'event',
            firingId: 'f2',
            detail: '<script>x()</script> offboarding event',
          },
        })}
        onChange={jest.fn()}
        onReload={jest.fn()}
      />,
      { api },
    );
    expect(
      screen.getByText(
        'Started by the event trigger (<script>x()</script> offboarding event)',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByText(/confirmed by/)).not.toBeInTheDocument();
  });

  it('shows no origin for a retirement started by hand', async () => {
    await render(
      <RetirementProgress
        retirement={retirement()}
        onChange={jest.fn()}
        onReload={jest.fn()}
      />,
      { api: mockApi() },
    );
    expect(screen.queryByText('Origin')).not.toBeInTheDocument();
    expect(screen.queryByText(/Started by the/)).not.toBeInTheDocument();
  });

  it('shows a long run page by page: the first page, then more steps on request', async () => {
    const named = (n: number) =>
      step({ id: `s${n}`, anchorName: `Key number ${n}`, status: 'pending' });
    const long = retirement({
      progress: { total: 4, done: 0, failed: 0, anchors: 2, verified: 0 },
      steps: [named(1), named(2)],
      stepsNextCursor: 'after-2',
    });
    const api = mockApi({
      getRetirementSteps: jest
        .fn()
        .mockResolvedValue({ items: [named(3), named(4)] }),
    });
    const user = userEvent.setup({ delay: null });
    await render(
      <RetirementProgress
        retirement={long}
        onChange={jest.fn()}
        onReload={jest.fn()}
      />,
      { api },
    );
    expect(screen.getAllByText(/Key number 2/).length).toBeGreaterThan(0);
    expect(screen.queryByText(/Key number 3/)).not.toBeInTheDocument();
    expect(api.getRetirementSteps).not.toHaveBeenCalled();
    await user.click(
      screen.getByRole('button', { name: 'Load more steps (2 of 4 shown)' }),
    );
    expect((await screen.findAllByText(/Key number 4/)).length).toBeGreaterThan(
      0,
    );
    expect(api.getRetirementSteps).toHaveBeenCalledWith('r1', {
      limit: 100,
      cursor: 'after-2',
    });
    expect(
      screen.queryByRole('button', { name: /Load more steps/ }),
    ).not.toBeInTheDocument();
  });

  it('shows verified of total and the steps grouped by phase', async () => {
    await render(
      <RetirementProgress
        retirement={retirement()}
        onChange={jest.fn()}
        onReload={jest.fn()}
      />,
      { api: mockApi() },
    );
    expect(screen.getByText('1 of 4 anchors verified')).toBeInTheDocument();
    const bar = screen.getByRole('progressbar');
    expect(bar).toHaveAttribute('aria-valuenow', '25');
    expect(bar).toHaveAccessibleName(/1 of 4 anchors verified/);
    expect(
      screen.getByRole('region', {
        name: `Phase 1: ${PHASE_TITLES[1]} (1 of 1 done)`,
      }),
    ).toBeInTheDocument();
    const phase3 = screen.getByRole('region', { name: /^Phase 3:/ });
    expect(
      within(phase3).getByText('Revoke Payments API key'),
    ).toBeInTheDocument();
    expect(within(phase3).getByText('Running')).toBeInTheDocument();
  });

  it('explains a failed step in words and retries', async () => {
    const user = userEvent.setup({ delay: null });
    const retried = retirement({ status: 'running' });
    const api = mockApi({
      retryRetirement: jest.fn().mockResolvedValue(retried),
    });
    const onChange = jest.fn();
    await render(
      <RetirementProgress
        retirement={failed}
        onChange={onChange}
        onReload={jest.fn()}
      />,
      {
        api,
      },
    );
    expect(screen.getByText('Needs attention')).toBeInTheDocument();
    expect(
      screen.getByText(/Revoking Payments API key failed three times/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        'Gave up after 3 attempts: the provider answered 503 Service Unavailable. Fix the cause and retry, or request an exception.',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('1 of 4 anchors verified')).toBeInTheDocument();

    await user.click(await screen.findByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(onChange).toHaveBeenCalledWith(retried));
    expect(api.retryRetirement).toHaveBeenCalledWith('r1');
  });

  it('attests a manual step with a note', async () => {
    const user = userEvent.setup({ delay: null });
    const api = mockApi({ attestStep: jest.fn().mockResolvedValue(failed) });
    await render(
      <RetirementProgress
        retirement={failed}
        onChange={jest.fn()}
        onReload={jest.fn()}
      />,
      {
        api,
      },
    );
    await user.click(
      await screen.findByRole('button', {
        name: 'Attest: Owner attests Legacy FTP account',
      }),
    );
    const dialog = screen.getByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Attest' });
    expect(confirm).toBeDisabled();
    await user.type(
      within(dialog).getByRole('textbox', { name: /What you did/ }),
      'Deleted in the FTP console',
    );
    await user.click(confirm);
    await waitFor(() =>
      expect(api.attestStep).toHaveBeenCalledWith(
        'r1',
        's3',
        'Deleted in the FTP console',
      ),
    );
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
  });

  it('requests an exception with justification and expiry, then reloads', async () => {
    const user = userEvent.setup({ delay: null });
    const api = mockApi({
      requestException: jest
        .fn()
        .mockResolvedValue({ id: 'e1', status: 'requested' }),
    });
    const onReload = jest.fn();
    await render(
      <RetirementProgress
        retirement={failed}
        onChange={jest.fn()}
        onReload={onReload}
      />,
      {
        api,
      },
    );
    await user.click(
      await screen.findByRole('button', {
        name: 'Request an exception: Revoke Payments API key',
      }),
    );
    const dialog = screen.getByRole('dialog');
    await user.type(
      within(dialog).getByRole('textbox', { name: /Justification/ }),
      'Vendor needs it until the migration',
    );
    await user.click(
      within(dialog).getByRole('button', { name: 'Request exception' }),
    );
    await waitFor(() => expect(onReload).toHaveBeenCalled());
    const [id, stepId, request] = api.requestException.mock.calls[0];
    expect([id, stepId, request.justification]).toEqual([
      'r1',
      's1',
      'Vendor needs it until the migration',
    ]);
    const days =
      (new Date(request.expiresAt).getTime() - Date.now()) / 86400000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThan(32);
  });

  it('offers approval to others, not to the requester, and shows a four-eyes refusal', async () => {
    const user = userEvent.setup({ delay: null });
    const withException = (requestedBy: string) =>
      retirement({
        status: 'needs-attention',
        steps: [
          step({
            id: 's1',
            status: 'failed',
            attempts: 3,
            lastError: 'boom',
            exception: {
              id: 'e1',
              retirementId: 'r1',
              stepId: 's1',
              justification: 'Vendor needs it',
              expiresAt: '2030-01-01T00:00:00Z',
              requestedBy,
              requestedAt: '2026-02-01T11:00:00Z',
              status: 'requested',
            },
          }),
        ],
      });
    const refusal = await ResponseError.fromResponse({
      ok: false,
      status: 403,
      statusText: 'Forbidden',
      headers: { get: () => 'application/json' },
      text: async () =>
        JSON.stringify({
          error: {
            name: 'NotAllowedError',
            message: 'You cannot approve your own exception',
          },
          response: { statusCode: 403 },
        }),
    } as unknown as Response);
    const api = mockApi({
      decideException: jest.fn().mockRejectedValue(refusal),
    });

    const mine = await render(
      <RetirementProgress
        retirement={withException('user:default/test')}
        onChange={jest.fn()}
        onReload={jest.fn()}
      />,
      { api },
    );
    expect(
      await screen.findByText(
        'You requested this exception; another person must approve it.',
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /^Approve/ }),
    ).not.toBeInTheDocument();
    mine.unmount();

    await render(
      <RetirementProgress
        retirement={withException('user:default/bob')}
        onChange={jest.fn()}
        onReload={jest.fn()}
      />,
      { api },
    );
    await user.click(
      await screen.findByRole('button', {
        name: 'Approve the exception: Revoke Payments API key',
      }),
    );
    await user.click(
      within(screen.getByRole('dialog')).getByRole('button', {
        name: 'Approve',
      }),
    );
    expect(
      await screen.findByText(
        'Approve failed. The permission policy does not allow this: You cannot approve your own exception',
      ),
    ).toBeInTheDocument();
    expect(api.decideException).toHaveBeenCalledWith(
      'r1',
      's1',
      'approve',
      undefined,
    );
  });

  it('releases a quarantine by restoring access, and manages the legal hold', async () => {
    const user = userEvent.setup({ delay: null });
    const quarantined = retirement({
      status: 'quarantined',
      mode: 'quarantine',
      quarantineDays: 14,
      quarantineUntil: '2026-02-15T10:00:00Z',
    });
    const api = mockApi({
      releaseQuarantine: jest
        .fn()
        .mockResolvedValue(retirement({ status: 'cancelled' })),
      placeLegalHold: jest
        .fn()
        .mockResolvedValue(retirement({ legalHold: true })),
    });
    const onChange = jest.fn();
    await render(
      <RetirementProgress
        retirement={quarantined}
        onChange={onChange}
        onReload={jest.fn()}
      />,
      {
        api,
      },
    );
    expect(screen.getByText(/Quarantined until/)).toBeInTheDocument();
    expect(
      screen.getByText('Quarantine for 14 days, then revoke'),
    ).toBeInTheDocument();

    await user.click(
      await screen.findByRole('button', { name: 'Restore access' }),
    );
    await user.click(
      within(screen.getByRole('dialog')).getByRole('button', {
        name: 'Restore access',
      }),
    );
    await waitFor(() =>
      expect(api.releaseQuarantine).toHaveBeenCalledWith('r1', 'restore'),
    );
    expect(onChange).toHaveBeenCalledWith(
      expect.objectContaining({ status: 'cancelled' }),
    );
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );

    await user.click(screen.getByRole('button', { name: 'Place legal hold…' }));
    const dialog = screen.getByRole('dialog');
    expect(
      within(dialog).getByRole('button', { name: 'Place hold' }),
    ).toBeDisabled();
    await user.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'Matter 2026-17',
    );
    await user.click(
      within(dialog).getByRole('button', { name: 'Place hold' }),
    );
    await waitFor(() =>
      expect(api.placeLegalHold).toHaveBeenCalledWith('r1', 'Matter 2026-17'),
    );
  });

  it('lets people without the operate permission follow but not act', async () => {
    await render(
      <RetirementProgress
        retirement={failed}
        onChange={jest.fn()}
        onReload={jest.fn()}
      />,
      {
        api: mockApi(),
        deny: [
          'nhi-offboarding.retirement.operate',
          'nhi-offboarding.legal-hold.manage',
        ],
      },
    );
    expect(
      await screen.findByText(
        /the permission policy does not let you operate it/,
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Retry' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /Cancel retirement/ }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /^Attest/ }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /Request an exception/ }),
    ).not.toBeInTheDocument();
  });
});
