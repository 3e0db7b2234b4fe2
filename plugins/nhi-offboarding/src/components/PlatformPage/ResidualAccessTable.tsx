import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { Table, TableColumn } from '@backstage/core-components';
import type { ResidualAccessItem } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { useProviderLabels } from '../../hooks';
import {
  AnchorKindIcon,
  AnchorStatusChip,
  RESIDUAL_REASON_LABELS,
  RetireTabLink,
  formatDateTime,
  formatRelative,
  labelOf,
  shortEntityRef,
} from '../common';

type Row = ResidualAccessItem & { id: string };

/** Live anchors that should not be: residual access or orphaned anchors. */
export const ResidualAccessTable = (props: {
  items: ResidualAccessItem[];
  loading?: boolean;
  variant: 'residual' | 'orphaned';
  retireTabPath?: string;
}) => {
  const providerLabel = useProviderLabels();
  const rows: Row[] = props.items.map(i => ({ ...i, id: i.anchor.id }));
  const columns: TableColumn<Row>[] = [
    {
      title: 'Entity',
      field: 'anchor.entityRef',
      cellStyle: { whiteSpace: 'nowrap' },
      render: r =>
        r.reason === 'entity-missing' ? (
          <span>{shortEntityRef(r.anchor.entityRef)} (gone)</span>
        ) : (
          <RetireTabLink
            entityRef={r.anchor.entityRef}
            tabPath={props.retireTabPath}
          />
        ),
    },
    {
      title: 'Anchor',
      field: 'anchor.displayName',
      width: '35%',
      render: r => (
        <Box display="flex" alignItems="center" style={{ gap: 6 }}>
          <AnchorKindIcon kind={r.anchor.kind} />
          <Box>
            <Typography variant="body2">{r.anchor.displayName}</Typography>
            <Typography variant="caption" color="textSecondary">
              {providerLabel(r.anchor.providerId)} · {r.anchor.externalId}
            </Typography>
          </Box>
        </Box>
      ),
    },
    props.variant === 'residual'
      ? {
          title: 'Why it is residual',
          field: 'reason',
          render: r =>
            `${labelOf(RESIDUAL_REASON_LABELS, r.reason)}${
              r.entityLifecycle ? ` (lifecycle: ${r.entityLifecycle})` : ''
            }`,
        }
      : {
          title: 'Missing owner',
          field: 'anchor.owner',
          render: r => (r.anchor.owner ? shortEntityRef(r.anchor.owner) : '—'),
        },
    {
      title: 'Last used',
      field: 'anchor.lastUsedAt',
      cellStyle: { whiteSpace: 'nowrap' },
      render: r => (
        <span title={formatDateTime(r.anchor.lastUsedAt)}>
          {r.anchor.lastUsedAt
            ? formatRelative(r.anchor.lastUsedAt)
            : 'Unknown'}
        </span>
      ),
    },
    {
      title: 'Status',
      field: 'anchor.status',
      render: r => <AnchorStatusChip status={r.anchor.status} />,
    },
  ];
  return (
    <Table<Row>
      columns={columns}
      data={rows}
      isLoading={props.loading}
      options={{
        toolbar: false,
        padding: 'dense',
        paging: rows.length > 10,
        pageSize: 10,
        draggable: false,
      }}
      localization={{
        body: {
          emptyDataSourceMessage:
            props.variant === 'residual'
              ? 'No residual access: nothing still trusts a retired entity.'
              : 'No orphaned anchors: every anchor has an owner in the catalog.',
        },
      }}
    />
  );
};
