import { mockCredentials } from '@backstage/backend-test-utils';
import {
  nhiEntityRetirePermission,
  nhiEvidenceReadPermission,
  nhiExceptionApprovePermission,
  nhiLegalHoldPermission,
  nhiRetirementOperatePermission,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { refusalForService } from './serviceCallers';

describe('refusalForService', () => {
  const unrestricted = mockCredentials.service('external:matrix-ci');
  const grantedRetire = mockCredentials.service('external:retire-bot', {
    permissionNames: [
      nhiEntityRetirePermission.name,
      nhiExceptionApprovePermission.name,
    ],
  });

  it('leaves users to the permission policy', () => {
    for (const p of [
      nhiEntityRetirePermission,
      nhiExceptionApprovePermission,
    ]) {
      expect(refusalForService(mockCredentials.user(), p)).toBeUndefined();
    }
  });

  it('lets services read', () => {
    expect(
      refusalForService(unrestricted, nhiEvidenceReadPermission),
    ).toBeUndefined();
  });

  it('refuses changes by a service whose token does not name the permission', () => {
    for (const p of [
      nhiEntityRetirePermission,
      nhiRetirementOperatePermission,
      nhiLegalHoldPermission,
    ]) {
      expect(refusalForService(unrestricted, p)).toMatch(
        new RegExp(`may only read.*${p.name.replace(/\./g, '\\.')}`),
      );
    }
    expect(
      refusalForService(grantedRetire, nhiRetirementOperatePermission),
    ).toMatch(/may only read/);
  });

  it('allows a change that the token explicitly grants', () => {
    expect(
      refusalForService(grantedRetire, nhiEntityRetirePermission),
    ).toBeUndefined();
  });

  it('never lets a service decide an exception, even when granted', () => {
    expect(
      refusalForService(grantedRetire, nhiExceptionApprovePermission),
    ).toMatch(/four-eyes/);
  });
});
