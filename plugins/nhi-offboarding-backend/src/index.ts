/**
 * The NHI Offboarding backend plugin.
 *
 * @packageDocumentation
 */
export { nhiOffboardingPlugin as default } from './plugin';
export {
  PostgresProvider,
  postgresProviderFactory,
} from './providers/postgres';
