import { useState } from 'react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import LinearProgress from '@material-ui/core/LinearProgress';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import {
  ACTIVE_RETIREMENT_STATUSES,
  type Retirement,
  type RetirementStep,
  type StepException,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';
import {
  isLiveRetirement,
  useCurrentUserRef,
  useNhiPermissions,
} from '../../hooks';
import {
  RetirementStatusChip,
  StatusChip,
  TRIGGER_KIND_LABELS,
  describeError,
  formatDateTime,
} from '../common';
import {
  ExceptionDialog,
  TextPromptDialog,
  type TextPromptDialogProps,
} from './ActionDialogs';
import { StepsByPhase, stepTitle } from './StepsByPhase';
import { useStepPages } from './useStepPages';
import { RetirementGovernance } from '../RetirementGovernance';

const useStyles = makeStyles(theme => ({
  facts: {
    display: 'grid',
    gridTemplateColumns: 'max-content 1fr',
    columnGap: theme.spacing(2),
    rowGap: theme.spacing(0.5),
    margin: 0,
    '& dt': { color: theme.palette.text.secondary },
    '& dd': { margin: 0, overflowWrap: 'anywhere' },
  },
  bar: { height: 10, borderRadius: 5 },
  toolbar: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
    justifyContent: 'flex-end',
    alignItems: 'flex-start',
    alignSelf: 'flex-start',
  },
}));

type DialogState =
  | { kind: 'prompt'; props: Omit<TextPromptDialogProps, 'onClose'> }
  | { kind: 'exception'; step: RetirementStep };

const Person = ({ value }: { value: string }) =>
  value.includes(':') ? <EntityRefLink entityRef={value} /> : <>{value}</>;

export interface RetirementProgressProps {
  retirement: Retirement;
  /** Shows the retirement an action returned. */
  onChange: (retirement: Retirement) => void;
  /** Re-reads the retirement (after actions that return something else). */
  onReload: () => Promise<void> | void;
}

/**
 * A retirement as it runs: facts, verified/total, the actions that apply
 * now and the steps by phase.
 */
export const RetirementProgress = (props: RetirementProgressProps) => {
  const { retirement } = props;
  const classes = useStyles();
  const api = useApi(nhiOffboardingApiRef);
  const permissions = useNhiPermissions(retirement.entityRef);
  const currentUserRef = useCurrentUserRef();
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  const [dialog, setDialog] = useState<DialogState>();
  const stepPages = useStepPages(retirement);

  const run = async (
    label: string,
    action: () => Promise<Retirement | StepException>,
  ): Promise<boolean> => {
    setBusy(label);
    setActionError(undefined);
    try {
      const result = await action();
      if ('progress' in result) {
        props.onChange(result);
      } else {
        await props.onReload();
      }
      return true;
    } catch (error) {
      setActionError(`${label} failed. ${describeError(error)}`);
      return false;
    } finally {
      setBusy(undefined);
    }
  };

  const { id, status, progress } = retirement;
  const active = ACTIVE_RETIREMENT_STATUSES.includes(status);
  const canOperate = permissions.operate.allowed;
  const percent =
    progress.anchors > 0
      ? Math.round((progress.verified / progress.anchors) * 100)
      : 0;

  const prompt = (p: Omit<TextPromptDialogProps, 'onClose'>) =>
    setDialog({ kind: 'prompt', props: p });

  const toolbar = (
    <div className={classes.toolbar}>
      {canOperate && status === 'needs-attention' && (
        <Button
          variant="contained"
          color="primary"
          disabled={!!busy}
          onClick={() => run('Retry', () => api.retryRetirement(id))}
        >
          Retry
        </Button>
      )}
      {canOperate && status === 'quarantined' && (
        <>
          <Button
            variant="contained"
            color="secondary"
            disabled={!!busy}
            onClick={() =>
              prompt({
                title: 'End the quarantine and revoke now?',
                description:
                  'The remaining steps run now: credentials are revoked and every system is verified.',
                confirmLabel: 'Revoke now',
                destructive: true,
                onConfirm: () =>
                  run('Release (revoke)', () =>
                    api.releaseQuarantine(id, 'revoke'),
                  ),
              })
            }
          >
            Revoke now
          </Button>
          <Button
            variant="outlined"
            disabled={!!busy}
            onClick={() =>
              prompt({
                title: 'Restore access?',
                description:
                  'Everything disabled by the quarantine is re-enabled and the retirement is cancelled.',
                confirmLabel: 'Restore access',
                onConfirm: () =>
                  run('Restore', () => api.releaseQuarantine(id, 'restore')),
              })
            }
          >
            Restore access
          </Button>
        </>
      )}
      {permissions.legalHold.allowed &&
        (retirement.legalHold ? (
          <Button
            variant="outlined"
            disabled={!!busy}
            onClick={() =>
              prompt({
                title: 'Lift the legal hold?',
                description:
                  'The hold is lifted and the lift is recorded in the evidence.',
                label: 'Reason (optional)',
                confirmLabel: 'Lift hold',
                onConfirm: reason =>
                  run('Lift hold', () =>
                    api.liftLegalHold(id, reason || undefined),
                  ),
              })
            }
          >
            Lift legal hold
          </Button>
        ) : (
          <Button
            variant="outlined"
            disabled={!!busy}
            onClick={() =>
              prompt({
                title: 'Place a legal hold',
                description:
                  'A legal hold keeps this retirement and its evidence as they are until it is lifted.',
                label: 'Reason (e.g. the matter or ticket)',
                required: true,
                confirmLabel: 'Place hold',
                onConfirm: reason =>
                  run('Place hold', () => api.placeLegalHold(id, reason)),
              })
            }
          >
            Place legal hold…
          </Button>
        ))}
      {canOperate && active && (
        <Button
          variant="outlined"
          color="secondary"
          disabled={!!busy}
          onClick={() =>
            prompt({
              title: 'Cancel this retirement?',
              description:
                'Steps not yet done are cancelled; what is done stays done. The cancellation is recorded in the evidence.',
              label: 'Reason (optional)',
              confirmLabel: 'Cancel retirement',
              destructive: true,
              onConfirm: reason =>
                run('Cancel', () =>
                  api.cancelRetirement(id, reason || undefined),
                ),
            })
          }
        >
          Cancel retirement…
        </Button>
      )}
    </div>
  );

  return (
    <Box>
      <Box
        display="flex"
        flexWrap="wrap"
        justifyContent="space-between"
        style={{ gap: 16 }}
      >
        <dl className={classes.facts}>
          <dt>Status</dt>
          <dd>
            <Box display="flex" style={{ gap: 4 }} flexWrap="wrap">
              <RetirementStatusChip status={status} />
              {retirement.legalHold && (
                <StatusChip label="Legal hold" tone="warning" />
              )}
            </Box>
          </dd>
          <dt>Mode</dt>
          <dd>
            {retirement.mode === 'quarantine'
              ? `Quarantine${
                  retirement.quarantineDays
                    ? ` for ${retirement.quarantineDays} days`
                    : ''
                }, then revoke`
              : 'Revoke'}
          </dd>
          <dt>Reason</dt>
          <dd>{retirement.reason}</dd>
          <dt>Requested by</dt>
          <dd>
            <Person value={retirement.requestedBy} />
          </dd>
          {retirement.origin && (
            <>
              <dt>Origin</dt>
              <dd>
                {`Started by the ${
                  TRIGGER_KIND_LABELS[retirement.origin.trigger]
                } trigger (${retirement.origin.detail})`}
                {retirement.origin.confirmedBy && (
                  <>
                    , confirmed by{' '}
                    <Person value={retirement.origin.confirmedBy} />
                  </>
                )}
              </dd>
            </>
          )}
          <dt>Started</dt>
          <dd>{formatDateTime(retirement.createdAt)}</dd>
          {retirement.completedAt && (
            <>
              <dt>Finished</dt>
              <dd>{formatDateTime(retirement.completedAt)}</dd>
            </>
          )}
        </dl>
        {(canOperate || permissions.legalHold.allowed) && toolbar}
      </Box>

      <Box mt={2}>
        <Typography variant="body2" id={`nhi-progress-${id}`}>
          <strong>
            {progress.verified} of {progress.anchors}{' '}
            {progress.anchors === 1 ? 'anchor' : 'anchors'} verified
          </strong>
          {' · '}
          {progress.done} of {progress.total} steps done
          {progress.failed > 0 ? ` · ${progress.failed} failed` : ''}
          {isLiveRetirement(retirement) ? ' · updating live' : ''}
        </Typography>
        <LinearProgress
          variant="determinate"
          value={percent}
          className={classes.bar}
          color={progress.failed > 0 ? 'secondary' : 'primary'}
          aria-labelledby={`nhi-progress-${id}`}
        />
      </Box>

      <Box mt={2}>
        <RetirementGovernance
          retirement={retirement}
          canOperate={canOperate}
          onChange={props.onChange}
        />
      </Box>

      <Box mt={2} display="flex" flexDirection="column" style={{ gap: 8 }}>
        {status === 'needs-attention' && (
          <Alert severity="error">
            {retirement.statusReason ?? 'A step gave up.'} Fix the cause and
            retry, or request an exception for the step below.
          </Alert>
        )}
        {status === 'quarantined' && (
          <Alert severity="info">
            Quarantined
            {retirement.quarantineUntil
              ? ` until ${formatDateTime(retirement.quarantineUntil)}`
              : ''}
            : the identity is disabled but its credentials are not revoked yet.
            Revoke now, or restore access if something still needs it.
          </Alert>
        )}
        {retirement.restoring && active && (
          <Alert severity="info">
            Restoring access: what the quarantine disabled is re-enabled, then
            the retirement ends without revoking anything.
          </Alert>
        )}
        {retirement.legalHold && (
          <Alert severity="warning">
            Legal hold
            {retirement.holdReason ? `: ${retirement.holdReason}` : ''}
          </Alert>
        )}
        {status !== 'needs-attention' &&
          status !== 'quarantined' &&
          retirement.statusReason && (
            <Alert severity="info">{retirement.statusReason}</Alert>
          )}
        {!permissions.operate.loading && !canOperate && active && (
          <Typography variant="body2" color="textSecondary">
            You can follow this retirement, but the permission policy does not
            let you operate it (retry, cancel, attest, request exceptions).
          </Typography>
        )}
        {actionError && (
          <Alert severity="error" onClose={() => setActionError(undefined)}>
            {actionError}
          </Alert>
        )}
      </Box>

      {retirement.steps && (
        <StepsByPhase
          steps={stepPages.steps}
          handlers={{
            canOperate,
            canApprove: permissions.approveExceptions.allowed,
            currentUserRef,
            busy,
            onAttest: step =>
              prompt({
                title: `Attest: ${stepTitle(step)}`,
                description:
                  'Confirm that you removed this credential by hand and that nothing accepts it any more. Your name and note go into the evidence.',
                label: 'What you did (e.g. the console, the ticket)',
                required: true,
                confirmLabel: 'Attest',
                onConfirm: note =>
                  run('Attest', () => api.attestStep(id, step.id, note)),
              }),
            onRequestException: step => setDialog({ kind: 'exception', step }),
            onDecideException: (step, decision) =>
              prompt({
                title: `${
                  decision === 'approve' ? 'Approve' : 'Reject'
                } the exception: ${stepTitle(step)}`,
                description: `“${step.exception?.justification ?? ''}”`,
                label: 'Note (optional)',
                confirmLabel: decision === 'approve' ? 'Approve' : 'Reject',
                onConfirm: note =>
                  run(decision === 'approve' ? 'Approve' : 'Reject', () =>
                    api.decideException(
                      id,
                      step.id,
                      decision,
                      note || undefined,
                    ),
                  ),
              }),
          }}
        />
      )}

      {retirement.steps && (stepPages.hasMore || stepPages.error) && (
        <Box display="flex" flexDirection="column" alignItems="center" mt={1}>
          {stepPages.error && (
            <Alert severity="error">
              Could not load more steps. {describeError(stepPages.error)}
            </Alert>
          )}
          {stepPages.hasMore && (
            <Button
              variant="outlined"
              size="small"
              disabled={stepPages.loading}
              onClick={stepPages.loadMore}
            >
              Load more steps ({stepPages.steps.length} of{' '}
              {retirement.progress.total} shown)
            </Button>
          )}
        </Box>
      )}

      {dialog?.kind === 'prompt' && (
        <TextPromptDialog
          {...dialog.props}
          onClose={() => setDialog(undefined)}
        />
      )}
      {dialog?.kind === 'exception' && (
        <ExceptionDialog
          stepTitle={stepTitle(dialog.step)}
          onClose={() => setDialog(undefined)}
          onConfirm={request =>
            run('Request exception', () =>
              api.requestException(id, dialog.step.id, request),
            )
          }
        />
      )}
    </Box>
  );
};
