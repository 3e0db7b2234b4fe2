import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ResponseError } from '@backstage/errors';
import { PHASE_TITLES } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  ENTITY_REF,
  entity,
  mockApi,
  retirement,
} from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { RetireButton } from './RetireButton';
import { RetireDialog } from './RetireDialog';

async function conflict(message: string) {
  return ResponseError.fromResponse({
    ok: false,
    status: 409,
    statusText: 'Conflict',
    headers: { get: () => 'application/json' },
    text: async () =>
      JSON.stringify({
        error: { name: 'ConflictError', message },
        response: { statusCode: 409 },
      }),
  } as unknown as Response);
}

describe('RetireDialog', () => {
  it('shows the dry-run plan by phase and only enables confirm once the name is typed', async () => {
    const user = userEvent.setup({ delay: null });
    const api = mockApi();
    const onStarted = jest.fn();
    await render(
      <RetireDialog
        open
        entity={entity}
        onClose={jest.fn()}
        onStarted={onStarted}
      />,
      { api },
    );
    const dialog = screen.getByRole('dialog');
    expect(
      within(dialog).getByRole('heading', { name: 'Retire payments-bot' }),
    ).toBeInTheDocument();

    // The plan, grouped by phase and in order.
    const phases = await within(dialog).findAllByRole('region');
    expect(phases.map(p => p.getAttribute('aria-label'))).toEqual([
      `Phase 1: ${PHASE_TITLES[1]}`,
      `Phase 3: ${PHASE_TITLES[3]}`,
      `Phase 4: ${PHASE_TITLES[4]}`,
    ]);
    expect(api.planRetirement).toHaveBeenCalledWith(ENTITY_REF, {
      mode: 'revoke',
      quarantineDays: undefined,
    });
    const phase3 = within(phases[1]);
    expect(phase3.getByText('Revoked')).toBeInTheDocument();
    expect(phase3.getByText('Rotated: shared')).toBeInTheDocument();
    expect(
      phase3.getByText('Shared with component:default/ledger: rotated'),
    ).toBeInTheDocument();
    expect(
      within(phases[2]).getByText('Manual: owner attests'),
    ).toBeInTheDocument();
    expect(
      within(dialog).getByText(
        /4 steps; 1 revoked; 1 rotated instead of revoked because other entities use it; 1 manual/,
      ),
    ).toBeInTheDocument();

    const confirm = within(dialog).getByRole('button', {
      name: 'Retire payments-bot',
    });
    expect(confirm).toBeDisabled();

    await user.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'Replaced by v2',
    );
    expect(confirm).toBeDisabled();
    const typeName = within(dialog).getByRole('textbox', {
      name: 'Type payments-bot to confirm',
    });
    await user.type(typeName, 'payments-bo');
    expect(confirm).toBeDisabled();
    expect(
      within(dialog).getByText('Does not match the entity name'),
    ).toBeInTheDocument();
    await user.type(typeName, 't');
    expect(confirm).toBeEnabled();

    await user.click(confirm);
    await waitFor(() => expect(onStarted).toHaveBeenCalled());
    expect(api.startRetirement).toHaveBeenCalledWith({
      entityRef: ENTITY_REF,
      mode: 'revoke',
      reason: 'Replaced by v2',
      quarantineDays: undefined,
    });
  });

  it('plans and starts a quarantine with its days', async () => {
    const user = userEvent.setup({ delay: null });
    const api = mockApi();
    await render(
      <RetireDialog
        open
        entity={entity}
        onClose={jest.fn()}
        onStarted={jest.fn()}
      />,
      { api },
    );
    await user.click(screen.getByRole('radio', { name: /Quarantine first/ }));
    const days = screen.getByRole('spinbutton', { name: 'Quarantine days' });
    expect(days).toHaveValue(14);
    await waitFor(() =>
      expect(api.planRetirement).toHaveBeenLastCalledWith(ENTITY_REF, {
        mode: 'quarantine',
        quarantineDays: 14,
      }),
    );
    await user.clear(days);
    await user.type(days, '0');
    expect(
      screen.getByText('A whole number of days from 1 to 365'),
    ).toBeInTheDocument();
    await user.clear(days);
    await user.type(days, '30');
    await user.type(
      screen.getByRole('textbox', { name: /Reason/ }),
      'Suspected leak',
    );
    await user.type(
      screen.getByRole('textbox', { name: /to confirm/ }),
      'payments-bot',
    );
    const start = screen.getByRole('button', { name: 'Start quarantine' });
    await waitFor(() => expect(start).toBeEnabled(), { timeout: 3000 });
    await user.click(start);
    await waitFor(() =>
      expect(api.startRetirement).toHaveBeenCalledWith({
        entityRef: ENTITY_REF,
        mode: 'quarantine',
        reason: 'Suspected leak',
        quarantineDays: 30,
      }),
    );
  });

  it('says why the backend refused to start', async () => {
    const user = userEvent.setup({ delay: null });
    const api = mockApi({
      startRetirement: jest
        .fn()
        .mockRejectedValue(
          await conflict('payments-bot already has an active retirement'),
        ),
    });
    const onStarted = jest.fn();
    await render(
      <RetireDialog
        open
        entity={entity}
        onClose={jest.fn()}
        onStarted={onStarted}
      />,
      { api },
    );
    await screen.findAllByTestId('plan-step');
    await user.type(screen.getByRole('textbox', { name: /Reason/ }), 'x');
    await user.type(
      screen.getByRole('textbox', { name: /to confirm/ }),
      'payments-bot',
    );
    await user.click(
      screen.getByRole('button', { name: 'Retire payments-bot' }),
    );
    expect(
      await screen.findByText(/payments-bot already has an active retirement/),
    ).toBeInTheDocument();
    expect(onStarted).not.toHaveBeenCalled();
  });
});

describe('RetireButton', () => {
  it('tells users without the permission why they cannot retire', async () => {
    await render(<RetireButton entity={entity} onStarted={jest.fn()} />, {
      api: mockApi(),
      deny: ['nhi-offboarding.entity.retire'],
    });
    const button = await screen.findByRole('button', { name: 'Retire…' });
    await waitFor(() =>
      expect(
        screen.getByText(
          /You can't retire payments-bot: the permission policy does not give you "nhi-offboarding.entity.retire" on it. Ask its owner \(group:payments\)/,
        ),
      ).toBeInTheDocument(),
    );
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription(/You can't retire payments-bot/);
  });

  it('is blocked while a retirement is active, and opens the dialog otherwise', async () => {
    const user = userEvent.setup({ delay: null });
    const { rerender } = await render(
      <RetireButton
        entity={entity}
        activeRetirement={retirement({ status: 'quarantined' })}
        onStarted={jest.fn()}
      />,
      { api: mockApi() },
    );
    expect(
      await screen.findByText(
        'A retirement is in progress (quarantined); finish or cancel it first.',
      ),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retire…' })).toBeDisabled();
    rerender(<span />);

    await render(<RetireButton entity={entity} onStarted={jest.fn()} />, {
      api: mockApi(),
    });
    const button = screen.getByRole('button', { name: 'Retire…' });
    await waitFor(() => expect(button).toBeEnabled());
    await user.click(button);
    expect(await screen.findByRole('dialog')).toBeInTheDocument();
  });
});
