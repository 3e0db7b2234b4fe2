import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, record } from '../../__testUtils__/fixtures';
import { render } from '../../__testUtils__/render';
import { EvidencePanel } from './EvidencePanel';

const records = [
  record(1, { kind: 'planned', summary: 'Planned 3 steps' }),
  record(2, { kind: 'action', summary: 'Revoked Payments API key' }),
  record(3, {
    kind: 'verification',
    summary: 'Asked demo about Payments API key',
    actor: 'nhi-offboarding',
    data: { outcome: 'untrusted', status: 401 },
  }),
];

describe('EvidencePanel', () => {
  const createObjectURL = jest.fn(() => 'blob:evidence');
  const revokeObjectURL = jest.fn();
  let click: jest.SpyInstance;
  beforeEach(() => {
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    createObjectURL.mockClear();
    // jsdom cannot navigate; the click is what starts a browser download.
    click = jest
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(() => {});
  });
  afterEach(() => click.mockRestore());

  it('shows the records in order with what was observed, and a verified chain', async () => {
    const api = mockApi({
      getEvidencePage: jest
        .fn()
        .mockResolvedValue({ items: [...records].reverse() }),
      verifyEvidence: jest.fn().mockResolvedValue({
        valid: true,
        count: 3,
        headHash: 'sha256:abcdef0123456789abcdef',
      }),
    });
    await render(<EvidencePanel retirementId="r1" />, { api });
    expect(await screen.findByText('Chain verified')).toBeInTheDocument();
    expect(screen.getByText(/All 3 records are intact/)).toBeInTheDocument();
    expect(screen.getByText('abcdef0123456789…')).toBeInTheDocument();

    const items = screen.getAllByTestId(/^evidence-/);
    expect(items.map(i => i.getAttribute('data-testid'))).toEqual([
      'evidence-1',
      'evidence-2',
      'evidence-3',
    ]);
    const third = within(items[2]);
    expect(third.getByText('Verification')).toBeInTheDocument();
    expect(
      third.getByText('Observed: the system no longer trusts it'),
    ).toBeInTheDocument();
    expect(third.getByText(/by nhi-offboarding/)).toBeInTheDocument();
    expect(screen.queryByText('Integrity broken')).not.toBeInTheDocument();

    const user = userEvent.setup({ delay: null });
    await user.click(third.getByRole('button', { name: 'Details' }));
    expect(third.getByText(/"outcome": "untrusted"/)).toBeInTheDocument();
  });

  it('says where the chain is broken and marks the records from there on', async () => {
    const api = mockApi({
      getEvidencePage: jest.fn().mockResolvedValue({ items: records }),
      verifyEvidence: jest.fn().mockResolvedValue({
        valid: false,
        count: 3,
        firstInvalidSeq: 2,
        problem: 'Record 2 does not match its hash',
      }),
    });
    await render(<EvidencePanel retirementId="r1" />, { api });
    expect(
      await screen.findByText('Chain broken at record 2'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/Record 2 does not match its hash/),
    ).toBeInTheDocument();
    expect(
      within(screen.getByTestId('evidence-1')).queryByText('Integrity broken'),
    ).toBeNull();
    expect(
      within(screen.getByTestId('evidence-2')).getByText('Integrity broken'),
    ).toBeInTheDocument();
    expect(
      within(screen.getByTestId('evidence-3')).getByText('Integrity broken'),
    ).toBeInTheDocument();
  });

  it('downloads the evidence as JSON and as CSV', async () => {
    const user = userEvent.setup({ delay: null });
    const api = mockApi({
      // The page shows one record; the download is the whole chain.
      getEvidencePage: jest
        .fn()
        .mockResolvedValue({ items: records.slice(0, 1) }),
      getEvidence: jest.fn().mockResolvedValue(records),
      verifyEvidence: jest.fn().mockResolvedValue({ valid: true, count: 3 }),
      getEvidenceCsv: jest.fn().mockResolvedValue('seq,kind\n1,planned\n'),
    });
    await render(<EvidencePanel retirementId="r1" />, { api });
    await user.click(
      await screen.findByRole('button', {
        name: 'Download the evidence as JSON',
      }),
    );
    expect(createObjectURL).toHaveBeenCalledTimes(1);
    expect(click).toHaveBeenCalledTimes(1);
    expect((click.mock.contexts[0] as HTMLAnchorElement).download).toBe(
      'evidence-r1.json',
    );
    const json = (createObjectURL.mock.calls[0] as unknown as [Blob])[0];
    expect(json.type).toBe('application/json');
    const parsed = JSON.parse(await json.text());
    expect(parsed.records).toHaveLength(3);
    expect(api.getEvidence).toHaveBeenCalledWith('r1');
    expect(parsed.verification.valid).toBe(true);

    await user.click(
      screen.getByRole('button', { name: 'Download the evidence as CSV' }),
    );
    await waitFor(() => expect(createObjectURL).toHaveBeenCalledTimes(2));
    expect(api.getEvidenceCsv).toHaveBeenCalledWith('r1');
    expect((click.mock.contexts[1] as HTMLAnchorElement).download).toBe(
      'evidence-r1.csv',
    );
    const csv = (createObjectURL.mock.calls[1] as unknown as [Blob])[0];
    expect(csv.type).toBe('text/csv');
    expect(await csv.text()).toBe('seq,kind\n1,planned\n');
  });

  it('shows a long chain page by page and loads more on request', async () => {
    const chain = Array.from({ length: 120 }, (_, i) => record(i + 1));
    const getEvidencePage = jest.fn(
      async (_id: string, q: { limit?: number; afterSeq?: number } = {}) => {
        const from = q.afterSeq ?? 0;
        const items = chain.slice(from, from + (q.limit ?? 50));
        const last = items[items.length - 1];
        return {
          items,
          nextAfterSeq: last && last.seq < chain.length ? last.seq : undefined,
        };
      },
    );
    const api = mockApi({
      getEvidencePage,
      verifyEvidence: jest.fn().mockResolvedValue({ valid: true, count: 120 }),
    });
    const user = userEvent.setup({ delay: null });
    await render(<EvidencePanel retirementId="r1" />, { api });
    expect(await screen.findByText('Chain verified')).toBeInTheDocument();
    expect(screen.getAllByTestId(/^evidence-/)).toHaveLength(50);
    expect(getEvidencePage).toHaveBeenCalledWith('r1', {
      limit: 50,
      afterSeq: undefined,
    });
    await user.click(
      screen.getByRole('button', {
        name: 'Load more evidence (50 of 120 shown)',
      }),
    );
    await waitFor(() =>
      expect(screen.getAllByTestId(/^evidence-/)).toHaveLength(100),
    );
    await user.click(
      screen.getByRole('button', {
        name: 'Load more evidence (100 of 120 shown)',
      }),
    );
    await waitFor(() =>
      expect(screen.getAllByTestId(/^evidence-/)).toHaveLength(120),
    );
    expect(
      screen.queryByRole('button', { name: /Load more evidence/ }),
    ).not.toBeInTheDocument();
    expect(screen.getByTestId('evidence-120')).toBeInTheDocument();
  });

  it('shows an error panel when the evidence cannot be read', async () => {
    const api = mockApi({
      getEvidencePage: jest.fn().mockRejectedValue(new Error('backend down')),
    });
    await render(<EvidencePanel retirementId="r1" />, { api });
    expect(
      await screen.findByText(/Could not load the evidence/),
    ).toBeInTheDocument();
    expect(screen.getAllByText(/backend down/).length).toBeGreaterThan(0);
  });
});
