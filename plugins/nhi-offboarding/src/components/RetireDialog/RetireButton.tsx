import { useState } from 'react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  nhiEntityRetirePermission,
  type Retirement,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RETIREMENT_STATUS_LABELS, labelOf, shortEntityRef } from '../common';
import { RetireDialog } from './RetireDialog';

/** Why the user cannot retire the entity now, if they cannot. */
function blockedBecause(
  entity: Entity,
  permission: { loading: boolean; allowed: boolean },
  active?: Retirement,
): string | undefined {
  if (permission.loading) {
    return undefined;
  }
  if (!permission.allowed) {
    const owner = (entity.spec as { owner?: unknown } | undefined)?.owner;
    const ask =
      typeof owner === 'string' && owner
        ? `Ask its owner (${shortEntityRef(owner)}) or your platform team.`
        : 'Ask your platform team.';
    return `You can't retire ${entity.metadata.name}: the permission policy does not give you "${nhiEntityRetirePermission.name}" on it. ${ask}`;
  }
  if (active) {
    return `A retirement is in progress (${labelOf(
      RETIREMENT_STATUS_LABELS,
      active.status,
    ).toLocaleLowerCase('en-US')}); finish or cancel it first.`;
  }
  return undefined;
}

/**
 * "Retire…": opens the retire dialog for users the permission policy
 * allows, and says why not to everybody else.
 */
export const RetireButton = (props: {
  entity: Entity;
  activeRetirement?: Retirement;
  onStarted: (retirement: Retirement) => void;
}) => {
  const entityRef = stringifyEntityRef(props.entity);
  const permission = usePermission({
    permission: nhiEntityRetirePermission,
    resourceRef: entityRef,
  });
  const [open, setOpen] = useState(false);
  const blocked = blockedBecause(
    props.entity,
    permission,
    props.activeRetirement,
  );
  const disabled = permission.loading || !!blocked;

  return (
    <Box display="flex" flexDirection="column" alignItems="flex-end">
      <Button
        variant="contained"
        color="secondary"
        disabled={disabled}
        onClick={() => setOpen(true)}
        aria-describedby={blocked ? 'nhi-retire-blocked' : undefined}
      >
        Retire…
      </Button>
      {blocked && (
        <Typography
          id="nhi-retire-blocked"
          variant="caption"
          color="textSecondary"
          style={{ maxWidth: 360, textAlign: 'right' }}
        >
          {blocked}
        </Typography>
      )}
      <RetireDialog
        open={open}
        entity={props.entity}
        onClose={() => setOpen(false)}
        onStarted={retirement => {
          setOpen(false);
          props.onStarted(retirement);
        }}
      />
    </Box>
  );
};
