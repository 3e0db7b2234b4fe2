import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ResponseError } from '@backstage/errors';
import type { Entity } from '@backstage/catalog-model';
import {
  ENTITY_REF,
  anchor,
  entity,
  firing,
  mockApi,
  record,
  retirement,
} from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { EntityRetireContent } from './EntityRetireContent';

async function notFound(message: string) {
  return ResponseError.fromResponse({
    ok: false,
    status: 404,
    statusText: 'Not Found',
    headers: { get: () => 'application/json' },
    text: async () =>
      JSON.stringify({
        error: { name: 'NotFoundError', message },
        response: { statusCode: 404 },
      }),
  } as unknown as Response);
}

describe('EntityRetireContent', () => {
  it('shows the anchors, retires through the dialog and then shows progress and evidence', async () => {
    const user = userEvent.setup({ delay: null });
    const started = retirement({
      status: 'completed',
      progress: { total: 6, done: 6, failed: 0, anchors: 4, verified: 4 },
    });
    const api = mockApi({
      getTrustAnchors: jest
        .fn()
        .mockResolvedValue({ items: [anchor()], problems: [] }),
      listRetirements: jest
        .fn()
        .mockResolvedValueOnce({ items: [] })
        .mockResolvedValue({ items: [started] }),
      startRetirement: jest.fn().mockResolvedValue(started),
      getRetirement: jest.fn().mockResolvedValue(started),
      getEvidencePage: jest
        .fn()
        .mockResolvedValue({ items: [record(1), record(2)] }),
      verifyEvidence: jest.fn().mockResolvedValue({ valid: true, count: 2 }),
    });
    await render(<EntityRetireContent />, { api });

    expect(await screen.findByText('Payments API key')).toBeInTheDocument();
    expect(api.getTrustAnchors).toHaveBeenCalledWith(ENTITY_REF, {
      refresh: false,
    });
    expect(
      await screen.findByText('This entity was never retired.'),
    ).toBeInTheDocument();
    expect(screen.queryByText('Evidence')).not.toBeInTheDocument();

    const retire = screen.getByRole('button', { name: 'Retire…' });
    await waitFor(() => expect(retire).toBeEnabled());
    await user.click(retire);
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findAllByTestId('plan-step');
    await user.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'Replaced',
    );
    await user.type(
      within(dialog).getByRole('textbox', { name: /to confirm/ }),
      'payments-bot',
    );
    await user.click(
      within(dialog).getByRole('button', { name: 'Retire payments-bot' }),
    );

    expect(
      await screen.findByText('4 of 4 anchors verified'),
    ).toBeInTheDocument();
    expect(await screen.findByText('Chain verified')).toBeInTheDocument();
    expect(screen.getByText('Evidence')).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByText('Shown above')).toBeInTheDocument(),
    );
  });

  it('confirms a trigger proposal and then shows the retirement it started', async () => {
    const user = userEvent.setup({ delay: null });
    const started = retirement({
      id: 'r7',
      origin: {
        trigger: 'lifecycle',
        firingId: 'f1',
        detail: 'spec.lifecycle production → deprecated',
        confirmedBy: 'user:default/test',
      },
    });
    const api = mockApi({
      listTriggerFirings: jest
        .fn()
        .mockResolvedValueOnce([firing()])
        .mockResolvedValue([]),
      confirmProposal: jest
        .fn()
        .mockResolvedValue(firing({ status: 'started', retirementId: 'r7' })),
      listRetirements: jest
        .fn()
        .mockResolvedValueOnce({ items: [] })
        .mockResolvedValue({ items: [{ ...started, steps: undefined }] }),
      getRetirement: jest.fn().mockResolvedValue(started),
    });
    await render(<EntityRetireContent />, { api });

    expect(
      await screen.findByText(
        'Proposed by the lifecycle change trigger: spec.lifecycle production → deprecated',
      ),
    ).toBeInTheDocument();
    const confirm = screen.getByRole('button', { name: 'Confirm' });
    await waitFor(() => expect(confirm).toBeEnabled());
    await user.click(confirm);

    expect(api.confirmProposal).toHaveBeenCalledWith('f1');
    const origin = await screen.findByText(
      /^Started by the lifecycle change trigger \(spec\.lifecycle production → deprecated\), confirmed by/,
    );
    expect(within(origin).getByRole('link')).toHaveTextContent('test');
    expect(api.getRetirement).toHaveBeenCalledWith('r7');
    await waitFor(() =>
      expect(
        screen.queryByRole('button', { name: 'Confirm' }),
      ).not.toBeInTheDocument(),
    );
  });

  it('follows an active retirement and blocks a second one', async () => {
    const running = retirement();
    const api = mockApi({
      getTrustAnchors: jest
        .fn()
        .mockResolvedValue({ items: [anchor()], problems: [] }),
      listRetirements: jest.fn().mockResolvedValue({
        items: [
          retirement({
            id: 'r0',
            status: 'cancelled',
            createdAt: '2025-01-01T00:00:00Z',
            steps: undefined,
          }),
          { ...running, steps: undefined },
        ],
      }),
      getRetirement: jest.fn().mockResolvedValue(running),
    });
    await render(<EntityRetireContent />, { api });
    expect(
      await screen.findByText('Retirement in progress'),
    ).toBeInTheDocument();
    expect(
      await screen.findByText('1 of 4 anchors verified'),
    ).toBeInTheDocument();
    expect(api.getRetirement).toHaveBeenCalledWith('r1');
    expect(
      await screen.findByText(
        'A retirement is in progress (running); finish or cancel it first.',
      ),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retire…' })).toBeDisabled();
    // The history lists both, the older one can be shown.
    expect(
      screen.getByRole('button', { name: /Show the retirement started/ }),
    ).toBeInTheDocument();
  });

  it('explains an empty entity and re-discovers on refresh, for any kind', async () => {
    const user = userEvent.setup({ delay: null });
    const system: Entity = {
      ...entity,
      kind: 'System',
      metadata: { name: 'billing', namespace: 'default' },
    };
    const api = mockApi({
      getTrustAnchors: jest
        .fn()
        .mockResolvedValueOnce({ items: [], problems: [] })
        .mockResolvedValue({
          items: [anchor({ entityRef: 'system:default/billing' })],
          problems: [{ providerId: 'vault', message: 'connection refused' }],
        }),
    });
    await render(<EntityRetireContent />, { api, entity: system });
    expect(
      await screen.findByText('Nothing is known to trust this entity yet'),
    ).toBeInTheDocument();
    await user.click(
      screen.getByRole('button', { name: 'Re-discover trust anchors' }),
    );
    await waitFor(() =>
      expect(api.getTrustAnchors).toHaveBeenLastCalledWith(
        'system:default/billing',
        { refresh: true },
      ),
    );
    expect(await screen.findByText('Payments API key')).toBeInTheDocument();
    expect(
      screen.getByText(
        'Some systems could not be asked, so this list may be incomplete: vault: connection refused.',
      ),
    ).toBeInTheDocument();
  });

  it('warns about residual access of a deprecated entity', async () => {
    const deprecated: Entity = {
      ...entity,
      spec: { ...entity.spec, lifecycle: 'deprecated' },
    };
    const api = mockApi({
      getTrustAnchors: jest.fn().mockResolvedValue({
        items: [
          anchor(),
          anchor({ id: 'a2', displayName: 'Old token', status: 'revoked' }),
        ],
        problems: [],
      }),
    });
    await render(<EntityRetireContent />, { api, entity: deprecated });
    expect(await screen.findByText('Residual access')).toBeInTheDocument();
    expect(
      screen.getByText(
        /payments-bot is deprecated, but 1 credential still works: Payments API key\./,
      ),
    ).toBeInTheDocument();
  });

  it('shows the backend error when the anchors cannot be read', async () => {
    const api = mockApi({
      getTrustAnchors: jest
        .fn()
        .mockRejectedValue(
          await notFound(
            'component:default/payments-bot is not in the catalog',
          ),
        ),
    });
    await render(<EntityRetireContent />, {
      api,
      deny: ['nhi-offboarding.entity.retire'],
    });
    expect(
      await screen.findByText(/Could not load the trust anchors/),
    ).toBeInTheDocument();
    expect(screen.getAllByText(/is not in the catalog/).length).toBeGreaterThan(
      0,
    );
    expect(
      await screen.findByText(/You can't retire payments-bot/),
    ).toBeInTheDocument();
  });
});
