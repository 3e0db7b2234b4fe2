/**
 * The provider interface of NHI Offboarding and the extension point through
 * which backend modules add credential systems.
 *
 * @packageDocumentation
 */
export * from './provider';
export * from './errors';
export * from './extensions';
export * from './redaction';
export * from './providerConfig';
