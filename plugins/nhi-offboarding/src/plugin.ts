import {
  createPlugin,
  createRoutableExtension,
} from '@backstage/core-plugin-api';
import { entityRetireRouteRef, rootRouteRef } from './routes';

/** @public */
export const nhiOffboardingPlugin = createPlugin({
  id: 'nhi-offboarding',
  routes: { root: rootRouteRef, entityRetire: entityRetireRouteRef },
});

/** The platform page (`/nhi-offboarding`). @public */
export const NhiOffboardingPage = nhiOffboardingPlugin.provide(
  createRoutableExtension({
    name: 'NhiOffboardingPage',
    component: () =>
      import('./components/Placeholder').then(m => m.PlatformPlaceholder),
    mountPoint: rootRouteRef,
  }),
);

/** The Retire tab of an entity page. @public */
export const EntityRetireContent = nhiOffboardingPlugin.provide(
  createRoutableExtension({
    name: 'EntityRetireContent',
    component: () =>
      import('./components/Placeholder').then(m => m.RetirePlaceholder),
    mountPoint: entityRetireRouteRef,
  }),
);
