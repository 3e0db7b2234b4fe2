import { screen, within } from '@testing-library/react';
import { anchor, mockApi } from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { AnchorsEmptyState, AnchorsTable } from './AnchorsTable';

describe('AnchorsTable', () => {
  it('shows each anchor with kind, provider, owner, shared-with links and status', async () => {
    const api = mockApi();
    await render(
      <AnchorsTable
        anchors={[
          anchor({
            lastVerifiedAt: new Date().toISOString(),
            lastVerification: 'trusted',
          }),
          anchor({
            id: 'a2',
            kind: 'secret',
            displayName: 'Shared DB password',
            externalId: 'db/pass',
            sharedWith: ['component:default/ledger', 'component:other/reports'],
            status: 'rotated',
            owner: 'ops@example.com',
            manual: true,
          }),
        ]}
      />,
      { api },
    );

    const rows = screen.getAllByRole('row');
    // header + 2 anchors
    expect(rows).toHaveLength(3);
    const first = within(rows[1]);
    expect(first.getByText('API key')).toBeInTheDocument();
    expect(first.getByTestId('anchor-kind-icon-api-key')).toBeInTheDocument();
    expect(await first.findByText('demo (simulation)')).toBeInTheDocument();
    expect(first.getByText('Payments API key')).toBeInTheDocument();
    expect(first.getByText('key-123')).toBeInTheDocument();
    expect(first.getByText('0123456789ab…')).toBeInTheDocument();
    expect(first.getByText('Active')).toBeInTheDocument();
    expect(first.getByText(/Still trusted, /)).toBeInTheDocument();
    expect(first.getByRole('link', { name: /payments/ })).toHaveAttribute(
      'href',
      '/catalog/default/group/payments',
    );

    const second = within(rows[2]);
    expect(second.getByText('Secret')).toBeInTheDocument();
    expect(second.getByText('Rotated')).toBeInTheDocument();
    expect(second.getByText('Manual')).toBeInTheDocument();
    expect(second.getByText('Never verified')).toBeInTheDocument();
    expect(second.getByText('ops@example.com')).toBeInTheDocument();
    expect(second.getByRole('link', { name: /ledger/ })).toHaveAttribute(
      'href',
      '/catalog/default/component/ledger',
    );
    expect(second.getByRole('link', { name: /reports/ })).toHaveAttribute(
      'href',
      '/catalog/other/component/reports',
    );
  });

  it('renders markup in names as text', async () => {
    await render(
      <AnchorsTable
        anchors={[
          anchor({
            displayName: '<img src=x onerror="alert(1)">',
            externalId: '<script>alert(2)</script>',
          }),
        ]}
      />,
      { api: mockApi() },
    );
    expect(
      screen.getByText('<img src=x onerror="alert(1)">'),
    ).toBeInTheDocument();
    expect(screen.getByText('<script>alert(2)</script>')).toBeInTheDocument();
    expect(document.querySelector('img[src="x"]')).toBeNull();
    expect(document.querySelector('script')).toBeNull();
  });

  it('shows the empty state explaining how anchors get linked', async () => {
    await render(
      <AnchorsTable anchors={[]} emptyContent={<AnchorsEmptyState />} />,
      {
        api: mockApi(),
      },
    );
    expect(
      screen.getByText('Nothing is known to trust this entity yet'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/nhi-offboarding\/<provider-id>: key-1, key-2/),
    ).toBeInTheDocument();
    expect(screen.getByText('nhi-offboarding/provider')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });
});
