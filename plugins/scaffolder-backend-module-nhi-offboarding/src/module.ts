import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createNhiRetireAction } from './retireAction';

/** Adds the `nhi:retire` action to the scaffolder. @public */
export const scaffolderModuleNhiOffboarding = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'nhi-offboarding',
  register(env) {
    env.registerInit({
      deps: {
        actions: scaffolderActionsExtensionPoint,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
      },
      async init({ actions, discovery, auth }) {
        actions.addActions(createNhiRetireAction({ discovery, auth }));
      },
    });
  },
});
