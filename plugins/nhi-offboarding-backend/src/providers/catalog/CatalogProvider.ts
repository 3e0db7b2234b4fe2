import type { AuthService } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type {
  DiscoverRequest,
  DiscoveredAnchor,
  TrustAnchorProvider,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { credentialResourcesOf } from '../../discovery/catalogLinks';

export const CATALOG_PROVIDER_ID = 'catalog';

/**
 * Credentials declared in the catalog as Resources the entity depends on.
 * No system can act on them, so they are manual anchors: the owner removes
 * the credential and attests. A Resource whose annotations map it onto a
 * configured system provider is left to that provider.
 */
export class CatalogProvider implements TrustAnchorProvider {
  readonly id = CATALOG_PROVIDER_ID;
  readonly type = 'catalog';
  readonly manual = true;

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    private readonly isSystemProvider: (providerId: string) => boolean,
  ) {}

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    const resources = await credentialResourcesOf(
      request.entity,
      this.catalog,
      await this.auth.getOwnServiceCredentials(),
    );
    return resources
      .filter(r => !r.mappedTo || !this.isSystemProvider(r.mappedTo.providerId))
      .map(r => ({
        externalId: r.ref,
        kind: r.kind,
        displayName: r.entity.metadata.title ?? r.entity.metadata.name,
        owner: ownerRef(r.entity.spec?.owner, r.entity.metadata.namespace),
        sharedWith: r.sharedWith,
        scopes: [],
        status: 'active',
      }));
  }
}

/** `team-a` in a Resource's spec.owner means group:<its namespace>/team-a. */
function ownerRef(owner: unknown, namespace?: string): string | undefined {
  if (typeof owner !== 'string' || !owner) return undefined;
  try {
    return stringifyEntityRef(
      parseEntityRef(owner, {
        defaultKind: 'group',
        defaultNamespace: namespace ?? 'default',
      }),
    );
  } catch {
    return undefined;
  }
}
