import { createRouteRef } from '@backstage/core-plugin-api';

export const rootRouteRef = createRouteRef({ id: 'nhi-offboarding' });
export const entityRetireRouteRef = createRouteRef({ id: 'nhi-offboarding:entity-retire' });
