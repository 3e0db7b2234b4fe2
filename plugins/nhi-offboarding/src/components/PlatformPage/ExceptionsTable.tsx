import { useState } from 'react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { useTheme } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import { Table, TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import { nhiExceptionApprovePermission } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef, type ExceptionListItem } from '../../api';
import { useCurrentUserRef } from '../../hooks';
import {
  ExceptionStatusChip,
  RetireTabLink,
  describeError,
  formatDate,
  formatDateTime,
  formatRelative,
  shortEntityRef,
} from '../common';

const SOON_MS = 7 * 24 * 3600 * 1000;

const Expiry = ({ iso }: { iso: string }) => {
  const theme = useTheme();
  const left = new Date(iso).getTime() - Date.now();
  let color: string | undefined;
  let note = formatRelative(iso);
  if (left <= 0) {
    color = theme.palette.error.main;
    note = `expired ${formatRelative(iso)}`;
  } else if (left < SOON_MS) {
    color = theme.palette.warning.dark;
  }
  return (
    <Box title={formatDateTime(iso)}>
      <Typography variant="body2">{formatDate(iso)}</Typography>
      <Typography
        variant="caption"
        style={{ color }}
        color={color ? undefined : 'textSecondary'}
      >
        {note}
      </Typography>
    </Box>
  );
};

/** Exceptions across the catalog, with approve / reject for approvers. */
export const ExceptionsTable = (props: {
  items: ExceptionListItem[];
  loading?: boolean;
  retireTabPath?: string;
  onChanged: () => void;
}) => {
  const api = useApi(nhiOffboardingApiRef);
  const approver = usePermission({ permission: nhiExceptionApprovePermission });
  const me = useCurrentUserRef();
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<string>();

  const decide = async (
    item: ExceptionListItem,
    decision: 'approve' | 'reject',
  ) => {
    setBusy(item.id);
    setError(undefined);
    try {
      await api.decideException(item.retirementId, item.stepId, decision);
      props.onChanged();
    } catch (e) {
      setError(
        `${
          decision === 'approve' ? 'Approving' : 'Rejecting'
        } failed. ${describeError(e)}`,
      );
    } finally {
      setBusy(undefined);
    }
  };

  const columns: TableColumn<ExceptionListItem>[] = [
    {
      title: 'Entity',
      field: 'entityRef',
      cellStyle: { whiteSpace: 'nowrap' },
      render: e => (
        <RetireTabLink entityRef={e.entityRef} tabPath={props.retireTabPath} />
      ),
    },
    { title: 'Justification', field: 'justification' },
    {
      title: 'Status',
      field: 'status',
      render: e => <ExceptionStatusChip status={e.status} />,
    },
    {
      title: 'Requested',
      field: 'requestedAt',
      render: e => (
        <Box>
          <Typography variant="body2">
            {shortEntityRef(e.requestedBy)}
          </Typography>
          <Typography variant="caption" color="textSecondary">
            {formatDateTime(e.requestedAt)}
          </Typography>
        </Box>
      ),
    },
    {
      title: 'Expires',
      field: 'expiresAt',
      defaultSort: 'asc',
      render: e => <Expiry iso={e.expiresAt} />,
    },
    {
      title: 'Decision',
      field: 'decidedBy',
      render: e => {
        if (e.decidedBy) {
          return `${e.status} by ${shortEntityRef(e.decidedBy)}${
            e.decisionNote ? `: ${e.decisionNote}` : ''
          }`;
        }
        if (e.status !== 'requested' || !approver.allowed) {
          return '—';
        }
        if (me && me === e.requestedBy) {
          return 'Needs another approver';
        }
        return (
          <Box display="flex" style={{ gap: 4 }}>
            <Button
              size="small"
              variant="outlined"
              color="primary"
              disabled={!!busy}
              onClick={() => decide(e, 'approve')}
              aria-label={`Approve the exception for ${shortEntityRef(
                e.entityRef,
              )}`}
            >
              Approve
            </Button>
            <Button
              size="small"
              disabled={!!busy}
              onClick={() => decide(e, 'reject')}
              aria-label={`Reject the exception for ${shortEntityRef(
                e.entityRef,
              )}`}
            >
              Reject
            </Button>
          </Box>
        );
      },
    },
  ];
  return (
    <>
      {error && (
        <Box px={2} pb={1}>
          <Alert severity="error" onClose={() => setError(undefined)}>
            {error}
          </Alert>
        </Box>
      )}
      <Table<ExceptionListItem>
        columns={columns}
        data={props.items}
        isLoading={props.loading}
        options={{
          toolbar: false,
          padding: 'dense',
          paging: props.items.length > 10,
          pageSize: 10,
          draggable: false,
        }}
        localization={{ body: { emptyDataSourceMessage: 'No exceptions.' } }}
      />
    </>
  );
};
