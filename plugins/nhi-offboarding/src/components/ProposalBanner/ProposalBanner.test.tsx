import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ENTITY_REF, firing, mockApi } from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { ProposalBanner } from './ProposalBanner';

describe('ProposalBanner', () => {
  it('shows an open proposal, its detail as text, and confirms it', async () => {
    const user = userEvent.setup({ delay: null });
    const proposal = firing({
      detail: '<img src=x onerror="alert(1)"> <b>deprecated</b>',
    });
    const started = firing({ status: 'started', retirementId: 'r7' });
    const api = mockApi({
      listTriggerFirings: jest
        .fn()
        .mockResolvedValueOnce([proposal])
        .mockResolvedValue([]),
      confirmProposal: jest.fn().mockResolvedValue(started),
    });
    const onConfirmed = jest.fn();
    const { container } = await render(
      <ProposalBanner entityRef={ENTITY_REF} onConfirmed={onConfirmed} />,
      { api },
    );

    const banner = await screen.findByRole('region', { name: 'Proposal f1' });
    expect(api.listTriggerFirings).toHaveBeenCalledWith({
      entityRef: ENTITY_REF,
      status: 'proposed',
      limit: 10,
    });
    expect(
      within(banner).getByText(
        'Proposed by the lifecycle change trigger: <img src=x onerror="alert(1)"> <b>deprecated</b>',
      ),
    ).toBeInTheDocument();
    // The detail comes from the catalog or an event: never markup.
    expect(container.querySelector('img, b')).toBeNull();
    expect(
      within(banner).getByText(
        /starts a revoke retirement: The entity was deprecated\./,
      ),
    ).toBeInTheDocument();

    const confirm = within(banner).getByRole('button', { name: 'Confirm' });
    await waitFor(() => expect(confirm).toBeEnabled());
    await user.click(confirm);
    await waitFor(() => expect(onConfirmed).toHaveBeenCalledWith(started));
    expect(api.confirmProposal).toHaveBeenCalledWith('f1');
    await waitFor(() =>
      expect(
        screen.queryByRole('region', { name: 'Proposal f1' }),
      ).not.toBeInTheDocument(),
    );
  });

  it('says why a confirmed proposal did not start a retirement', async () => {
    const user = userEvent.setup({ delay: null });
    const api = mockApi({
      listTriggerFirings: jest
        .fn()
        .mockResolvedValueOnce([firing()])
        .mockResolvedValue([]),
      confirmProposal: jest.fn().mockResolvedValue(
        firing({
          status: 'skipped',
          detail: 'a retirement of this entity is already active',
        }),
      ),
    });
    await render(
      <ProposalBanner entityRef={ENTITY_REF} onConfirmed={jest.fn()} />,
      { api },
    );
    const confirm = await screen.findByRole('button', { name: 'Confirm' });
    await waitFor(() => expect(confirm).toBeEnabled());
    await user.click(confirm);
    expect(
      await screen.findByText(
        'The retirement was not started (skipped): a retirement of this entity is already active',
      ),
    ).toBeInTheDocument();
  });

  it('dismisses a proposal with an optional reason', async () => {
    const user = userEvent.setup({ delay: null });
    const api = mockApi({
      listTriggerFirings: jest
        .fn()
        .mockResolvedValueOnce([firing()])
        .mockResolvedValue([]),
      dismissProposal: jest
        .fn()
        .mockResolvedValue(firing({ status: 'dismissed' })),
    });
    const onConfirmed = jest.fn();
    await render(
      <ProposalBanner entityRef={ENTITY_REF} onConfirmed={onConfirmed} />,
      { api },
    );
    const dismiss = await screen.findByRole('button', { name: 'Dismiss…' });
    await waitFor(() => expect(dismiss).toBeEnabled());
    await user.click(dismiss);
    const dialog = await screen.findByRole('dialog');
    await user.type(
      within(dialog).getByRole('textbox', { name: 'Reason (optional)' }),
      'Still used by the nightly job',
    );
    await user.click(
      within(dialog).getByRole('button', { name: 'Dismiss proposal' }),
    );
    await waitFor(() =>
      expect(api.dismissProposal).toHaveBeenCalledWith(
        'f1',
        'Still used by the nightly job',
      ),
    );
    await waitFor(() =>
      expect(
        screen.queryByRole('region', { name: 'Proposal f1' }),
      ).not.toBeInTheDocument(),
    );
    expect(onConfirmed).not.toHaveBeenCalled();
    expect(api.confirmProposal).not.toHaveBeenCalled();
  });

  it('lets only users who may retire the entity decide', async () => {
    const api = mockApi({
      listTriggerFirings: jest.fn().mockResolvedValue([firing()]),
    });
    await render(
      <ProposalBanner entityRef={ENTITY_REF} onConfirmed={jest.fn()} />,
      { api, deny: ['nhi-offboarding.entity.retire'] },
    );
    expect(
      await screen.findByText(/so you cannot confirm or dismiss it/),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Confirm' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Dismiss…' })).toBeDisabled();
  });

  it('shows nothing without proposals or when they cannot be read', async () => {
    const api = mockApi({
      listTriggerFirings: jest.fn().mockRejectedValue(new Error('403')),
    });
    await render(
      <ProposalBanner entityRef={ENTITY_REF} onConfirmed={jest.fn()} />,
      { api },
    );
    await waitFor(() => expect(api.listTriggerFirings).toHaveBeenCalled());
    expect(
      screen.queryByRole('region', { name: 'Proposals from triggers' }),
    ).not.toBeInTheDocument();
  });
});
