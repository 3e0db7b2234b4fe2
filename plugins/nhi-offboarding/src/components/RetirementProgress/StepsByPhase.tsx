import type { ReactNode } from 'react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { RetirementStep } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { useProviderLabels } from '../../hooks';
import {
  AnchorKindIcon,
  ExceptionStatusChip,
  STEP_ACTION_LABELS,
  StatusChip,
  StepStatusChip,
  formatDate,
  formatDateTime,
  formatRelative,
  groupByPhase,
  labelOf,
  shortEntityRef,
} from '../common';

const OUTCOME_TEXT: Record<string, string> = {
  trusted: 'The system still trusts it',
  untrusted: 'The system no longer trusts it',
  unknown: 'The system could not tell',
  attested: 'The owner attested its removal',
};

const useStyles = makeStyles(theme => ({
  table: { tableLayout: 'fixed' },
  error: { color: theme.palette.error.main },
  phase: { marginTop: theme.spacing(2) },
  actions: { display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.5) },
}));

export function stepTitle(step: RetirementStep): string {
  const action = labelOf(STEP_ACTION_LABELS, step.action);
  return step.anchorName ? `${action} ${step.anchorName}` : action;
}

/** What happened to a step and what a person can do about it, in words. */
const StepDetails = ({ step }: { step: RetirementStep }) => {
  const classes = useStyles();
  const lines: ReactNode[] = [];
  if (step.status === 'failed' && step.lastError) {
    lines.push(
      <span key="failed" className={classes.error}>
        Gave up after {step.attempts}{' '}
        {step.attempts === 1 ? 'attempt' : 'attempts'}: {step.lastError}. Fix
        the cause and retry, or request an exception.
      </span>,
    );
  } else if (step.lastError) {
    lines.push(
      <span key="retrying" className={classes.error}>
        Attempt {step.attempts} failed: {step.lastError}
        {step.notBefore
          ? `; tries again ${formatRelative(step.notBefore)}`
          : ''}
        .
      </span>,
    );
  }
  if (step.status === 'waiting' && step.action === 'attest') {
    lines.push(
      <span key="waiting">
        No system can do this: the owner removes the credential by hand and
        attests it here.
      </span>,
    );
  }
  if (
    step.status === 'pending' &&
    step.notBefore &&
    !step.lastError &&
    new Date(step.notBefore).getTime() > Date.now()
  ) {
    lines.push(
      <span key="notBefore" title={formatDateTime(step.notBefore)}>
        Waits until {formatDateTime(step.notBefore)}
      </span>,
    );
  }
  if (step.outcome) {
    lines.push(
      <span key="outcome">{OUTCOME_TEXT[step.outcome] ?? step.outcome}</span>,
    );
  }
  if (step.exception) {
    const e = step.exception;
    lines.push(
      <Box
        key="exception"
        display="flex"
        alignItems="center"
        flexWrap="wrap"
        style={{ gap: 4 }}
      >
        <span>Exception</span>
        <ExceptionStatusChip status={e.status} />
        <span>
          “{e.justification}” until {formatDate(e.expiresAt)}, requested by{' '}
          {shortEntityRef(e.requestedBy)}
          {e.decidedBy ? `, ${e.status} by ${shortEntityRef(e.decidedBy)}` : ''}
        </span>
      </Box>,
    );
  }
  lines.push(
    <Typography key="rationale" variant="caption" color="textSecondary">
      {step.rationale}
    </Typography>,
  );
  return (
    <Box display="flex" flexDirection="column" style={{ gap: 2 }}>
      {lines}
    </Box>
  );
};

export interface StepActionHandlers {
  canOperate: boolean;
  canApprove: boolean;
  currentUserRef?: string;
  busy?: string;
  onAttest: (step: RetirementStep) => void;
  onRequestException: (step: RetirementStep) => void;
  onDecideException: (
    step: RetirementStep,
    decision: 'approve' | 'reject',
  ) => void;
}

const StepActions = ({
  step,
  handlers,
}: {
  step: RetirementStep;
  handlers: StepActionHandlers;
}) => {
  const classes = useStyles();
  const title = stepTitle(step);
  const exception = step.exception;
  const buttons: ReactNode[] = [];
  if (
    handlers.canOperate &&
    step.status === 'waiting' &&
    step.action === 'attest'
  ) {
    buttons.push(
      <Button
        key="attest"
        size="small"
        variant="outlined"
        color="primary"
        onClick={() => handlers.onAttest(step)}
        aria-label={`Attest: ${title}`}
        disabled={!!handlers.busy}
      >
        Attest…
      </Button>,
    );
  }
  if (
    handlers.canOperate &&
    (step.status === 'failed' || step.status === 'waiting') &&
    (!exception || exception.status === 'rejected')
  ) {
    buttons.push(
      <Button
        key="exception"
        size="small"
        onClick={() => handlers.onRequestException(step)}
        aria-label={`Request an exception: ${title}`}
        disabled={!!handlers.busy}
      >
        Request exception…
      </Button>,
    );
  }
  if (exception?.status === 'requested' && handlers.canApprove) {
    if (
      handlers.currentUserRef &&
      handlers.currentUserRef === exception.requestedBy
    ) {
      buttons.push(
        <Typography key="own" variant="caption" color="textSecondary">
          You requested this exception; another person must approve it.
        </Typography>,
      );
    } else {
      buttons.push(
        <Button
          key="approve"
          size="small"
          variant="outlined"
          color="primary"
          onClick={() => handlers.onDecideException(step, 'approve')}
          aria-label={`Approve the exception: ${title}`}
          disabled={!!handlers.busy}
        >
          Approve
        </Button>,
        <Button
          key="reject"
          size="small"
          onClick={() => handlers.onDecideException(step, 'reject')}
          aria-label={`Reject the exception: ${title}`}
          disabled={!!handlers.busy}
        >
          Reject
        </Button>,
      );
    }
  }
  return <div className={classes.actions}>{buttons}</div>;
};

/** A retirement's steps, grouped by control-chain phase, with live status. */
export const StepsByPhase = (props: {
  steps: RetirementStep[];
  handlers: StepActionHandlers;
}) => {
  const classes = useStyles();
  const providerLabel = useProviderLabels();
  return (
    <>
      {groupByPhase(props.steps).map(group => {
        const finished = group.steps.filter(s =>
          ['succeeded', 'excepted'].includes(s.status),
        ).length;
        const headingId = `nhi-phase-${group.phase}`;
        return (
          <Box
            key={group.phase}
            component="section"
            aria-labelledby={headingId}
            className={classes.phase}
          >
            <Typography variant="subtitle1" component="h4" id={headingId}>
              Phase {group.phase}: {group.title}{' '}
              <Typography
                component="span"
                variant="body2"
                color="textSecondary"
              >
                ({finished} of {group.steps.length} done)
              </Typography>
            </Typography>
            <Table size="small" className={classes.table}>
              <TableHead>
                <TableRow>
                  <TableCell style={{ width: '24%' }}>Step</TableCell>
                  <TableCell style={{ width: '12%' }}>Provider</TableCell>
                  <TableCell style={{ width: '13%' }}>Status</TableCell>
                  <TableCell style={{ width: '9%' }}>Attempts</TableCell>
                  <TableCell>Details</TableCell>
                  <TableCell style={{ width: '17%' }}>
                    <Typography variant="srOnly">Actions</Typography>
                  </TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {group.steps.map(step => (
                  <TableRow key={step.id} data-testid={`step-${step.id}`}>
                    <TableCell>
                      <Box
                        display="flex"
                        alignItems="flex-start"
                        style={{ gap: 6 }}
                      >
                        <AnchorKindIcon kind={step.anchorKind} />
                        <Box>
                          <Typography variant="body2">
                            {stepTitle(step)}
                          </Typography>
                          <Box
                            display="flex"
                            flexWrap="wrap"
                            style={{ gap: 4 }}
                          >
                            {step.action === 'rotate' && (
                              <StatusChip label="Rotated: shared" tone="info" />
                            )}
                            {step.manual && (
                              <StatusChip label="Manual" tone="neutral" />
                            )}
                            {step.afterQuarantine && (
                              <StatusChip
                                label="After quarantine"
                                tone="neutral"
                              />
                            )}
                          </Box>
                        </Box>
                      </Box>
                    </TableCell>
                    <TableCell>{providerLabel(step.providerId)}</TableCell>
                    <TableCell>
                      <StepStatusChip status={step.status} />
                    </TableCell>
                    <TableCell>{step.attempts}</TableCell>
                    <TableCell>
                      <StepDetails step={step} />
                    </TableCell>
                    <TableCell>
                      <StepActions step={step} handlers={props.handlers} />
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
        );
      })}
    </>
  );
};
