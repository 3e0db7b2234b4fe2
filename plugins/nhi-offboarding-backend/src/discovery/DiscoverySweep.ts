import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import {
  RELATION_DEPENDENCY_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  NHI_ANNOTATION_PREFIX,
  TRUST_ANCHOR_KINDS,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { ProviderRegistry } from '../providers/ProviderRegistry';
import type { AnchorDiscovery } from './AnchorDiscovery';

const REF_FIELDS = ['kind', 'metadata.namespace', 'metadata.name'];

/**
 * Re-discovers, on a schedule, every entity the catalog links to a
 * credential: entities annotated for a system provider and dependents of
 * credential Resources. Residual access and orphans are computed from what
 * discovery stored, so without a sweep they would only know the entities
 * someone happened to open.
 */
export class DiscoverySweep {
  constructor(
    private readonly options: {
      catalog: CatalogService;
      auth: AuthService;
      providers: ProviderRegistry;
      discovery: AnchorDiscovery;
      logger: LoggerService;
    },
  ) {}

  /** Entity refs linked to at least one credential. */
  async linkedEntities(): Promise<string[]> {
    const { catalog, auth, providers } = this.options;
    const credentials = await auth.getOwnServiceCredentials();
    const refs = new Set<string>();
    for (const provider of providers.list().filter(p => !p.manual)) {
      const { items } = await catalog.getEntities(
        {
          filter: {
            [`metadata.annotations.${NHI_ANNOTATION_PREFIX}${provider.id}`]:
              CATALOG_FILTER_EXISTS,
          },
          fields: REF_FIELDS,
        },
        { credentials },
      );
      items.forEach(e => refs.add(stringifyEntityRef(e)));
    }
    const { items: resources } = await catalog.getEntities(
      {
        filter: { kind: 'Resource', 'spec.type': [...TRUST_ANCHOR_KINDS] },
        fields: [...REF_FIELDS, 'relations'],
      },
      { credentials },
    );
    for (const resource of resources) {
      for (const relation of resource.relations ?? []) {
        if (relation.type === RELATION_DEPENDENCY_OF)
          refs.add(relation.targetRef);
      }
    }
    return [...refs].sort();
  }

  /** Discovers every linked entity; one failure does not stop the sweep. */
  async run(): Promise<{ entities: number; anchors: number; failed: number }> {
    const { catalog, auth, discovery, logger } = this.options;
    const credentials = await auth.getOwnServiceCredentials();
    let anchors = 0;
    let failed = 0;
    const refs = await this.linkedEntities();
    for (const ref of refs) {
      try {
        const entity = await catalog.getEntityByRef(ref, { credentials });
        if (!entity) continue;
        anchors += (await discovery.discover(entity)).items.length;
      } catch (error) {
        failed++;
        logger.warn(`Discovery sweep: ${ref} failed: ${error}`);
      }
    }
    return { entities: refs.length, anchors, failed };
  }
}
