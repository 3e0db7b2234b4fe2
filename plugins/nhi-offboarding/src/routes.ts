import { createRouteRef } from '@backstage/core-plugin-api';

/** The platform page. */
export const rootRouteRef = createRouteRef({ id: 'nhi-offboarding' });

/** The Retire tab of an entity page. */
export const entityRetireRouteRef = createRouteRef({
  id: 'nhi-offboarding:entity-retire',
});
