import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { Permission } from '@backstage/plugin-permission-common';
import { nhiExceptionApprovePermission } from '@nhi-offboarding/plugin-nhi-offboarding-common';

/**
 * Why a service principal (another plugin, or an external caller with a
 * token of `backend.auth.externalAccess`) may not do this, or undefined when
 * it may.
 *
 * Backstage lets service principals past the permission policy: their
 * permissions are only limited by the access restrictions of their token.
 * An unrestricted token would thus retire, hold and approve anything. So:
 * - reading is decided by Backstage (access restrictions, if any);
 * - a change needs a token whose access restrictions name that permission
 *   (an explicit grant in the token's config);
 * - deciding an exception needs a person, never a service: the four-eyes
 *   rule is about two people.
 */
export function refusalForService(
  credentials: BackstageCredentials,
  permission: Permission,
): string | undefined {
  const principal = credentials.principal as {
    type?: string;
    subject?: string;
    accessRestrictions?: { permissionNames?: string[] };
  };
  if (principal.type !== 'service') return undefined;
  if (permission.name === nhiExceptionApprovePermission.name) {
    return `Service ${principal.subject} may not decide exceptions: a person other than the requester must (four-eyes rule)`;
  }
  if (permission.attributes.action === 'read') return undefined;
  const granted = principal.accessRestrictions?.permissionNames ?? [];
  if (granted.includes(permission.name)) return undefined;
  return `Service ${principal.subject} may only read: a change by a service needs a token whose access restrictions name ${permission.name} (backend.auth.externalAccess ... accessRestrictions)`;
}
