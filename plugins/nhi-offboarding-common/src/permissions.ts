import { createPermission } from '@backstage/plugin-permission-common';
import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';

/*
 * Permissions that concern one entity are catalog-entity resource
 * permissions, so a policy can decide with the catalog's own rules
 * (e.g. isEntityOwner). The others are basic permissions for platform teams.
 */

/** Read the trust anchors of an entity (and re-discover them). @public */
export const nhiAnchorsReadPermission = createPermission({
  name: 'nhi-offboarding.anchors.read',
  attributes: { action: 'read' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Start a retirement of an entity. @public */
export const nhiEntityRetirePermission = createPermission({
  name: 'nhi-offboarding.entity.retire',
  attributes: { action: 'create' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Operate an entity's retirement: cancel, retry, release, attest, request an exception. @public */
export const nhiRetirementOperatePermission = createPermission({
  name: 'nhi-offboarding.retirement.operate',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Read the retirements and evidence of an entity. @public */
export const nhiEvidenceReadPermission = createPermission({
  name: 'nhi-offboarding.evidence.read',
  attributes: { action: 'read' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Place or lift a legal hold. @public */
export const nhiLegalHoldPermission = createPermission({
  name: 'nhi-offboarding.legal-hold.manage',
  attributes: { action: 'update' },
});

/** Approve or reject an exception (never one's own request). @public */
export const nhiExceptionApprovePermission = createPermission({
  name: 'nhi-offboarding.exception.approve',
  attributes: { action: 'update' },
});

/** Read organisation-wide views: all retirements, residual access. @public */
export const nhiPlatformReadPermission = createPermission({
  name: 'nhi-offboarding.platform.read',
  attributes: { action: 'read' },
});

/** @public */
export const nhiOffboardingPermissions = [
  nhiAnchorsReadPermission,
  nhiEntityRetirePermission,
  nhiRetirementOperatePermission,
  nhiEvidenceReadPermission,
  nhiLegalHoldPermission,
  nhiExceptionApprovePermission,
  nhiPlatformReadPermission,
];
