import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  nhiEntityRetirePermission,
  type TriggerFiring,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';
import { TRIGGER_KIND_LABELS, describeError, formatDateTime } from '../common';
import { TextPromptDialog } from '../RetirementProgress/ActionDialogs';

/**
 * Open proposals of retirement triggers for one entity, with Confirm (starts
 * the retirement) and Dismiss. Renders nothing when there are none or they
 * cannot be read: the rest of the Retire tab must not depend on triggers.
 * It is a full-width item of the tab's grid, so nothing takes space when empty.
 */
export const ProposalBanner = (props: {
  entityRef: string;
  /** Called with the firing the backend returned after a confirm. */
  onConfirmed: (firing: TriggerFiring) => void;
}) => {
  const { entityRef, onConfirmed } = props;
  const api = useApi(nhiOffboardingApiRef);
  const permission = usePermission({
    permission: nhiEntityRetirePermission,
    resourceRef: entityRef,
  });
  const proposals = useAsyncRetry(
    () => api.listTriggerFirings({ entityRef, status: 'proposed', limit: 10 }),
    [api, entityRef],
  );
  const [busy, setBusy] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [dismissing, setDismissing] = useState<TriggerFiring>();

  const confirm = async (proposal: TriggerFiring) => {
    setBusy(proposal.id);
    setMessage(undefined);
    try {
      const result = await api.confirmProposal(proposal.id);
      // Confirmed but not started (e.g. a retirement was already active).
      if (result.status !== 'started') {
        setMessage(
          `The retirement was not started (${result.status})${
            result.detail ? `: ${result.detail}` : '.'
          }`,
        );
      }
      proposals.retry();
      onConfirmed(result);
    } catch (error) {
      setMessage(`Confirming failed. ${describeError(error)}`);
    } finally {
      setBusy(undefined);
    }
  };

  const dismiss = async (proposal: TriggerFiring, reason: string) => {
    setMessage(undefined);
    try {
      await api.dismissProposal(proposal.id, reason || undefined);
      proposals.retry();
      return true;
    } catch (error) {
      setMessage(`Dismissing failed. ${describeError(error)}`);
      return false;
    }
  };

  const items = proposals.value ?? [];
  if (items.length === 0 && !message) {
    return null;
  }
  const allowed = !permission.loading && permission.allowed;

  return (
    <Grid
      item
      xs={12}
      component="section"
      aria-label="Proposals from triggers"
      style={{ display: 'flex', flexDirection: 'column', gap: 8 }}
    >
      {items.map(proposal => (
        <Alert
          key={proposal.id}
          severity="info"
          role="region"
          aria-label={`Proposal ${proposal.id}`}
          action={
            <Box display="flex" style={{ gap: 8 }}>
              <Button
                color="secondary"
                variant="contained"
                size="small"
                disabled={!allowed || busy === proposal.id}
                onClick={() => confirm(proposal)}
              >
                Confirm
              </Button>
              <Button
                size="small"
                disabled={!allowed || busy === proposal.id}
                onClick={() => setDismissing(proposal)}
              >
                Dismiss…
              </Button>
            </Box>
          }
        >
          <AlertTitle>
            Proposed by the {TRIGGER_KIND_LABELS[proposal.trigger]} trigger
            {proposal.detail ? `: ${proposal.detail}` : ''}
          </AlertTitle>
          Confirming starts a{' '}
          {proposal.mode === 'quarantine'
            ? `quarantine${
                proposal.quarantineDays
                  ? ` of ${proposal.quarantineDays} days`
                  : ''
              }`
            : 'revoke'}{' '}
          retirement: {proposal.reason}. Proposed{' '}
          {formatDateTime(proposal.createdAt)}.
          {!permission.loading && !permission.allowed && (
            <Typography variant="caption" display="block">
              The permission policy does not give you "
              {nhiEntityRetirePermission.name}" on this entity, so you cannot
              confirm or dismiss it.
            </Typography>
          )}
        </Alert>
      ))}
      {message && (
        <Typography variant="body2" color="error" role="alert">
          {message}
        </Typography>
      )}
      {dismissing && (
        <TextPromptDialog
          title="Dismiss the proposal?"
          description="Nothing is retired. The trigger may propose again when it fires again."
          label="Reason (optional)"
          confirmLabel="Dismiss proposal"
          onConfirm={reason => dismiss(dismissing, reason)}
          onClose={() => setDismissing(undefined)}
        />
      )}
    </Grid>
  );
};
