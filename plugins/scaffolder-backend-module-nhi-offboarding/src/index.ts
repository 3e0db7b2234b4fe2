/**
 * Scaffolder module of NHI Offboarding: the `nhi:retire` action.
 *
 * @packageDocumentation
 */
export { scaffolderModuleNhiOffboarding as default } from './module';
export { createNhiRetireAction } from './retireAction';
