export { permissionModuleNhiDemoPolicy as default } from './module';
export {
  NhiDemoPermissionPolicy,
  DEFAULT_PLATFORM_GROUP,
} from './NhiDemoPermissionPolicy';
export type { NhiDemoPermissionPolicyOptions } from './NhiDemoPermissionPolicy';
