import { useMemo, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useDebounce from 'react-use/esm/useDebounce';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import FormControl from '@material-ui/core/FormControl';
import Grid from '@material-ui/core/Grid';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import {
  Content,
  ContentHeader,
  Header,
  InfoCard,
  Page,
  ResponseErrorPanel,
  SupportButton,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import {
  RETIREMENT_STATUSES,
  nhiPlatformReadPermission,
  type Retirement,
  type RetirementStatus,
  type StepException,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';
import {
  useResidualAccess,
  type ResidualAccessState,
} from '../../hooks/useResidualAccess';
import {
  EXCEPTION_STATUS_LABELS,
  RETIREMENT_STATUS_LABELS,
  DEFAULT_RETIRE_TAB_PATH,
} from '../common';
import { ExceptionsTable } from './ExceptionsTable';
import { GovernanceSection } from './GovernanceSection';
import { ProposalsCard } from './ProposalsCard';
import { ResidualAccessTable } from './ResidualAccessTable';
import { RetirementsTable } from './RetirementsTable';
import { StatsCharts } from './StatsCharts';
import { StatusTiles, type Tile } from './StatusTiles';

const PAGE_SIZE = 50;

/** Residual access comes page by page: both tables read on from here. */
const LoadMoreResidual = ({ residual }: { residual: ResidualAccessState }) =>
  residual.hasMore ? (
    <Box p={1} display="flex" justifyContent="center">
      <Button
        variant="outlined"
        size="small"
        disabled={residual.loading}
        onClick={residual.loadMore}
      >
        Load more residual access ({residual.items.length} anchors so far)
      </Button>
    </Box>
  ) : null;
const SOON_MS = 7 * 24 * 3600 * 1000;

function kindOf(entityRef: string): string {
  try {
    return parseEntityRef(entityRef).kind.toLocaleLowerCase('en-US');
  } catch {
    return 'unknown';
  }
}

function isForbidden(error?: Error): boolean {
  return ResponseError.is(error) && error.statusCode === 403;
}

/** All retirements, filtered server-side by status and owner; pages on. */
function useRetirementList(status: string, owner: string) {
  const api = useApi(nhiOffboardingApiRef);
  const key = `${status}|${owner}`;
  const first = useAsyncRetry(
    () =>
      api.listRetirements({
        status: (status || undefined) as RetirementStatus | undefined,
        owner: owner || undefined,
        limit: PAGE_SIZE,
      }),
    [api, status, owner],
  );
  const [more, setMore] = useState<{
    key: string;
    items: Retirement[];
    nextCursor?: string;
  }>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<Error>();
  const extra = more?.key === key ? more : undefined;
  const items = [...(first.value?.items ?? []), ...(extra?.items ?? [])];
  const nextCursor = extra ? extra.nextCursor : first.value?.nextCursor;

  const loadMore = async () => {
    if (!nextCursor) {
      return;
    }
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const page = await api.listRetirements({
        status: (status || undefined) as RetirementStatus | undefined,
        owner: owner || undefined,
        limit: PAGE_SIZE,
        cursor: nextCursor,
      });
      setMore({
        key,
        items: [...(extra?.items ?? []), ...page.items],
        nextCursor: page.nextCursor,
      });
    } catch (error) {
      setMoreError(error as Error);
    } finally {
      setLoadingMore(false);
    }
  };

  return {
    items,
    loading: first.loading,
    error: first.error ?? moreError,
    nextCursor,
    loadingMore,
    loadMore,
  };
}

export interface PlatformPageProps {
  /** The path of the entity tab the plugin is mounted on (default `retire`). */
  retireTabPath?: string;
}

/**
 * The platform page: retirements across the catalog, residual access,
 * orphaned anchors, exceptions, and how long retirements take.
 */
export const PlatformPage = (props: PlatformPageProps) => {
  const api = useApi(nhiOffboardingApiRef);
  const tabPath = props.retireTabPath ?? DEFAULT_RETIRE_TAB_PATH;

  const [status, setStatus] = useState('');
  const [ownerText, setOwnerText] = useState('');
  const [owner, setOwner] = useState('');
  useDebounce(() => setOwner(ownerText.trim()), 400, [ownerText]);
  const [kind, setKind] = useState('');
  const [exceptionStatus, setExceptionStatus] = useState('');

  const retirements = useRetirementList(status, owner);
  const residual = useResidualAccess();
  const exceptions = useAsyncRetry(
    () =>
      api.listExceptions({
        status: (exceptionStatus || undefined) as
          | StepException['status']
          | undefined,
      }),
    [api, exceptionStatus],
  );
  const stats = useAsync(() => api.getStats(), [api]);

  const kinds = useMemo(() => {
    const set = new Set(retirements.items.map(r => kindOf(r.entityRef)));
    if (kind) {
      set.add(kind);
    }
    return [...set].sort();
  }, [retirements.items, kind]);
  const shown = kind
    ? retirements.items.filter(r => kindOf(r.entityRef) === kind)
    : retirements.items;

  const residualItems = residual.items.filter(
    i => i.reason !== 'owner-missing',
  );
  const orphanedItems = residual.items.filter(
    i => i.reason === 'owner-missing',
  );
  const exceptionItems = exceptions.value ?? [];
  // The tiles count what is loaded; "Load more" below the tables reads on.
  const residualLoaded =
    !residual.error && !(residual.loading && residual.items.length === 0);

  const countOf = (s: RetirementStatus): number | undefined => {
    if (stats.value) {
      return stats.value.retirements.byStatus[s] ?? 0;
    }
    if (retirements.loading) {
      return undefined;
    }
    return retirements.items.filter(r => r.status === s).length;
  };
  const statusTile = (s: RetirementStatus, alarming = false): Tile => ({
    key: s,
    label: RETIREMENT_STATUS_LABELS[s],
    value: countOf(s),
    alarming,
    pressed: status === s,
    onClick: () => setStatus(status === s ? '' : s),
  });
  const now = Date.now();
  const tiles: Tile[] = [
    statusTile('running'),
    statusTile('needs-attention', true),
    statusTile('quarantined'),
    statusTile('completed'),
    {
      key: 'residual',
      label: 'Residual access',
      value: residualLoaded ? residualItems.length : undefined,
      alarming: true,
    },
    {
      key: 'orphaned',
      label: 'Orphaned anchors',
      value: residualLoaded ? orphanedItems.length : undefined,
      alarming: true,
    },
    {
      key: 'exceptions-expiring',
      label: 'Exceptions expiring within 7 days',
      value: exceptions.value
        ? exceptionItems.filter(e => {
            const left = new Date(e.expiresAt).getTime() - now;
            return e.status === 'approved' && left > 0 && left < SOON_MS;
          }).length
        : undefined,
    },
  ];

  const forbidden =
    isForbidden(retirements.error) || isForbidden(residual.error);

  return (
    <Page themeId="tool">
      <Header
        title="NHI Offboarding"
        subtitle="Retiring non-human identities and proving nothing trusts them any more"
      />
      <Content>
        <ContentHeader title="Across the catalog">
          <SupportButton>
            Every retirement, live access of retired entities, anchors whose
            owner is gone, and exceptions. Rows link to the entity's Retire tab.
          </SupportButton>
        </ContentHeader>
        {forbidden ? (
          <Alert severity="info">
            <AlertTitle>
              This page is for platform and security teams
            </AlertTitle>
            The permission policy does not give you "
            {nhiPlatformReadPermission.name}". You can still retire the entities
            you own from their Retire tab.
          </Alert>
        ) : (
          <Grid container spacing={3}>
            <Grid item xs={12}>
              <StatusTiles tiles={tiles} />
              {!stats.value && !stats.loading && (
                <Typography variant="caption" color="textSecondary">
                  Status counts are of the retirements listed below.
                </Typography>
              )}
            </Grid>

            <Grid item xs={12} component="section" aria-label="Retirements">
              <InfoCard title="Retirements" noPadding>
                <Box
                  display="flex"
                  flexWrap="wrap"
                  style={{ gap: 16 }}
                  px={2}
                  pb={1}
                >
                  <FormControl style={{ minWidth: 180 }} size="small">
                    <InputLabel id="nhi-filter-status">Status</InputLabel>
                    <Select
                      labelId="nhi-filter-status"
                      value={status}
                      onChange={e => setStatus(e.target.value as string)}
                    >
                      <MenuItem value="">All</MenuItem>
                      {RETIREMENT_STATUSES.map(s => (
                        <MenuItem key={s} value={s}>
                          {RETIREMENT_STATUS_LABELS[s]}
                        </MenuItem>
                      ))}
                    </Select>
                  </FormControl>
                  <TextField
                    id="nhi-filter-owner"
                    label="Owner"
                    placeholder="group:default/payments"
                    value={ownerText}
                    onChange={e => setOwnerText(e.target.value)}
                    size="small"
                    style={{ minWidth: 240 }}
                  />
                  <FormControl style={{ minWidth: 160 }} size="small">
                    <InputLabel id="nhi-filter-kind">Kind</InputLabel>
                    <Select
                      labelId="nhi-filter-kind"
                      value={kind}
                      onChange={e => setKind(e.target.value as string)}
                    >
                      <MenuItem value="">All</MenuItem>
                      {kinds.map(k => (
                        <MenuItem key={k} value={k}>
                          {k}
                        </MenuItem>
                      ))}
                    </Select>
                  </FormControl>
                  <Box alignSelf="flex-end">
                    <Typography
                      variant="body2"
                      color="textSecondary"
                      aria-live="polite"
                    >
                      {retirements.loading
                        ? 'Loading…'
                        : `${shown.length} shown${
                            retirements.nextCursor ? ', more available' : ''
                          }`}
                    </Typography>
                  </Box>
                </Box>
                {retirements.error ? (
                  <ResponseErrorPanel
                    error={retirements.error}
                    title="Could not load the retirements"
                  />
                ) : (
                  <RetirementsTable
                    items={shown}
                    loading={retirements.loading}
                    retireTabPath={tabPath}
                  />
                )}
                {retirements.nextCursor && (
                  <Box p={1} display="flex" justifyContent="center">
                    <Button
                      onClick={retirements.loadMore}
                      disabled={retirements.loadingMore}
                    >
                      {retirements.loadingMore ? 'Loading…' : 'Load more'}
                    </Button>
                  </Box>
                )}
              </InfoCard>
            </Grid>

            <ProposalsCard retireTabPath={tabPath} />

            <Grid item xs={12} component="section" aria-label="Residual access">
              <InfoCard
                title="Residual access"
                subheader="Live anchors of deprecated, retired or removed entities"
                noPadding
              >
                {residual.error ? (
                  <ResponseErrorPanel error={residual.error} />
                ) : (
                  <ResidualAccessTable
                    items={residualItems}
                    loading={residual.loading}
                    variant="residual"
                    retireTabPath={tabPath}
                  />
                )}
                <LoadMoreResidual residual={residual} />
              </InfoCard>
            </Grid>
            <Grid
              item
              xs={12}
              component="section"
              aria-label="Orphaned anchors"
            >
              <InfoCard
                title="Orphaned anchors"
                subheader="Anchors whose owner is no longer in the catalog"
                noPadding
              >
                {residual.error ? (
                  <ResponseErrorPanel error={residual.error} />
                ) : (
                  <ResidualAccessTable
                    items={orphanedItems}
                    loading={residual.loading}
                    variant="orphaned"
                    retireTabPath={tabPath}
                  />
                )}
                <LoadMoreResidual residual={residual} />
              </InfoCard>
            </Grid>

            <GovernanceSection retireTabPath={tabPath} />

            <Grid item xs={12} component="section" aria-label="Exceptions">
              <InfoCard
                title="Exceptions"
                subheader="Steps allowed to stay undone, and until when"
                noPadding
              >
                <Box px={2} pb={1}>
                  <FormControl style={{ minWidth: 180 }} size="small">
                    <InputLabel id="nhi-filter-exception-status">
                      Exception status
                    </InputLabel>
                    <Select
                      labelId="nhi-filter-exception-status"
                      value={exceptionStatus}
                      onChange={e =>
                        setExceptionStatus(e.target.value as string)
                      }
                    >
                      <MenuItem value="">All</MenuItem>
                      {(['requested', 'approved', 'rejected'] as const).map(
                        s => (
                          <MenuItem key={s} value={s}>
                            {EXCEPTION_STATUS_LABELS[s]}
                          </MenuItem>
                        ),
                      )}
                    </Select>
                  </FormControl>
                </Box>
                {exceptions.error ? (
                  <ResponseErrorPanel error={exceptions.error} />
                ) : (
                  <ExceptionsTable
                    items={exceptionItems}
                    loading={exceptions.loading}
                    retireTabPath={tabPath}
                    onChanged={exceptions.retry}
                  />
                )}
              </InfoCard>
            </Grid>

            {stats.value && (
              <Grid item xs={12}>
                <StatsCharts stats={stats.value} />
              </Grid>
            )}
            {stats.error && (
              <Grid item xs={12}>
                <Typography variant="body2" color="textSecondary">
                  Charts are unavailable: {stats.error.message}
                </Typography>
              </Grid>
            )}
          </Grid>
        )}
      </Content>
    </Page>
  );
};
