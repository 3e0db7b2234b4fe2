/**
 * Types and permissions shared by the NHI Offboarding frontend and backend.
 *
 * @packageDocumentation
 */
export * from './types';
export * from './permissions';
export * from './constants';
