import { mockCredentials } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  createPermission,
  Permission,
} from '@backstage/plugin-permission-common';
import { PolicyQueryUser } from '@backstage/plugin-permission-node';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogLocationCreatePermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  nhiAnchorsReadPermission,
  nhiEntityRetirePermission,
  nhiEvidenceReadPermission,
  nhiExceptionApprovePermission,
  nhiLegalHoldPermission,
  nhiOffboardingPermissions,
  nhiPlatformReadPermission,
  nhiRetirementOperatePermission,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { NhiDemoPermissionPolicy } from './NhiDemoPermissionPolicy';

function userOf(userEntityRef: string, groups: string[]): PolicyQueryUser {
  return {
    credentials: mockCredentials.user(userEntityRef),
    info: {
      userEntityRef,
      ownershipEntityRefs: [userEntityRef, ...groups],
    },
  };
}

const platformAdmin = userOf('user:default/priya.sharma', [
  'group:default/platform-team',
]);
const paymentsOwner = userOf('user:default/alice', [
  'group:default/payments-team',
]);
const dataUser = userOf('user:default/dmitri.volkov', [
  'group:default/data-team',
]);

const scaffolderTaskCreate = createPermission({
  name: 'scaffolder.task.create',
  attributes: { action: 'create' },
});

describe('NhiDemoPermissionPolicy', () => {
  const policy = new NhiDemoPermissionPolicy();
  const decide = (permission: Permission, user?: PolicyQueryUser) =>
    policy.handle({ permission }, user);

  it('declares its entity permissions as catalog-entity resource permissions', () => {
    // The conditional decisions below need this; a basic permission cannot be
    // matched by the catalog's isEntityOwner rule.
    expect(nhiEntityRetirePermission).toMatchObject({
      type: 'resource',
      resourceType: 'catalog-entity',
    });
    expect(nhiRetirementOperatePermission).toMatchObject({
      type: 'resource',
      resourceType: 'catalog-entity',
    });
  });

  describe('platform admin (member of group:default/platform-team)', () => {
    it.each(nhiOffboardingPermissions.map(p => [p.name, p] as const))(
      'allows %s unconditionally',
      async (_name, permission) => {
        await expect(decide(permission, platformAdmin)).resolves.toEqual({
          result: AuthorizeResult.ALLOW,
        });
      },
    );

    it('allows catalog and scaffolder permissions', async () => {
      for (const permission of [
        catalogEntityDeletePermission,
        catalogLocationCreatePermission,
        scaffolderTaskCreate,
      ]) {
        await expect(decide(permission, platformAdmin)).resolves.toEqual({
          result: AuthorizeResult.ALLOW,
        });
      }
    });
  });

  describe.each([
    ['payments owner', paymentsOwner],
    ['data-team user', dataUser],
  ])('%s', (_label, user) => {
    it.each([
      [nhiEntityRetirePermission.name, nhiEntityRetirePermission],
      [nhiRetirementOperatePermission.name, nhiRetirementOperatePermission],
    ])(
      'gets a conditional "is entity owner" decision for %s',
      async (_name, permission) => {
        await expect(decide(permission, user)).resolves.toEqual({
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: {
            rule: 'IS_ENTITY_OWNER',
            resourceType: 'catalog-entity',
            params: { claims: user.info.ownershipEntityRefs },
          },
        });
      },
    );

    it.each([
      [nhiLegalHoldPermission.name, nhiLegalHoldPermission],
      [nhiExceptionApprovePermission.name, nhiExceptionApprovePermission],
    ])('is denied %s', async (_name, permission) => {
      await expect(decide(permission, user)).resolves.toEqual({
        result: AuthorizeResult.DENY,
      });
    });

    it.each([
      [nhiAnchorsReadPermission.name, nhiAnchorsReadPermission],
      [nhiEvidenceReadPermission.name, nhiEvidenceReadPermission],
      [nhiPlatformReadPermission.name, nhiPlatformReadPermission],
      [catalogEntityReadPermission.name, catalogEntityReadPermission],
    ])('is allowed to read: %s', async (_name, permission) => {
      await expect(decide(permission, user)).resolves.toEqual({
        result: AuthorizeResult.ALLOW,
      });
    });

    it('is allowed other catalog and scaffolder permissions', async () => {
      for (const permission of [
        catalogEntityDeletePermission,
        catalogLocationCreatePermission,
        scaffolderTaskCreate,
      ]) {
        await expect(decide(permission, user)).resolves.toEqual({
          result: AuthorizeResult.ALLOW,
        });
      }
    });

    it('is denied an NHI Offboarding permission the policy does not know', async () => {
      const future = createPermission({
        name: 'nhi-offboarding.something.new',
        attributes: { action: 'delete' },
      });
      await expect(decide(future, user)).resolves.toEqual({
        result: AuthorizeResult.DENY,
      });
    });
  });

  it('uses only the ownership claims of the user asking', async () => {
    const alice = await decide(nhiEntityRetirePermission, paymentsOwner);
    const dmitri = await decide(nhiEntityRetirePermission, dataUser);
    expect(alice).not.toEqual(dmitri);
    expect(JSON.stringify(alice)).not.toContain('data-team');
    expect(JSON.stringify(dmitri)).not.toContain('payments-team');
  });

  describe('without a user (service principal)', () => {
    it('denies retiring and operating retirements', async () => {
      await expect(decide(nhiEntityRetirePermission)).resolves.toEqual({
        result: AuthorizeResult.DENY,
      });
      await expect(decide(nhiRetirementOperatePermission)).resolves.toEqual({
        result: AuthorizeResult.DENY,
      });
    });

    it('denies legal holds and approvals, allows reads', async () => {
      await expect(decide(nhiLegalHoldPermission)).resolves.toEqual({
        result: AuthorizeResult.DENY,
      });
      await expect(decide(nhiExceptionApprovePermission)).resolves.toEqual({
        result: AuthorizeResult.DENY,
      });
      await expect(decide(nhiEvidenceReadPermission)).resolves.toEqual({
        result: AuthorizeResult.ALLOW,
      });
    });
  });

  describe('with a configured platform group', () => {
    const sre = userOf('user:default/sam', ['group:default/sre']);

    it('treats members of that group as platform admins', async () => {
      const custom = new NhiDemoPermissionPolicy({ platformGroup: 'sre' });
      await expect(
        custom.handle({ permission: nhiLegalHoldPermission }, sre),
      ).resolves.toEqual({ result: AuthorizeResult.ALLOW });
      await expect(
        custom.handle({ permission: nhiLegalHoldPermission }, platformAdmin),
      ).resolves.toEqual({ result: AuthorizeResult.DENY });
    });

    it('compares group refs case-insensitively', async () => {
      const custom = new NhiDemoPermissionPolicy({
        platformGroup: 'Group:default/SRE',
      });
      await expect(
        custom.handle({ permission: nhiExceptionApprovePermission }, sre),
      ).resolves.toEqual({ result: AuthorizeResult.ALLOW });
    });
  });
});
