import Button from '@material-ui/core/Button';
import { useTheme } from '@material-ui/core/styles';
import { Table, TableColumn } from '@backstage/core-components';
import type { Retirement } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  RetirementStatusChip,
  durationBetween,
  formatDateTime,
  formatDuration,
  shortEntityRef,
} from '../common';

/** Earlier (and current) retirements of an entity; one can be selected. */
export const RetirementHistory = (props: {
  retirements: Retirement[];
  selectedId?: string;
  loading?: boolean;
  onSelect: (id: string) => void;
}) => {
  const theme = useTheme();
  const columns: TableColumn<Retirement>[] = [
    {
      title: 'Started',
      field: 'createdAt',
      defaultSort: 'desc',
      render: r => formatDateTime(r.createdAt),
    },
    {
      title: 'Mode',
      field: 'mode',
      render: r => (r.mode === 'quarantine' ? 'Quarantine' : 'Revoke'),
    },
    {
      title: 'Status',
      field: 'status',
      render: r => <RetirementStatusChip status={r.status} />,
    },
    {
      title: 'Verified',
      sorting: false,
      render: r => `${r.progress.verified} of ${r.progress.anchors}`,
    },
    {
      title: 'Requested by',
      field: 'requestedBy',
      render: r => shortEntityRef(r.requestedBy),
    },
    { title: 'Reason', field: 'reason' },
    {
      title: 'Time to verified',
      sorting: false,
      render: r =>
        r.status === 'completed'
          ? formatDuration(durationBetween(r.createdAt, r.completedAt))
          : '—',
    },
    {
      title: '',
      sorting: false,
      render: r =>
        r.id === props.selectedId ? (
          'Shown above'
        ) : (
          <Button
            size="small"
            onClick={() => props.onSelect(r.id)}
            aria-label={`Show the retirement started ${formatDateTime(
              r.createdAt,
            )}`}
          >
            Show
          </Button>
        ),
    },
  ];
  return (
    <Table<Retirement>
      columns={columns}
      data={props.retirements}
      isLoading={props.loading && props.retirements.length === 0}
      options={{
        toolbar: false,
        padding: 'dense',
        paging: props.retirements.length > 10,
        pageSize: 10,
        draggable: false,
        rowStyle: (r: Retirement) =>
          r.id === props.selectedId
            ? { backgroundColor: theme.palette.action.selected }
            : {},
      }}
      localization={{
        body: { emptyDataSourceMessage: 'This entity was never retired.' },
      }}
    />
  );
};
