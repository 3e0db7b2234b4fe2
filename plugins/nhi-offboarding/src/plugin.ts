import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { NhiOffboardingClient, nhiOffboardingApiRef } from './api';
import { entityRetireRouteRef, rootRouteRef } from './routes';

/** @public */
export const nhiOffboardingPlugin = createPlugin({
  id: 'nhi-offboarding',
  apis: [
    createApiFactory({
      api: nhiOffboardingApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new NhiOffboardingClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { root: rootRouteRef, entityRetire: entityRetireRouteRef },
});

/**
 * The platform page (`/nhi-offboarding`): retirements, residual access,
 * orphaned anchors and exceptions across the catalog.
 *
 * @public
 */
export const NhiOffboardingPage = nhiOffboardingPlugin.provide(
  createRoutableExtension({
    name: 'NhiOffboardingPage',
    component: () =>
      import('./components/PlatformPage').then(m => m.PlatformPage),
    mountPoint: rootRouteRef,
  }),
);

/**
 * The Retire tab of an entity page (any kind), mounted e.g. at `/retire`
 * inside `EntityLayout`.
 *
 * @public
 */
export const EntityRetireContent = nhiOffboardingPlugin.provide(
  createRoutableExtension({
    name: 'EntityRetireContent',
    component: () =>
      import('./components/EntityRetireContent').then(
        m => m.EntityRetireContent,
      ),
    mountPoint: entityRetireRouteRef,
  }),
);
