import { useState } from 'react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import type { Retirement } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';
import {
  StatusChip,
  describeError,
  formatDateTime,
  formatDuration,
  formatRelative,
} from '../common';
import { downloadText } from '../EvidencePanel/download';

export interface RetirementGovernanceProps {
  retirement: Retirement;
  canOperate: boolean;
  onChange: (retirement: Retirement) => void;
}

const REVERIFIED = ['completed', 'quarantined'];

/**
 * Governance facts of a retirement on the Retire tab: time to revoke
 * against the objective, time since its anchors were last re-verified
 * (drift), ownership of shared anchors, and the audit export.
 */
export const RetirementGovernance = (props: RetirementGovernanceProps) => {
  const { retirement, canOperate } = props;
  const api = useApi(nhiOffboardingApiRef);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{
    severity: 'success' | 'error' | 'info';
    text: string;
  }>();
  const state = useAsyncRetry(
    () => api.getRetirementGovernance(retirement.id),
    [api, retirement.id, retirement.updatedAt],
  );

  const act = async (what: string, run: () => Promise<string | void>) => {
    setBusy(true);
    setMessage(undefined);
    try {
      const text = await run();
      if (text) setMessage({ severity: 'success', text });
      state.retry();
    } catch (error) {
      setMessage({
        severity: 'error',
        text: `${what} failed. ${describeError(error)}`,
      });
    } finally {
      setBusy(false);
    }
  };

  const reverify = () =>
    act('Re-verification', async () => {
      const result = await api.reverifyRetirement(retirement.id);
      props.onChange(result.retirement);
      switch (result.verdict) {
        case 'clean':
          return 'Re-verified: no system trusts these credentials.';
        case 'drift':
          return 'Drift: a system trusts a credential again. The retirement needs attention.';
        case 'inconclusive':
          return 'A system could not be asked; nothing is proven either way.';
        default:
          return 'Nothing here can be re-verified by a system.';
      }
    });

  const download = () =>
    act('The audit export', async () => {
      const text = await api.getRetirementExport(retirement.id);
      downloadText(
        `nhi-evidence-export-${retirement.id}.json`,
        text,
        'application/json',
      );
    });

  if (state.error && !state.value) {
    return (
      <Alert severity="warning">
        Governance facts are not available. {describeError(state.error)}
      </Alert>
    );
  }
  const value = state.value;
  const deadline = value?.deadline;
  const reverifiable = REVERIFIED.includes(retirement.status);

  return (
    <Box
      display="flex"
      flexDirection="column"
      style={{ gap: 8 }}
      data-testid="nhi-retirement-governance"
    >
      <Box
        display="flex"
        flexWrap="wrap"
        alignItems="center"
        style={{ gap: 8 }}
      >
        {deadline && (
          <Typography variant="body2" component="span">
            <strong>Time to revoke:</strong>{' '}
            {formatDuration(deadline.elapsedMs)} of{' '}
            {formatDuration(deadline.objectiveMs)} objective{' '}
            {deadline.accessRemovedAt ? '(access removed)' : '(running)'}{' '}
            <StatusChip
              label={
                deadline.breached ? 'Objective breached' : 'Within objective'
              }
              tone={deadline.breached ? 'error' : 'ok'}
            />
          </Typography>
        )}
        {reverifiable && value && (
          <Typography variant="body2" component="span">
            <strong>Last verified:</strong>{' '}
            {value.lastReverifiedAt
              ? `${formatRelative(value.lastReverifiedAt)} (${formatDateTime(
                  value.lastReverifiedAt,
                )})`
              : 'not re-verified yet'}
          </Typography>
        )}
        {value?.driftDetectedAt && (
          <StatusChip
            label={`Drift found ${formatRelative(value.driftDetectedAt)}`}
            tone="error"
          />
        )}
        <Box flex="1" />
        {reverifiable && canOperate && (
          <Button
            size="small"
            variant="outlined"
            disabled={busy}
            onClick={reverify}
          >
            Re-verify now
          </Button>
        )}
        <Button
          size="small"
          variant="outlined"
          disabled={busy}
          onClick={download}
        >
          Download audit export
        </Button>
      </Box>

      {value?.ownership.map(p => (
        <Alert
          key={p.anchorId}
          severity={p.reassigned ? 'success' : 'info'}
          action={
            canOperate && p.proposedOwner && !p.reassigned ? (
              <Button
                size="small"
                color="inherit"
                disabled={busy}
                onClick={() =>
                  act('The reassignment', async () => {
                    await api.reassignOwnership(
                      retirement.id,
                      p.anchorId,
                      p.proposedOwner!,
                    );
                    return `${p.anchorName} now belongs to ${p.proposedOwner}.`;
                  })
                }
              >
                Reassign to {p.proposedOwner}
              </Button>
            ) : undefined
          }
        >
          Shared credential <strong>{p.anchorName}</strong> ({p.providerId})
          {p.reassigned ? (
            <>
              {' '}
              now belongs to <EntityRefLink
                entityRef={p.reassigned.owner}
              />{' '}
              (recorded by {p.reassigned.by}).
            </>
          ) : (
            <>
              {' '}
              was owned by the retiring entity.{' '}
              {p.proposedOwner ? (
                <>
                  Proposed new owner:{' '}
                  <EntityRefLink entityRef={p.proposedOwner} /> (owner of
                  another consumer).
                </>
              ) : (
                'No other consumer has an owner: assign one in the catalog.'
              )}
            </>
          )}
        </Alert>
      ))}

      {message && (
        <Alert
          severity={message.severity}
          onClose={() => setMessage(undefined)}
        >
          {message.text}
        </Alert>
      )}
    </Box>
  );
};
