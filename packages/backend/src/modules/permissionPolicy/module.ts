import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  DEFAULT_PLATFORM_GROUP,
  NhiDemoPermissionPolicy,
} from './NhiDemoPermissionPolicy';

/**
 * Installs {@link NhiDemoPermissionPolicy} as the permission backend's policy.
 * The platform group is read from `nhiOffboarding.demoPolicy.platformGroup`.
 */
export const permissionModuleNhiDemoPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'nhi-demo-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ policy, config, logger }) {
        const platformGroup =
          config.getOptionalString('nhiOffboarding.demoPolicy.platformGroup') ??
          DEFAULT_PLATFORM_GROUP;
        logger.info(
          `NHI Offboarding demo permission policy: ${platformGroup} may do everything; others may retire what they own`,
        );
        policy.setPolicy(new NhiDemoPermissionPolicy({ platformGroup }));
      },
    });
  },
});
