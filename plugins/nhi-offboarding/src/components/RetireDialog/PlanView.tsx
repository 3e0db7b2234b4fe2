import Box from '@material-ui/core/Box';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemIcon from '@material-ui/core/ListItemIcon';
import ListItemText from '@material-ui/core/ListItemText';
import Typography from '@material-ui/core/Typography';
import type { PlannedStep } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { useProviderLabels } from '../../hooks';
import {
  AnchorKindIcon,
  STEP_ACTION_LABELS,
  StatusChip,
  groupByPhase,
  labelOf,
  summarizePlan,
} from '../common';

/** One sentence saying what a plan does. */
export function planSummaryText(steps: PlannedStep[]): string {
  const s = summarizePlan(steps);
  const parts = [`${s.total} ${s.total === 1 ? 'step' : 'steps'}`];
  if (s.revoked) {
    parts.push(`${s.revoked} revoked`);
  }
  if (s.rotated) {
    parts.push(
      `${s.rotated} rotated instead of revoked because other entities use ${
        s.rotated === 1 ? 'it' : 'them'
      }`,
    );
  }
  if (s.manual) {
    parts.push(
      `${s.manual} manual: no system can act, an owner removes ${
        s.manual === 1 ? 'it' : 'them'
      } and attests`,
    );
  }
  if (s.afterQuarantine) {
    parts.push(`${s.afterQuarantine} wait for the end of the quarantine`);
  }
  return `${parts.join('; ')}.`;
}

const StepChips = ({ step }: { step: PlannedStep }) => (
  <Box
    component="span"
    display="inline-flex"
    flexWrap="wrap"
    style={{ gap: 4 }}
  >
    {step.action === 'rotate' && (
      <StatusChip label="Rotated: shared" tone="info" />
    )}
    {step.action === 'revoke' && <StatusChip label="Revoked" tone="warning" />}
    {step.manual && <StatusChip label="Manual: owner attests" tone="error" />}
    {step.afterQuarantine && (
      <StatusChip label="After quarantine" tone="neutral" />
    )}
  </Box>
);

/** A dry-run plan: its steps grouped by control-chain phase, in order. */
export const PlanView = (props: { steps: PlannedStep[] }) => {
  const providerLabel = useProviderLabels();
  const groups = groupByPhase(props.steps);
  return (
    <Box>
      {groups.map(group => (
        <Box
          key={group.phase}
          component="section"
          aria-label={`Phase ${group.phase}: ${group.title}`}
          mb={1}
        >
          <Typography variant="subtitle2" component="h4">
            Phase {group.phase}: {group.title}
          </Typography>
          <List dense disablePadding>
            {group.steps.map((step, index) => (
              <ListItem
                key={`${step.stage}-${step.action}-${step.anchorId ?? index}`}
                disableGutters
                data-testid="plan-step"
              >
                <ListItemIcon style={{ minWidth: 32 }}>
                  <AnchorKindIcon kind={step.anchorKind} />
                </ListItemIcon>
                <ListItemText
                  disableTypography
                  primary={
                    <Box
                      display="flex"
                      alignItems="center"
                      flexWrap="wrap"
                      style={{ gap: 8 }}
                    >
                      <Typography variant="body2" component="span">
                        <strong>
                          {labelOf(STEP_ACTION_LABELS, step.action)}
                        </strong>
                        {step.anchorName ? ` ${step.anchorName}` : ''}
                        {step.providerId
                          ? ` · ${providerLabel(step.providerId)}`
                          : ''}
                      </Typography>
                      <StepChips step={step} />
                    </Box>
                  }
                  secondary={
                    <Typography variant="caption" color="textSecondary">
                      {step.rationale}
                    </Typography>
                  }
                />
              </ListItem>
            ))}
          </List>
        </Box>
      ))}
    </Box>
  );
};
