import { useCallback } from 'react';
import { Link } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import {
  entityRouteParams,
  entityRouteRef,
  humanizeEntityRef,
} from '@backstage/plugin-catalog-react';
import { parseEntityRef } from '@backstage/catalog-model';

/** The path of the Retire tab below an entity page. */
export const DEFAULT_RETIRE_TAB_PATH = 'retire';

/** Builds links to an entity's Retire tab. */
export function useRetireTabHref(
  tabPath: string = DEFAULT_RETIRE_TAB_PATH,
): (entityRef: string) => string {
  const entityRoute = useRouteRef(entityRouteRef);
  return useCallback(
    (entityRef: string) =>
      `${entityRoute(entityRouteParams(entityRef))}/${tabPath}`,
    [entityRoute, tabPath],
  );
}

/** A short, readable entity ref ("component:payments" in the default namespace). */
export function shortEntityRef(entityRef: string): string {
  try {
    return humanizeEntityRef(parseEntityRef(entityRef));
  } catch {
    return entityRef;
  }
}

/** The entity's name, linking to its Retire tab. */
export const RetireTabLink = (props: {
  entityRef: string;
  tabPath?: string;
}) => {
  const href = useRetireTabHref(props.tabPath);
  return (
    <Link to={href(props.entityRef)}>{shortEntityRef(props.entityRef)}</Link>
  );
};
