import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import Chip from '@material-ui/core/Chip';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  InfoCard,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { identityApiRef, useApi } from '@backstage/core-plugin-api';
import type {
  GovernanceFinding,
  GovernanceFindingReason,
  RevocationDeadline,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';
import { useProviderLabels } from '../../hooks';
import {
  AnchorKindIcon,
  RetireTabLink,
  RetirementStatusChip,
  describeError,
  formatDateTime,
  formatDuration,
  formatRelative,
  shortEntityRef,
} from '../common';
import { downloadText } from '../EvidencePanel/download';

const REASONS: { reason: GovernanceFindingReason; label: string }[] = [
  { reason: 'owner-missing', label: 'Owner missing' },
  { reason: 'owner-group-empty', label: 'Owning group empty' },
  { reason: 'stale', label: 'Stale' },
  { reason: 'unlinked', label: 'No owner' },
];
const REASON_LABEL = Object.fromEntries(
  REASONS.map(r => [r.reason, r.label]),
) as Record<GovernanceFindingReason, string>;
const DAY_MS = 24 * 3600_000;

type FindingRow = GovernanceFinding & { id: string };
type DeadlineRow = RevocationDeadline & { id: string };

/**
 * The platform page's governance sections: orphaned, stale and unlinked
 * anchors (with an "owned by my teams" filter), retirements that drifted,
 * breaches of the time-to-revoke objective, and the period audit export.
 */
export const GovernanceSection = (props: { retireTabPath?: string }) => {
  const api = useApi(nhiOffboardingApiRef);
  const identityApi = useApi(identityApiRef);
  const providerLabel = useProviderLabels();
  const [reason, setReason] = useState<GovernanceFindingReason>();
  const [mine, setMine] = useState(false);
  const [exportMessage, setExportMessage] = useState<string>();

  const myTeams = useAsync(
    async () => (await identityApi.getBackstageIdentity()).ownershipEntityRefs,
    [identityApi],
  );
  const findings = useAsync(
    () =>
      api.getGovernanceFindings({
        reason,
        owners: mine ? myTeams.value ?? [] : undefined,
      }),
    [api, reason, mine, myTeams.value],
  );
  const breaches = useAsync(() => api.getDeadlines({ breached: true }), [api]);
  const drifted = useAsync(async () => {
    const { items } = await api.listRetirements({
      status: 'needs-attention',
      limit: 200,
    });
    return items.filter(r => r.driftDetectedAt);
  }, [api]);

  const exportPeriod = async (days: number) => {
    setExportMessage(undefined);
    const to = new Date();
    const from = new Date(to.getTime() - days * DAY_MS);
    try {
      const text = await api.getPeriodExport(from, to);
      downloadText(
        `nhi-evidence-export-${from.toISOString().slice(0, 10)}-${to
          .toISOString()
          .slice(0, 10)}.json`,
        text,
        'application/json',
      );
    } catch (error) {
      setExportMessage(`The export failed. ${describeError(error)}`);
    }
  };

  if (findings.value === undefined && !findings.loading && !findings.error) {
    return null; // a backend without the governance API
  }

  const findingRows: FindingRow[] = (findings.value?.items ?? []).map(f => ({
    ...f,
    id: f.anchor.id,
  }));
  const findingColumns: TableColumn<FindingRow>[] = [
    {
      title: 'Entity',
      field: 'anchor.entityRef',
      render: r => (
        <RetireTabLink
          entityRef={r.anchor.entityRef}
          tabPath={props.retireTabPath}
        />
      ),
    },
    {
      title: 'Anchor',
      field: 'anchor.displayName',
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
    {
      title: 'Owner',
      field: 'owner',
      render: r => (r.owner ? shortEntityRef(r.owner) : '—'),
    },
    {
      title: 'Why',
      field: 'reasons',
      render: r =>
        r.reasons
          .map(x =>
            x === 'stale'
              ? `${REASON_LABEL[x]} (unused ${r.unusedDays} days)`
              : REASON_LABEL[x],
          )
          .join(', '),
    },
    {
      title: 'Last used',
      field: 'anchor.lastUsedAt',
      render: r => (
        <span title={formatDateTime(r.anchor.lastUsedAt)}>
          {r.anchor.lastUsedAt
            ? formatRelative(r.anchor.lastUsedAt)
            : 'Unknown'}
        </span>
      ),
    },
  ];

  const breachRows: DeadlineRow[] = (breaches.value?.items ?? []).map(d => ({
    ...d,
    id: d.retirementId,
  }));
  const breachColumns: TableColumn<DeadlineRow>[] = [
    {
      title: 'Entity',
      field: 'entityRef',
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
      title: 'Started',
      field: 'startedAt',
      render: r => formatDateTime(r.startedAt),
    },
    {
      title: 'Time to revoke',
      field: 'elapsedMs',
      render: r =>
        `${formatDuration(r.elapsedMs)}${
          r.accessRemovedAt ? '' : ' and counting'
        }`,
    },
  ];

  return (
    <>
      <Grid item xs={12} component="section" aria-label="Anchor governance">
        <InfoCard
          title="Anchor governance"
          subheader={`Live anchors whose owner is gone or empty, unused for more than ${
            findings.value?.staleAfterDays ?? 45
          } days (CIS 5.3), or with no owner at all`}
          noPadding
        >
          <Box
            display="flex"
            flexWrap="wrap"
            alignItems="center"
            style={{ gap: 8 }}
            px={2}
            pb={1}
          >
            {REASONS.map(r => (
              <Chip
                key={r.reason}
                label={`${r.label}: ${
                  findings.value ? findings.value.counts[r.reason] : '…'
                }`}
                color={reason === r.reason ? 'primary' : 'default'}
                onClick={() =>
                  setReason(reason === r.reason ? undefined : r.reason)
                }
                aria-pressed={reason === r.reason}
              />
            ))}
            <FormControlLabel
              control={
                <Checkbox
                  checked={mine}
                  onChange={e => setMine(e.target.checked)}
                  disabled={!myTeams.value}
                />
              }
              label="Owned by my teams"
            />
          </Box>
          {findings.error ? (
            <ResponseErrorPanel error={findings.error} />
          ) : (
            <Table<FindingRow>
              columns={findingColumns}
              data={findingRows}
              isLoading={findings.loading}
              options={{
                toolbar: false,
                padding: 'dense',
                paging: findingRows.length > 10,
                pageSize: 10,
                draggable: false,
              }}
              localization={{
                body: {
                  emptyDataSourceMessage:
                    'Nothing to look at: every live anchor has a living owner and is in use.',
                },
              }}
            />
          )}
        </InfoCard>
      </Grid>

      <Grid item xs={12} md={6} component="section" aria-label="Drift">
        <InfoCard
          title="Drift"
          subheader="Retired credentials that a system trusts again (found by re-verification)"
        >
          {drifted.error && <ResponseErrorPanel error={drifted.error} />}
          {drifted.value?.length === 0 && (
            <Typography variant="body2" color="textSecondary">
              No drift: every re-verified credential is still untrusted.
            </Typography>
          )}
          {drifted.value?.map(r => (
            <Alert key={r.id} severity="error" style={{ marginBottom: 8 }}>
              <RetireTabLink
                entityRef={r.entityRef}
                tabPath={props.retireTabPath}
              />
              {' — '}
              {r.statusReason} (found {formatRelative(r.driftDetectedAt)})
            </Alert>
          ))}
        </InfoCard>
      </Grid>

      <Grid
        item
        xs={12}
        md={6}
        component="section"
        aria-label="Time-to-revoke breaches"
      >
        <InfoCard
          title="Time-to-revoke breaches"
          subheader={`Retirements that took longer than the ${formatDuration(
            breaches.value?.objectiveMs,
          )} objective to remove access (PS-4)`}
          noPadding
        >
          {breaches.error ? (
            <ResponseErrorPanel error={breaches.error} />
          ) : (
            <Table<DeadlineRow>
              columns={breachColumns}
              data={breachRows}
              isLoading={breaches.loading}
              options={{
                toolbar: false,
                padding: 'dense',
                paging: breachRows.length > 10,
                pageSize: 10,
                draggable: false,
              }}
              localization={{
                body: {
                  emptyDataSourceMessage:
                    'No breaches: every retirement removed access within the objective.',
                },
              }}
            />
          )}
          <Box display="flex" flexWrap="wrap" style={{ gap: 8 }} p={2}>
            <Typography variant="body2" style={{ alignSelf: 'center' }}>
              Audit export (records mapped to controls, with head hashes):
            </Typography>
            <Button
              size="small"
              variant="outlined"
              onClick={() => exportPeriod(30)}
            >
              Last 30 days
            </Button>
            <Button
              size="small"
              variant="outlined"
              onClick={() => exportPeriod(90)}
            >
              Last 90 days
            </Button>
          </Box>
          {exportMessage && (
            <Box px={2} pb={2}>
              <Alert severity="error">{exportMessage}</Alert>
            </Box>
          )}
        </InfoCard>
      </Grid>
    </>
  );
};
