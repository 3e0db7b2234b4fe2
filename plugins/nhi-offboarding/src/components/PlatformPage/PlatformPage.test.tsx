import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ResponseError } from '@backstage/errors';
import {
  anchor,
  firing,
  mockApi,
  retirement,
} from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { PlatformPage } from './PlatformPage';

const DAY = 24 * 3600 * 1000;

const retirements = [
  retirement({
    id: 'r1',
    status: 'completed',
    createdAt: '2026-02-01T10:00:00Z',
    completedAt: '2026-02-01T10:12:00Z',
    progress: { total: 5, done: 5, failed: 0, anchors: 3, verified: 3 },
    steps: undefined,
  }),
  retirement({
    id: 'r2',
    entityRef: 'resource:default/ci-deploy-key',
    status: 'needs-attention',
    steps: undefined,
  }),
];

function platformApi() {
  return mockApi({
    listRetirements: jest.fn().mockResolvedValue({ items: retirements }),
    getResidualAccessPage: jest.fn().mockResolvedValue({
      items: [
        {
          anchor: anchor({
            id: 'x1',
            entityRef: 'component:default/old-bot',
            displayName: 'Old bot token',
          }),
          reason: 'entity-deprecated',
          entityLifecycle: 'deprecated',
        },
        {
          anchor: anchor({
            id: 'x2',
            entityRef: 'component:default/orphan-bot',
            displayName: 'Orphan key',
            owner: 'group:default/gone-team',
          }),
          reason: 'owner-missing',
        },
      ],
    }),
    listExceptions: jest.fn().mockResolvedValue([
      {
        id: 'e1',
        retirementId: 'r2',
        stepId: 's1',
        entityRef: 'resource:default/ci-deploy-key',
        justification: 'Release train needs it until Friday',
        expiresAt: new Date(Date.now() + 3 * DAY).toISOString(),
        requestedBy: 'user:default/bob',
        requestedAt: '2026-02-01T11:00:00Z',
        status: 'requested',
      },
      {
        id: 'e2',
        retirementId: 'r9',
        stepId: 's2',
        entityRef: 'component:default/audit-bot',
        justification: 'Audit copy',
        expiresAt: new Date(Date.now() + 2 * DAY).toISOString(),
        requestedBy: 'user:default/test',
        requestedAt: '2026-02-01T11:00:00Z',
        status: 'approved',
        decidedBy: 'user:default/carol',
      },
    ]),
    decideException: jest
      .fn()
      .mockResolvedValue({ id: 'e1', status: 'approved' }),
    getStats: jest.fn().mockResolvedValue({
      retirements: {
        byStatus: { running: 2, 'needs-attention': 1, completed: 7 },
      },
      completedPerDay: [
        { day: '2026-02-01', count: 3 },
        { day: '2026-02-02', count: 4 },
      ],
      timeToVerifiedMs: [30_000, 12 * 60_000, 2 * 3600_000],
    }),
  });
}

describe('PlatformPage', () => {
  it('shows counts, retirements linking to the Retire tab, residual access, orphans, exceptions and charts', async () => {
    const api = platformApi();
    await render(<PlatformPage />, { api, entity: null });

    const link = await screen.findByRole('link', {
      name: 'component:payments-bot',
    });
    expect(link).toHaveAttribute(
      'href',
      '/catalog/default/component/payments-bot/retire',
    );
    const list = within(screen.getByRole('region', { name: 'Retirements' }));
    expect(
      list.getByRole('link', { name: 'resource:ci-deploy-key' }),
    ).toHaveAttribute('href', '/catalog/default/resource/ci-deploy-key/retire');
    expect(screen.getByText('12 min')).toBeInTheDocument(); // time to verified

    await waitFor(() =>
      expect(
        within(screen.getByTestId('tile-completed')).getByText('7'),
      ).toBeInTheDocument(),
    );
    expect(
      within(screen.getByTestId('tile-needs-attention')).getByText('1'),
    ).toBeInTheDocument();
    expect(
      within(screen.getByTestId('tile-residual')).getByText('1'),
    ).toBeInTheDocument();
    expect(
      within(screen.getByTestId('tile-orphaned')).getByText('1'),
    ).toBeInTheDocument();
    expect(
      within(screen.getByTestId('tile-exceptions-expiring')).getByText('1'),
    ).toBeInTheDocument();

    const residual = within(
      screen.getByRole('region', { name: 'Residual access' }),
    );
    expect(residual.getByText('Old bot token')).toBeInTheDocument();
    expect(
      residual.getByText('Entity deprecated (lifecycle: deprecated)'),
    ).toBeInTheDocument();
    expect(residual.queryByText('Orphan key')).not.toBeInTheDocument();
    const orphans = within(
      screen.getByRole('region', { name: 'Orphaned anchors' }),
    );
    expect(orphans.getByText('Orphan key')).toBeInTheDocument();
    expect(orphans.getByText('group:gone-team')).toBeInTheDocument();

    const exceptions = within(
      screen.getByRole('region', { name: 'Exceptions' }),
    );
    expect(
      exceptions.getByText('Release train needs it until Friday'),
    ).toBeInTheDocument();
    expect(exceptions.getByText('approved by user:carol')).toBeInTheDocument();
    expect(
      exceptions.getByRole('link', { name: 'resource:ci-deploy-key' }),
    ).toHaveAttribute('href', '/catalog/default/resource/ci-deploy-key/retire');

    expect(
      screen.getByRole('img', {
        name: /Completed retirements per day: (Feb 1|1 Feb) 3, (Feb 2|2 Feb) 4/,
      }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('img', {
        name: /time from start to verified completion: < 1 min 1, 1–5 min 0, 5–15 min 1, 15–60 min 0, 1–4 h 1/,
      }),
    ).toBeInTheDocument();
  });

  it('lists open proposals from triggers, linking to the Retire tab', async () => {
    const api = platformApi();
    api.listTriggerFirings.mockResolvedValue([
      firing({
        id: 'f2',
        trigger: 'missing',
        entityRef: 'resource:default/ci-deploy-key',
        detail: '<a href="https://evil.test">left the catalog</a>',
        createdAt: '2026-02-03T08:00:00Z',
      }),
    ]);
    const { container } = await render(<PlatformPage />, {
      api,
      entity: null,
    });
    const card = within(
      await screen.findByRole('region', { name: 'Proposals from triggers' }),
    );
    expect(
      await card.findByRole('link', { name: 'resource:ci-deploy-key' }),
    ).toHaveAttribute('href', '/catalog/default/resource/ci-deploy-key/retire');
    expect(card.getByText('missing entity')).toBeInTheDocument();
    expect(
      card.getByText('<a href="https://evil.test">left the catalog</a>'),
    ).toBeInTheDocument();
    expect(container.querySelector('a[href="https://evil.test"]')).toBeNull();
    expect(api.listTriggerFirings).toHaveBeenCalledWith({
      status: 'proposed',
      limit: 200,
    });
  });

  it('says when no trigger proposes anything', async () => {
    const api = platformApi();
    await render(<PlatformPage />, { api, entity: null });
    const card = within(
      await screen.findByRole('region', { name: 'Proposals from triggers' }),
    );
    expect(
      await card.findByText('No trigger proposes a retirement now.'),
    ).toBeInTheDocument();
  });

  it('filters by status, owner and kind', async () => {
    const user = userEvent.setup({ delay: null });
    const api = platformApi();
    await render(<PlatformPage />, { api, entity: null });
    // Queries are scoped to the tile and to the Retirements section: a role
    // query over the whole page (charts, four tables) takes about a second
    // in jsdom.
    const section = within(
      await screen.findByRole('region', { name: 'Retirements' }),
    );
    await section.findByRole('link', { name: 'component:payments-bot' });
    const needsAttention = () =>
      within(screen.getByTestId('tile-needs-attention')).getByRole('button', {
        name: 'Needs attention: 1',
      });

    await user.click(needsAttention());
    await waitFor(() =>
      expect(api.listRetirements).toHaveBeenLastCalledWith({
        status: 'needs-attention',
        owner: undefined,
        limit: 50,
      }),
    );
    expect(needsAttention()).toHaveAttribute('aria-pressed', 'true');

    await user.click(section.getByRole('textbox', { name: 'Owner' }));
    await user.paste('group:default/payments');
    await waitFor(() =>
      expect(api.listRetirements).toHaveBeenLastCalledWith({
        status: 'needs-attention',
        owner: 'group:default/payments',
        limit: 50,
      }),
    );

    await user.click(section.getByRole('button', { name: /Kind/ }));
    // The options open in a popover outside the section.
    await user.click(await screen.findByRole('option', { name: 'resource' }));
    await waitFor(() =>
      expect(
        section.queryByRole('link', { name: 'component:payments-bot' }),
      ).not.toBeInTheDocument(),
    );
    expect(
      section.getByRole('link', { name: 'resource:ci-deploy-key' }),
    ).toBeInTheDocument();
  });

  it('lets an approver decide on others’ exceptions only', async () => {
    const user = userEvent.setup({ delay: null });
    const api = platformApi();
    await render(<PlatformPage />, { api, entity: null });
    const approve = await screen.findByRole('button', {
      name: 'Approve the exception for resource:ci-deploy-key',
    });
    await user.click(approve);
    await waitFor(() =>
      expect(api.decideException).toHaveBeenCalledWith('r2', 's1', 'approve'),
    );
    await waitFor(() => expect(api.listExceptions).toHaveBeenCalledTimes(2));
  });

  it('hides the charts when the backend has no stats and counts what is listed', async () => {
    const api = platformApi();
    api.getStats.mockResolvedValue(undefined);
    await render(<PlatformPage />, { api, entity: null });
    await screen.findByRole('link', { name: 'component:payments-bot' });
    expect(
      screen.getByText('Status counts are of the retirements listed below.'),
    ).toBeInTheDocument();
    expect(
      within(screen.getByTestId('tile-completed')).getByText('1'),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('img', { name: /Completed retirements per day/ }),
    ).not.toBeInTheDocument();
  });

  it('reads residual access page by page and loads more on request', async () => {
    const item = (n: number) => ({
      anchor: anchor({
        id: `x${n}`,
        entityRef: `component:default/gone-${n}`,
        displayName: `Token ${n}`,
      }),
      reason: 'entity-deprecated' as const,
      entityLifecycle: 'deprecated',
    });
    const api = platformApi();
    api.getResidualAccessPage
      .mockReset()
      .mockResolvedValueOnce({ items: [item(1), item(2)], nextCursor: 'c1' })
      .mockResolvedValueOnce({ items: [item(3)] });
    await render(<PlatformPage />, { api, entity: null });
    const residual = within(
      await screen.findByRole('region', { name: 'Residual access' }),
    );
    expect(await residual.findByText('Token 2')).toBeInTheDocument();
    expect(residual.queryByText('Token 3')).not.toBeInTheDocument();
    expect(api.getResidualAccessPage).toHaveBeenCalledWith({
      limit: 200,
      cursor: undefined,
    });
    const user = userEvent.setup({ delay: null });
    await user.click(
      residual.getByRole('button', {
        name: 'Load more residual access (2 anchors so far)',
      }),
    );
    expect(await residual.findByText('Token 3')).toBeInTheDocument();
    expect(api.getResidualAccessPage).toHaveBeenLastCalledWith({
      limit: 200,
      cursor: 'c1',
    });
    expect(residual.getByText('Token 1')).toBeInTheDocument();
    expect(
      residual.queryByRole('button', { name: /Load more residual access/ }),
    ).not.toBeInTheDocument();
    expect(
      within(screen.getByTestId('tile-residual')).getByText('3'),
    ).toBeInTheDocument();
  });

  it('tells people without the platform permission what they can do instead', async () => {
    const forbidden = await ResponseError.fromResponse({
      ok: false,
      status: 403,
      statusText: 'Forbidden',
      headers: { get: () => 'application/json' },
      text: async () =>
        JSON.stringify({
          error: { name: 'NotAllowedError', message: 'Unauthorized' },
          response: { statusCode: 403 },
        }),
    } as unknown as Response);
    const api = platformApi();
    api.listRetirements.mockRejectedValue(forbidden);
    await render(<PlatformPage />, { api, entity: null });
    expect(
      await screen.findByText('This page is for platform and security teams'),
    ).toBeInTheDocument();
  });
});
