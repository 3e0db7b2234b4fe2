import type { ReactNode } from 'react';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { EmptyState, Table, TableColumn } from '@backstage/core-components';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import {
  NHI_ANNOTATION_PREFIX,
  NHI_EXTERNAL_ID_ANNOTATION,
  NHI_PROVIDER_ANNOTATION,
  type TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { useProviderLabels } from '../../hooks';
import {
  AnchorKindLabel,
  AnchorStatusChip,
  StatusChip,
  formatDate,
  formatDateTime,
  formatRelative,
  shortHash,
} from '../common';

const useStyles = makeStyles(theme => ({
  mono: {
    fontFamily: 'monospace',
    fontSize: theme.typography.caption.fontSize,
    overflowWrap: 'anywhere',
  },
  code: {
    fontFamily: 'monospace',
    fontSize: theme.typography.caption.fontSize,
    background: theme.palette.background.default,
    padding: theme.spacing(1.5),
    borderRadius: theme.shape.borderRadius,
    textAlign: 'left',
    whiteSpace: 'pre',
    overflowX: 'auto',
    margin: 0,
  },
  list: { margin: 0, paddingLeft: theme.spacing(2.5) },
}));

const VERIFICATION_TEXT: Record<string, string> = {
  trusted: 'Still trusted',
  untrusted: 'No longer trusted',
  unknown: 'Could not tell',
};

/** Entity refs are linked; anything else (an IAM principal, a mail) is text. */
const OwnerCell = ({ owner }: { owner?: string }) => {
  if (!owner) {
    return <>—</>;
  }
  return owner.includes(':') && !owner.includes('@') ? (
    <EntityRefLink entityRef={owner} />
  ) : (
    <>{owner}</>
  );
};

const SharedWithCell = ({ refs }: { refs: string[] }) => {
  if (refs.length === 0) {
    return <>—</>;
  }
  return (
    <Box
      display="flex"
      flexDirection="column"
      style={{ gap: 2, whiteSpace: 'nowrap' }}
    >
      {refs.map(ref => (
        <EntityRefLink key={ref} entityRef={ref} />
      ))}
    </Box>
  );
};

const StatusCell = ({ anchor }: { anchor: TrustAnchor }) => (
  <Box display="flex" flexDirection="column" alignItems="flex-start">
    <Box display="flex" style={{ gap: 4 }} flexWrap="wrap">
      <AnchorStatusChip status={anchor.status} />
      {anchor.manual && <StatusChip label="Manual" tone="neutral" />}
    </Box>
    <Typography variant="caption" color="textSecondary">
      {anchor.lastVerifiedAt ? (
        <span title={formatDateTime(anchor.lastVerifiedAt)}>
          {anchor.lastVerification
            ? `${VERIFICATION_TEXT[anchor.lastVerification]}, `
            : 'Checked '}
          {formatRelative(anchor.lastVerifiedAt)}
        </span>
      ) : (
        'Never verified'
      )}
    </Typography>
  </Box>
);

/** How anchors get linked to an entity, for the empty state. */
export const AnchorsEmptyState = (props: { action?: ReactNode }) => {
  const classes = useStyles();
  return (
    <EmptyState
      missing="data"
      title="Nothing is known to trust this entity yet"
      description="Trust anchors are the credentials, accounts and memberships through which systems trust this entity. They are linked in three ways; after linking, refresh to discover them."
      action={
        <Box>
          <ol className={classes.list}>
            <li>
              <Typography variant="body2">
                An annotation on this entity listing ids a provider knows, e.g.
              </Typography>
              <pre className={classes.code}>
                {`metadata:\n  annotations:\n    ${NHI_ANNOTATION_PREFIX}<provider-id>: key-1, key-2`}
              </pre>
            </li>
            <li>
              <Typography variant="body2">
                A catalog Resource whose <code>spec.type</code> is a credential
                kind (api-key, token, service-account, …) that this entity
                depends on, mapped with <code>{NHI_PROVIDER_ANNOTATION}</code>{' '}
                and <code>{NHI_EXTERNAL_ID_ANNOTATION}</code>.
              </Typography>
            </li>
            <li>
              <Typography variant="body2">
                A configured provider that discovers anchors on its own.
              </Typography>
            </li>
          </ol>
          {props.action}
        </Box>
      }
    />
  );
};

export interface AnchorsTableProps {
  anchors: TrustAnchor[];
  loading?: boolean;
  /** Shown instead of the table when there are no anchors. */
  emptyContent?: ReactNode;
}

/** What still trusts an entity: one row per trust anchor. */
export const AnchorsTable = (props: AnchorsTableProps) => {
  const classes = useStyles();
  const providerLabel = useProviderLabels();

  const nowrap = { whiteSpace: 'nowrap' as const };
  const columns: TableColumn<TrustAnchor>[] = [
    {
      title: 'Kind',
      field: 'kind',
      cellStyle: nowrap,
      render: a => <AnchorKindLabel kind={a.kind} />,
    },
    {
      title: 'Provider',
      field: 'providerId',
      render: a => providerLabel(a.providerId),
    },
    {
      title: 'Name / external id',
      field: 'displayName',
      highlight: true,
      cellStyle: { minWidth: 220 },
      render: a => (
        <Box>
          <Typography variant="body2">{a.displayName}</Typography>
          <div className={classes.mono}>{a.externalId}</div>
          {a.fingerprint && (
            <Typography
              variant="caption"
              color="textSecondary"
              title={a.fingerprint}
              component="div"
            >
              Fingerprint{' '}
              <span className={classes.mono}>{shortHash(a.fingerprint)}</span>
            </Typography>
          )}
        </Box>
      ),
    },
    {
      title: 'Owner',
      field: 'owner',
      cellStyle: nowrap,
      render: a => <OwnerCell owner={a.owner} />,
    },
    {
      title: 'Shared with',
      field: 'sharedWith',
      sorting: false,
      render: a => <SharedWithCell refs={a.sharedWith} />,
    },
    {
      title: 'Last used',
      field: 'lastUsedAt',
      cellStyle: nowrap,
      render: a => (
        <span title={formatDateTime(a.lastUsedAt)}>
          {a.lastUsedAt ? formatRelative(a.lastUsedAt) : 'Unknown'}
        </span>
      ),
    },
    {
      title: 'Expires',
      field: 'expiresAt',
      cellStyle: nowrap,
      render: a => {
        if (!a.expiresAt) {
          return 'Never';
        }
        const expired = new Date(a.expiresAt).getTime() < Date.now();
        return (
          <span title={formatDateTime(a.expiresAt)}>
            {expired
              ? `Expired ${formatDate(a.expiresAt)}`
              : formatDate(a.expiresAt)}
          </span>
        );
      },
    },
    {
      title: 'Status',
      field: 'status',
      cellStyle: { minWidth: 140 },
      render: a => <StatusCell anchor={a} />,
    },
  ];

  if (!props.loading && props.anchors.length === 0 && props.emptyContent) {
    return <>{props.emptyContent}</>;
  }

  return (
    <Table<TrustAnchor>
      columns={columns}
      data={props.anchors}
      isLoading={props.loading && props.anchors.length === 0}
      options={{
        toolbar: false,
        padding: 'dense',
        paging: props.anchors.length > 20,
        pageSize: 20,
        draggable: false,
      }}
      localization={{ body: { emptyDataSourceMessage: 'No trust anchors' } }}
    />
  );
};
