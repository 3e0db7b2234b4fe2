/**
 * Frontend of NHI Offboarding: the Retire tab and the platform page.
 *
 * @packageDocumentation
 */
export {
  nhiOffboardingPlugin,
  NhiOffboardingPage,
  EntityRetireContent,
} from './plugin';
