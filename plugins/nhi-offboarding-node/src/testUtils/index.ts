/**
 * Helpers for testing trust-anchor providers against real servers.
 *
 * @packageDocumentation
 */
export * from './getFreePort';
export * from './providerTestKit';
