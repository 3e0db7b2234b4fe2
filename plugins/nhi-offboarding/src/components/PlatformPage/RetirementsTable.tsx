import Box from '@material-ui/core/Box';
import LinearProgress from '@material-ui/core/LinearProgress';
import Typography from '@material-ui/core/Typography';
import { Table, TableColumn } from '@backstage/core-components';
import type { Retirement } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  RetireTabLink,
  RetirementStatusChip,
  durationBetween,
  formatDateTime,
  formatDuration,
  shortEntityRef,
} from '../common';

/** All retirements (as filtered), each linking to the entity's Retire tab. */
export const RetirementsTable = (props: {
  items: Retirement[];
  loading?: boolean;
  retireTabPath?: string;
}) => {
  const columns: TableColumn<Retirement>[] = [
    {
      title: 'Entity',
      field: 'entityRef',
      highlight: true,
      cellStyle: { whiteSpace: 'nowrap' },
      render: r => (
        <RetireTabLink entityRef={r.entityRef} tabPath={props.retireTabPath} />
      ),
    },
    {
      title: 'Status',
      field: 'status',
      render: r => <RetirementStatusChip status={r.status} />,
    },
    {
      title: 'Mode',
      field: 'mode',
      render: r => (r.mode === 'quarantine' ? 'Quarantine' : 'Revoke'),
    },
    {
      title: 'Verified',
      sorting: false,
      render: r => {
        const pct = r.progress.anchors
          ? (r.progress.verified / r.progress.anchors) * 100
          : 0;
        return (
          <Box minWidth={110}>
            <Typography variant="caption">
              {r.progress.verified} of {r.progress.anchors}
              {r.progress.failed ? ` · ${r.progress.failed} failed` : ''}
            </Typography>
            <LinearProgress
              variant="determinate"
              value={pct}
              aria-label={`${r.progress.verified} of ${r.progress.anchors} anchors verified`}
            />
          </Box>
        );
      },
    },
    {
      title: 'Requested by',
      field: 'requestedBy',
      render: r => shortEntityRef(r.requestedBy),
    },
    {
      title: 'Started',
      field: 'createdAt',
      defaultSort: 'desc',
      render: r => formatDateTime(r.createdAt),
    },
    {
      title: 'Time to verified',
      sorting: false,
      render: r =>
        r.status === 'completed'
          ? formatDuration(durationBetween(r.createdAt, r.completedAt))
          : '—',
    },
  ];
  return (
    <Table<Retirement>
      columns={columns}
      data={props.items}
      isLoading={props.loading}
      options={{
        toolbar: false,
        padding: 'dense',
        paging: props.items.length > 20,
        pageSize: 20,
        draggable: false,
      }}
      localization={{
        body: { emptyDataSourceMessage: 'No retirements match these filters.' },
      }}
    />
  );
};
