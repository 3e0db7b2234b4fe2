import {
  Entity,
  parseEntityRef,
  RELATION_DEPENDENCY_OF,
  RELATION_DEPENDS_ON,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  NHI_ANNOTATION_PREFIX,
  NHI_EXTERNAL_ID_ANNOTATION,
  NHI_PROVIDER_ANNOTATION,
  TRUST_ANCHOR_KINDS,
  TrustAnchorKind,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { LinkedCredential } from '@nhi-offboarding/plugin-nhi-offboarding-node';

/** A catalog Resource that declares a credential the entity uses. */
export interface CredentialResource {
  ref: string;
  entity: Entity;
  kind: TrustAnchorKind;
  /** Other entities that depend on the same credential. */
  sharedWith: string[];
  /** Set when annotations map it onto a system provider. */
  mappedTo?: { providerId: string; externalId: string };
}

/** Ids listed in `nhi-offboarding/<providerId>: id1, id2`. */
export function annotatedIds(entity: Entity, providerId: string): string[] {
  const value =
    entity.metadata.annotations?.[`${NHI_ANNOTATION_PREFIX}${providerId}`];
  return value
    ? [
        ...new Set(
          value
            .split(',')
            .map(v => v.trim())
            .filter(Boolean),
        ),
      ]
    : [];
}

function isCredentialKind(type: unknown): type is TrustAnchorKind {
  return (
    typeof type === 'string' &&
    (TRUST_ANCHOR_KINDS as readonly string[]).includes(type)
  );
}

/**
 * The credential Resources an entity depends on: `dependsOn` relations to
 * Resources whose spec.type is a trust anchor kind. The catalog writes that
 * relation whether the entity lists the Resource in `dependsOn` or the
 * Resource lists the entity in `dependencyOf`.
 */
export async function credentialResourcesOf(
  entity: Entity,
  catalog: CatalogService,
  credentials: BackstageCredentials,
): Promise<CredentialResource[]> {
  const entityRef = stringifyEntityRef(entity);
  const refs = (entity.relations ?? [])
    .filter(
      r =>
        r.type === RELATION_DEPENDS_ON &&
        parseEntityRef(r.targetRef).kind.toLocaleLowerCase('en-US') ===
          'resource',
    )
    .map(r => r.targetRef);
  if (refs.length === 0) return [];
  const { items } = await catalog.getEntitiesByRefs(
    { entityRefs: [...new Set(refs)] },
    { credentials },
  );
  const resources: CredentialResource[] = [];
  for (const resource of items) {
    if (!resource || !isCredentialKind(resource.spec?.type)) continue;
    const annotations = resource.metadata.annotations ?? {};
    const providerId = annotations[NHI_PROVIDER_ANNOTATION];
    const externalId = annotations[NHI_EXTERNAL_ID_ANNOTATION];
    resources.push({
      ref: stringifyEntityRef(resource),
      entity: resource,
      kind: resource.spec!.type as TrustAnchorKind,
      sharedWith: [
        ...new Set(
          (resource.relations ?? [])
            .filter(
              r =>
                r.type === RELATION_DEPENDENCY_OF && r.targetRef !== entityRef,
            )
            .map(r => r.targetRef),
        ),
      ].sort(),
      mappedTo:
        providerId && externalId ? { providerId, externalId } : undefined,
    });
  }
  return resources;
}

/**
 * What the catalog links to an entity for one system provider: ids from the
 * entity's annotation and credential Resources mapped onto that provider.
 */
export function linkedCredentialsFor(
  providerId: string,
  entity: Entity,
  resources: CredentialResource[],
): LinkedCredential[] {
  const links = new Map<string, LinkedCredential>();
  for (const externalId of annotatedIds(entity, providerId)) {
    links.set(externalId, { externalId, source: 'annotation', sharedWith: [] });
  }
  for (const resource of resources) {
    if (resource.mappedTo?.providerId !== providerId) continue;
    const { externalId } = resource.mappedTo;
    const existing = links.get(externalId);
    links.set(externalId, {
      externalId,
      source: 'catalog-resource',
      resourceRef: resource.ref,
      sharedWith: [
        ...new Set([...(existing?.sharedWith ?? []), ...resource.sharedWith]),
      ].sort(),
    });
  }
  return [...links.values()];
}
