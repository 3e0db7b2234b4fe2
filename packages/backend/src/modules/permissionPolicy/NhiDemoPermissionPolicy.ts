import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  AuthorizeResult,
  isPermission,
  isResourcePermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';
import {
  nhiAnchorsReadPermission,
  nhiEntityRetirePermission,
  nhiEvidenceReadPermission,
  nhiExceptionApprovePermission,
  nhiLegalHoldPermission,
  nhiPlatformReadPermission,
  nhiRetirementOperatePermission,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/** The group whose members may do everything, unless configured otherwise. */
export const DEFAULT_PLATFORM_GROUP = 'group:default/platform-team';

/** Prefix of every permission of the NHI Offboarding plugins. */
const NHI_PERMISSION_PREFIX = 'nhi-offboarding.';

/** Options of {@link NhiDemoPermissionPolicy}. */
export interface NhiDemoPermissionPolicyOptions {
  /**
   * Entity ref of the platform group, e.g. `group:default/platform-team`
   * (a bare name means a group in the default namespace).
   */
  platformGroup?: string;
}

/**
 * The permission policy of the demo portal.
 *
 * - Members of the platform group may do everything.
 * - Retiring an entity and operating its retirement is allowed on the
 *   entities a user owns (directly or through one of their groups): a
 *   conditional decision that the catalog evaluates with `isEntityOwner`.
 * - Legal holds and exception approvals are for the platform group only.
 * - Reading (catalog, trust anchors, evidence, platform views) is allowed.
 * - Any other NHI Offboarding permission is denied to non-platform users, so
 *   a permission added later is closed until the policy names it.
 * - Every other permission (catalog, scaffolder, ...) is allowed.
 */
export class NhiDemoPermissionPolicy implements PermissionPolicy {
  private readonly platformGroup: string;

  constructor(options: NhiDemoPermissionPolicyOptions = {}) {
    this.platformGroup = stringifyEntityRef(
      parseEntityRef(options.platformGroup ?? DEFAULT_PLATFORM_GROUP, {
        defaultKind: 'group',
        defaultNamespace: 'default',
      }),
    ).toLocaleLowerCase('en-US');
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    const ownershipRefs = user?.info.ownershipEntityRefs ?? [];

    if (this.isPlatformMember(ownershipRefs)) {
      return { result: AuthorizeResult.ALLOW };
    }

    if (
      isPermission(permission, nhiEntityRetirePermission) ||
      isPermission(permission, nhiRetirementOperatePermission)
    ) {
      // Without a signed-in user there is nobody who could own the entity.
      if (
        !user ||
        !isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY)
      ) {
        return { result: AuthorizeResult.DENY };
      }
      return createCatalogConditionalDecision(
        permission,
        catalogConditions.isEntityOwner({ claims: ownershipRefs }),
      );
    }

    if (
      isPermission(permission, nhiLegalHoldPermission) ||
      isPermission(permission, nhiExceptionApprovePermission)
    ) {
      return { result: AuthorizeResult.DENY };
    }

    if (
      isPermission(permission, nhiAnchorsReadPermission) ||
      isPermission(permission, nhiEvidenceReadPermission) ||
      isPermission(permission, nhiPlatformReadPermission)
    ) {
      return { result: AuthorizeResult.ALLOW };
    }

    if (permission.name.startsWith(NHI_PERMISSION_PREFIX)) {
      return { result: AuthorizeResult.DENY };
    }

    return { result: AuthorizeResult.ALLOW };
  }

  private isPlatformMember(ownershipRefs: string[]): boolean {
    return ownershipRefs.some(
      ref => ref.toLocaleLowerCase('en-US') === this.platformGroup,
    );
  }
}
