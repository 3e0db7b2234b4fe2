import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useDebounce from 'react-use/esm/useDebounce';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormLabel from '@material-ui/core/FormLabel';
import LinearProgress from '@material-ui/core/LinearProgress';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type {
  Retirement,
  RetirementMode,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';
import { DiscoveryProblems, describeError } from '../common';
import { PlanView, planSummaryText } from './PlanView';

export const DEFAULT_QUARANTINE_DAYS = 14;
export const MAX_QUARANTINE_DAYS = 365;

function validDays(value: string): number | undefined {
  const days = Number(value);
  return Number.isInteger(days) && days >= 1 && days <= MAX_QUARANTINE_DAYS
    ? days
    : undefined;
}

export interface RetireDialogProps {
  open: boolean;
  entity: Entity;
  onClose: () => void;
  onStarted: (retirement: Retirement) => void;
}

const RetireDialogBody = (props: Omit<RetireDialogProps, 'open'>) => {
  const api = useApi(nhiOffboardingApiRef);
  const entityRef = stringifyEntityRef(props.entity);
  const name = props.entity.metadata.name;

  const [mode, setMode] = useState<RetirementMode>('revoke');
  const [daysText, setDaysText] = useState(String(DEFAULT_QUARANTINE_DAYS));
  const [plannedDays, setPlannedDays] = useState<number | undefined>(
    DEFAULT_QUARANTINE_DAYS,
  );
  const [reason, setReason] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<string>();

  const days = validDays(daysText);
  useDebounce(() => setPlannedDays(days), 400, [days]);

  const plan = useAsync(async () => {
    if (mode === 'quarantine' && plannedDays === undefined) {
      return undefined;
    }
    return api.planRetirement(entityRef, {
      mode,
      quarantineDays: mode === 'quarantine' ? plannedDays : undefined,
    });
  }, [api, entityRef, mode, plannedDays]);

  const confirmed = confirmation.trim() === name;
  const canSubmit =
    confirmed &&
    reason.trim().length > 0 &&
    (mode === 'revoke' || days !== undefined) &&
    !!plan.value &&
    !plan.loading &&
    !plan.error &&
    !submitting;

  const submit = async () => {
    setSubmitting(true);
    setSubmitError(undefined);
    try {
      const retirement = await api.startRetirement({
        entityRef,
        mode,
        reason: reason.trim(),
        quarantineDays: mode === 'quarantine' ? days : undefined,
      });
      props.onStarted(retirement);
    } catch (error) {
      setSubmitError(describeError(error));
      setSubmitting(false);
    }
  };

  return (
    <>
      <DialogTitle id="nhi-retire-dialog-title">Retire {name}</DialogTitle>
      <DialogContent dividers>
        <DialogContentText>
          Retiring disables this identity, removes it from what it belongs to,
          revokes its own credentials, rotates the ones it shares, and then asks
          every system whether it still trusts it. Every step is recorded as
          tamper-evident evidence.
        </DialogContentText>

        <FormControl component="fieldset" margin="dense">
          <FormLabel component="legend">Mode</FormLabel>
          <RadioGroup
            aria-label="Mode"
            name="mode"
            value={mode}
            onChange={e => setMode(e.target.value as RetirementMode)}
          >
            <FormControlLabel
              value="revoke"
              control={<Radio />}
              label="Revoke now: act on every trust anchor right away"
            />
            <FormControlLabel
              value="quarantine"
              control={<Radio />}
              label="Quarantine first: disable now, revoke when the quarantine ends (access can be restored until then)"
            />
          </RadioGroup>
        </FormControl>

        {mode === 'quarantine' && (
          <TextField
            id="nhi-retire-days"
            label="Quarantine days"
            type="number"
            value={daysText}
            onChange={e => setDaysText(e.target.value)}
            inputProps={{ min: 1, max: MAX_QUARANTINE_DAYS, step: 1 }}
            error={days === undefined}
            helperText={
              days === undefined
                ? `A whole number of days from 1 to ${MAX_QUARANTINE_DAYS}`
                : 'After this, the credentials are revoked'
            }
            margin="dense"
            style={{ width: 220 }}
          />
        )}

        <TextField
          id="nhi-retire-reason"
          label="Reason"
          value={reason}
          onChange={e => setReason(e.target.value)}
          required
          fullWidth
          multiline
          minRows={2}
          margin="dense"
          helperText="Recorded in the evidence, e.g. the ticket that decommissions it"
        />

        <Box mt={2} minHeight={120} aria-live="polite" aria-busy={plan.loading}>
          <Typography variant="h6" component="h3">
            What will happen
          </Typography>
          {plan.loading && (
            <>
              <LinearProgress aria-label="Loading the plan" />
              <Typography variant="body2" color="textSecondary">
                Working out the plan (nothing is changed yet)…
              </Typography>
            </>
          )}
          {!plan.loading && plan.error && (
            <ResponseErrorPanel
              error={plan.error}
              title="Could not plan the retirement"
            />
          )}
          {!plan.loading && plan.value && (
            <>
              <DiscoveryProblems
                problems={plan.value.problems}
                what="this plan"
              />
              <Typography variant="body2" gutterBottom>
                {plan.value.steps.length === 0
                  ? 'No trust anchors are linked: the retirement only seals the evidence.'
                  : planSummaryText(plan.value.steps)}
              </Typography>
              <PlanView steps={plan.value.steps} />
            </>
          )}
        </Box>

        <Box mt={2}>
          <TextField
            id="nhi-retire-confirm"
            label={`Type ${name} to confirm`}
            value={confirmation}
            onChange={e => setConfirmation(e.target.value)}
            fullWidth
            margin="dense"
            autoComplete="off"
            error={confirmation.length > 0 && !confirmed}
            helperText={
              confirmation.length > 0 && !confirmed
                ? 'Does not match the entity name'
                : 'Retiring cannot be undone once credentials are revoked'
            }
          />
        </Box>
        {submitError && (
          <Box mt={1}>
            <Alert severity="error">{submitError}</Alert>
          </Box>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Cancel</Button>
        <Button
          variant="contained"
          color="secondary"
          disabled={!canSubmit}
          onClick={submit}
        >
          {mode === 'quarantine' ? 'Start quarantine' : `Retire ${name}`}
        </Button>
      </DialogActions>
    </>
  );
};

/**
 * Asks how and why to retire an entity, shows the dry-run plan and starts
 * the retirement once the user typed the entity's name.
 */
export const RetireDialog = (props: RetireDialogProps) => (
  <Dialog
    open={props.open}
    onClose={props.onClose}
    maxWidth="md"
    fullWidth
    aria-labelledby="nhi-retire-dialog-title"
  >
    {props.open && (
      <RetireDialogBody
        entity={props.entity}
        onClose={props.onClose}
        onStarted={props.onStarted}
      />
    )}
  </Dialog>
);
