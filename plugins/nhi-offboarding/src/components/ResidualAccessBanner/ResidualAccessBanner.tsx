import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import type { Entity } from '@backstage/catalog-model';
import type {
  Retirement,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

const RETIRED_LIFECYCLES = ['deprecated', 'retired', 'decommissioned'];
const SHOWN = 5;

/** Why the entity should no longer be trusted, if it shouldn't. */
function retiredBecause(
  entity: Entity,
  lastRetirement?: Retirement,
): string | undefined {
  const lifecycle = (entity.spec as { lifecycle?: unknown } | undefined)
    ?.lifecycle;
  if (
    typeof lifecycle === 'string' &&
    RETIRED_LIFECYCLES.includes(lifecycle.toLocaleLowerCase('en-US'))
  ) {
    return `is ${lifecycle}`;
  }
  if (lastRetirement?.status === 'completed') {
    return 'was retired';
  }
  return undefined;
}

/** True when the banner has something to say. */
export function hasResidualAccess(
  entity: Entity,
  anchors: TrustAnchor[],
  lastRetirement?: Retirement,
): boolean {
  return (
    !!retiredBecause(entity, lastRetirement) &&
    anchors.some(a => a.status === 'active')
  );
}

/**
 * Warns when an entity that should no longer be trusted still has live
 * trust anchors; renders nothing otherwise.
 */
export const ResidualAccessBanner = (props: {
  entity: Entity;
  anchors: TrustAnchor[];
  lastRetirement?: Retirement;
}) => {
  const because = retiredBecause(props.entity, props.lastRetirement);
  const live = props.anchors.filter(a => a.status === 'active');
  if (!because || live.length === 0) {
    return null;
  }
  const name = props.entity.metadata.title ?? props.entity.metadata.name;
  const rest = live.length - SHOWN;
  return (
    <Alert severity="warning" variant="outlined">
      <AlertTitle>Residual access</AlertTitle>
      {name} {because}, but {live.length}{' '}
      {live.length === 1 ? 'credential still works' : 'credentials still work'}:{' '}
      {live
        .slice(0, SHOWN)
        .map(a => a.displayName)
        .join(', ')}
      {rest > 0 ? ` and ${rest} more` : ''}. Retire it to revoke them, or record
      an exception for what must stay.
    </Alert>
  );
};
