/** Annotation prefix linking an entity to a provider's anchors: `nhi-offboarding/<providerId>: id1, id2`. */
export const NHI_ANNOTATION_PREFIX = 'nhi-offboarding/';
/** On a catalog credential Resource: the system provider that holds it. */
export const NHI_PROVIDER_ANNOTATION = 'nhi-offboarding/provider';
/** On a catalog credential Resource: the id of the credential in that provider. */
export const NHI_EXTERNAL_ID_ANNOTATION = 'nhi-offboarding/external-id';
/** The plugin id, also the REST API's base path segment. */
export const NHI_PLUGIN_ID = 'nhi-offboarding';
/**
 * Backstage signals channel on which the backend announces that a
 * retirement changed: `nhi-offboarding:retirement:<id>`, message
 * `{ retirementId, seq, kind }`. The message carries no details; clients
 * re-read the retirement through the permission-checked API.
 */
export function nhiRetirementSignalChannel(retirementId: string): string {
  return `nhi-offboarding:retirement:${retirementId}`;
}

/**
 * Default Backstage events topic on which HR, contractor-management or
 * workload-retirement systems ask for a retirement (payload: see
 * RetireEventPayload and the README). Configurable with
 * `nhiOffboarding.triggers.events.topic`.
 */
export const NHI_RETIRE_EVENTS_TOPIC = 'nhi-offboarding.retire';
