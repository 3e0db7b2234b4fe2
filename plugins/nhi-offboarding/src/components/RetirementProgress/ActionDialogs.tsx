import { useState } from 'react';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';

export interface TextPromptDialogProps {
  title: string;
  description: string;
  label?: string;
  /** Without a label the dialog only asks for confirmation. */
  required?: boolean;
  confirmLabel: string;
  destructive?: boolean;
  onConfirm: (text: string) => Promise<boolean>;
  onClose: () => void;
}

/** Confirms an action, optionally asking for a note or reason. */
export const TextPromptDialog = (props: TextPromptDialogProps) => {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const missing = !!props.label && !!props.required && !text.trim();
  const confirm = async () => {
    setBusy(true);
    const ok = await props.onConfirm(text.trim());
    setBusy(false);
    if (ok) {
      props.onClose();
    }
  };
  return (
    <Dialog
      open
      onClose={props.onClose}
      maxWidth="sm"
      fullWidth
      aria-labelledby="nhi-prompt-title"
    >
      <DialogTitle id="nhi-prompt-title">{props.title}</DialogTitle>
      <DialogContent>
        <DialogContentText>{props.description}</DialogContentText>
        {props.label && (
          <TextField
            id="nhi-prompt-text"
            label={props.label}
            value={text}
            onChange={e => setText(e.target.value)}
            required={props.required}
            fullWidth
            multiline
            minRows={2}
          />
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Back</Button>
        <Button
          variant="contained"
          color={props.destructive ? 'secondary' : 'primary'}
          disabled={missing || busy}
          onClick={confirm}
        >
          {props.confirmLabel}
        </Button>
      </DialogActions>
    </Dialog>
  );
};

const DAY_MS = 24 * 3600 * 1000;
export const DEFAULT_EXCEPTION_DAYS = 30;
export const MAX_EXCEPTION_DAYS = 366;

function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(
    date.getDate(),
  )}`;
}

/** The end of a local calendar day `YYYY-MM-DD`, as an ISO timestamp. */
export function endOfDay(day: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
    return undefined;
  }
  const date = new Date(`${day}T23:59:59`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Asks why a step may stay undone, and until when. */
export const ExceptionDialog = (props: {
  stepTitle: string;
  onConfirm: (request: {
    justification: string;
    expiresAt: string;
  }) => Promise<boolean>;
  onClose: () => void;
}) => {
  const now = Date.now();
  const [justification, setJustification] = useState('');
  const [day, setDay] = useState(
    isoDay(new Date(now + DEFAULT_EXCEPTION_DAYS * DAY_MS)),
  );
  const [busy, setBusy] = useState(false);
  const expiresAt = endOfDay(day);
  const expiresMs = expiresAt ? new Date(expiresAt).getTime() : NaN;
  const dayValid =
    !!expiresAt &&
    expiresMs > now &&
    expiresMs <= now + MAX_EXCEPTION_DAYS * DAY_MS;
  const confirm = async () => {
    if (!expiresAt) {
      return;
    }
    setBusy(true);
    const ok = await props.onConfirm({
      justification: justification.trim(),
      expiresAt,
    });
    setBusy(false);
    if (ok) {
      props.onClose();
    }
  };
  return (
    <Dialog
      open
      onClose={props.onClose}
      maxWidth="sm"
      fullWidth
      aria-labelledby="nhi-exception-title"
    >
      <DialogTitle id="nhi-exception-title">Request an exception</DialogTitle>
      <DialogContent>
        <DialogContentText>
          An exception lets “{props.stepTitle}” stay undone until it expires.
          Someone other than you must approve it; it is recorded in the
          evidence.
        </DialogContentText>
        <TextField
          id="nhi-exception-justification"
          label="Justification"
          value={justification}
          onChange={e => setJustification(e.target.value)}
          required
          fullWidth
          multiline
          minRows={3}
          helperText="Why it must stay, and what limits the risk meanwhile"
        />
        <TextField
          id="nhi-exception-expires"
          label="Expires on"
          type="date"
          value={day}
          onChange={e => setDay(e.target.value)}
          required
          margin="normal"
          InputLabelProps={{ shrink: true }}
          error={!dayValid}
          helperText={
            dayValid
              ? 'The exception ends at the end of this day'
              : `A day in the future, at most ${MAX_EXCEPTION_DAYS} days away`
          }
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Back</Button>
        <Button
          variant="contained"
          color="primary"
          disabled={!justification.trim() || !dayValid || busy}
          onClick={confirm}
        >
          Request exception
        </Button>
      </DialogActions>
    </Dialog>
  );
};
