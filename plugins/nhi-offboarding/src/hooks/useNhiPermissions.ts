import { usePermission } from '@backstage/plugin-permission-react';
import {
  nhiEntityRetirePermission,
  nhiExceptionApprovePermission,
  nhiLegalHoldPermission,
  nhiRetirementOperatePermission,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/** @public */
export interface PermissionState {
  loading: boolean;
  allowed: boolean;
}

/**
 * What the signed-in user may do with the retirements of one entity. The
 * backend enforces the same permissions; these only shape the UI.
 */
export function useNhiPermissions(entityRef: string | undefined): {
  retire: PermissionState;
  operate: PermissionState;
  legalHold: PermissionState;
  approveExceptions: PermissionState;
} {
  const retire = usePermission({
    permission: nhiEntityRetirePermission,
    resourceRef: entityRef,
  });
  const operate = usePermission({
    permission: nhiRetirementOperatePermission,
    resourceRef: entityRef,
  });
  const legalHold = usePermission({ permission: nhiLegalHoldPermission });
  const approveExceptions = usePermission({
    permission: nhiExceptionApprovePermission,
  });
  const pick = (s: { loading: boolean; allowed: boolean }) => ({
    loading: s.loading,
    allowed: s.allowed,
  });
  return {
    retire: pick(retire),
    operate: pick(operate),
    legalHold: pick(legalHold),
    approveExceptions: pick(approveExceptions),
  };
}
