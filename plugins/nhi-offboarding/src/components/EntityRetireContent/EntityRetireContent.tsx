import { useEffect, useMemo, useRef, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import LinearProgress from '@material-ui/core/LinearProgress';
import Typography from '@material-ui/core/Typography';
import RefreshIcon from '@material-ui/icons/Refresh';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  ACTIVE_RETIREMENT_STATUSES,
  type Retirement,
  type TriggerFiring,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';
import { useLiveRetirement, useTrustAnchors } from '../../hooks';
import { AnchorsEmptyState, AnchorsTable } from '../AnchorsTable';
import { EvidencePanel } from '../EvidencePanel';
import { ProposalBanner } from '../ProposalBanner';
import {
  ResidualAccessBanner,
  hasResidualAccess,
} from '../ResidualAccessBanner';
import { RetireButton } from '../RetireDialog';
import { RetirementHistory } from '../RetirementHistory';
import { RetirementProgress } from '../RetirementProgress';
import { DiscoveryProblems, describeError } from '../common';

/** A 4px strip that shows activity without moving anything below it. */
const BusyStrip = ({ busy, label }: { busy: boolean; label: string }) => (
  <Box height={4}>{busy && <LinearProgress aria-label={label} />}</Box>
);

function newestFirst(items: Retirement[]): Retirement[] {
  return [...items].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * The Retire tab of an entity page: what still trusts the entity, what
 * retiring it does, how a retirement is going, its evidence and history.
 * Works for any entity kind.
 */
export const EntityRetireContent = () => {
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const api = useApi(nhiOffboardingApiRef);

  const anchors = useTrustAnchors(entityRef);
  const history = useAsyncRetry(
    async () =>
      newestFirst((await api.listRetirements({ entityRef, limit: 50 })).items),
    [api, entityRef],
  );

  const [selectedId, setSelectedId] = useState<string>();
  const retirements = useMemo(() => history.value ?? [], [history.value]);
  const activeFromList = retirements.find(r =>
    ACTIVE_RETIREMENT_STATUSES.includes(r.status),
  );
  const currentId = selectedId ?? activeFromList?.id ?? retirements[0]?.id;
  const live = useLiveRetirement(currentId);
  const current = live.retirement;
  const active =
    current && ACTIVE_RETIREMENT_STATUSES.includes(current.status)
      ? current
      : activeFromList;

  // When the shown retirement moves on, anchors and history change with it.
  const { reload: reloadAnchors } = anchors;
  const { retry: reloadHistory } = history;
  const seen = useRef<string>();
  const stamp = current
    ? `${current.id}:${current.status}:${current.updatedAt}`
    : undefined;
  useEffect(() => {
    const previous = seen.current;
    seen.current = stamp;
    if (previous && stamp && previous !== stamp) {
      reloadAnchors();
      reloadHistory();
    }
  }, [stamp, reloadAnchors, reloadHistory]);

  const onStarted = (retirement: Retirement) => {
    live.replace(retirement);
    setSelectedId(retirement.id);
    reloadHistory();
    reloadAnchors();
  };

  // A confirmed proposal started a retirement: show it, like Retire does.
  const onProposalConfirmed = (firing: TriggerFiring) => {
    if (firing.retirementId) {
      setSelectedId(firing.retirementId);
    }
    reloadHistory();
    reloadAnchors();
  };

  const anchorList = anchors.anchors ?? [];
  const showBanner = hasResidualAccess(entity, anchorList, retirements[0]);

  return (
    <Grid container spacing={3}>
      <ProposalBanner entityRef={entityRef} onConfirmed={onProposalConfirmed} />
      {showBanner && (
        <Grid item xs={12}>
          <ResidualAccessBanner
            entity={entity}
            anchors={anchorList}
            lastRetirement={retirements[0]}
          />
        </Grid>
      )}

      <Grid item xs={12}>
        <InfoCard
          title="Trust anchors"
          subheader="Credentials, accounts and memberships through which systems trust this entity"
          noPadding
          action={
            <Box
              display="flex"
              alignItems="flex-start"
              style={{ gap: 8 }}
              pt={1}
              pr={1}
            >
              <Button
                startIcon={<RefreshIcon />}
                onClick={() => anchors.rediscover()}
                disabled={anchors.rediscovering}
                aria-label="Re-discover trust anchors"
              >
                Refresh
              </Button>
              <RetireButton
                entity={entity}
                activeRetirement={active}
                onStarted={onStarted}
              />
            </Box>
          }
        >
          <BusyStrip
            busy={anchors.rediscovering}
            label="Re-discovering trust anchors"
          />
          {anchors.error && !anchors.anchors && (
            <ResponseErrorPanel
              error={anchors.error}
              title="Could not load the trust anchors"
            />
          )}
          {anchors.error && anchors.anchors && (
            <Box px={2} pb={1}>
              <Typography variant="body2" color="error">
                The last refresh failed: {describeError(anchors.error)}
              </Typography>
            </Box>
          )}
          {anchors.problems.length > 0 && (
            <Box px={2} pb={1}>
              <DiscoveryProblems problems={anchors.problems} what="this list" />
            </Box>
          )}
          {!(anchors.error && !anchors.anchors) && (
            <AnchorsTable
              anchors={anchorList}
              loading={anchors.loading}
              emptyContent={<AnchorsEmptyState />}
            />
          )}
        </InfoCard>
      </Grid>

      {currentId && (
        <Grid item xs={12}>
          <InfoCard
            title={
              current && ACTIVE_RETIREMENT_STATUSES.includes(current.status)
                ? 'Retirement in progress'
                : 'Retirement'
            }
          >
            {!current && live.error && (
              <ResponseErrorPanel
                error={live.error}
                title="Could not load the retirement"
              />
            )}
            {!current && !live.error && <Progress />}
            {current && (
              <>
                {live.error && (
                  <Typography variant="body2" color="error" gutterBottom>
                    Live updates failed, retrying: {describeError(live.error)}
                  </Typography>
                )}
                <RetirementProgress
                  retirement={current}
                  onChange={live.replace}
                  onReload={live.reload}
                />
              </>
            )}
          </InfoCard>
        </Grid>
      )}

      {currentId && (
        <Grid item xs={12}>
          <InfoCard
            title="Evidence"
            subheader="Append-only, hash-chained records of what was done and observed"
          >
            <EvidencePanel
              retirementId={currentId}
              version={current?.updatedAt}
            />
          </InfoCard>
        </Grid>
      )}

      <Grid item xs={12}>
        <InfoCard title="History" noPadding>
          {history.error ? (
            <ResponseErrorPanel
              error={history.error}
              title="Could not load the history"
            />
          ) : (
            <RetirementHistory
              retirements={retirements}
              loading={history.loading}
              selectedId={currentId}
              onSelect={setSelectedId}
            />
          )}
        </InfoCard>
      </Grid>
    </Grid>
  );
};
