import Chip from '@material-ui/core/Chip';
import { makeStyles, Theme } from '@material-ui/core/styles';
import type {
  AnchorStatus,
  RetirementStatus,
  StepException,
  StepStatus,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  ANCHOR_STATUS_LABELS,
  EXCEPTION_STATUS_LABELS,
  RETIREMENT_STATUS_LABELS,
  STEP_STATUS_LABELS,
  labelOf,
} from './labels';

export type Tone = 'ok' | 'warning' | 'error' | 'info' | 'running' | 'neutral';

function colours(theme: Theme, tone: Tone) {
  const dark = theme.palette.type === 'dark';
  const pick = (c: { main: string; dark: string }) => (dark ? c.main : c.dark);
  let background: string;
  switch (tone) {
    case 'ok':
      background = pick(theme.palette.success);
      break;
    case 'warning':
      background = pick(theme.palette.warning);
      break;
    case 'error':
      background = pick(theme.palette.error);
      break;
    case 'info':
      background = pick(theme.palette.info);
      break;
    case 'running':
      background = pick(theme.palette.primary);
      break;
    default:
      background = dark ? theme.palette.grey[700] : theme.palette.grey[300];
  }
  return { background, color: theme.palette.getContrastText(background) };
}

const useStyles = makeStyles(theme => ({
  chip: (props: { tone: Tone }) => {
    const { background, color } = colours(theme, props.tone);
    return {
      backgroundColor: background,
      color,
      fontWeight: theme.typography.fontWeightMedium as number,
      margin: 0,
    };
  },
}));

/** A small coloured label; the text carries the meaning, the colour helps. */
export const StatusChip = (props: { label: string; tone: Tone }) => {
  const classes = useStyles({ tone: props.tone });
  return <Chip size="small" label={props.label} className={classes.chip} />;
};

const ANCHOR_TONES: Record<AnchorStatus, Tone> = {
  active: 'warning',
  disabled: 'info',
  revoked: 'ok',
  rotated: 'ok',
  excepted: 'info',
  unknown: 'neutral',
};

const RETIREMENT_TONES: Record<RetirementStatus, Tone> = {
  pending: 'neutral',
  running: 'running',
  quarantined: 'info',
  completed: 'ok',
  'needs-attention': 'error',
  cancelled: 'neutral',
};

const STEP_TONES: Record<StepStatus, Tone> = {
  pending: 'neutral',
  running: 'running',
  waiting: 'warning',
  succeeded: 'ok',
  failed: 'error',
  excepted: 'info',
  cancelled: 'neutral',
};

const EXCEPTION_TONES: Record<StepException['status'], Tone> = {
  requested: 'warning',
  approved: 'info',
  rejected: 'neutral',
};

export const AnchorStatusChip = (props: { status: AnchorStatus }) => (
  <StatusChip
    label={labelOf(ANCHOR_STATUS_LABELS, props.status)}
    tone={ANCHOR_TONES[props.status] ?? 'neutral'}
  />
);

export const RetirementStatusChip = (props: { status: RetirementStatus }) => (
  <StatusChip
    label={labelOf(RETIREMENT_STATUS_LABELS, props.status)}
    tone={RETIREMENT_TONES[props.status] ?? 'neutral'}
  />
);

export const StepStatusChip = (props: { status: StepStatus }) => (
  <StatusChip
    label={labelOf(STEP_STATUS_LABELS, props.status)}
    tone={STEP_TONES[props.status] ?? 'neutral'}
  />
);

export const ExceptionStatusChip = (props: {
  status: StepException['status'];
}) => (
  <StatusChip
    label={labelOf(EXCEPTION_STATUS_LABELS, props.status)}
    tone={EXCEPTION_TONES[props.status] ?? 'neutral'}
  />
);
