import type { createBackend } from '@backstage/backend-defaults';

type Backend = ReturnType<typeof createBackend>;

/**
 * The features of the NHI Offboarding demo backend, in one list so that the
 * shipped entry point (index.ts) and the test entry point
 * (testing/startWithTestSignIn.ts) run exactly the same backend.
 */
export function addNhiBackendFeatures(backend: Backend): void {
  // Sign-in: the guest provider signs in as a real catalog user (see
  // auth.providers.guest in app-config.yaml); development only.
  backend.add(import('@backstage/plugin-auth-backend'));
  backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

  // Catalog: the example organisation, systems and credentials in examples/.
  backend.add(import('@backstage/plugin-catalog-backend'));
  // Template entities, for the scaffolder below.
  backend.add(
    import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
  );

  // Permissions, decided by the demo policy in ./modules/permissionPolicy.
  backend.add(import('@backstage/plugin-permission-backend'));
  backend.add(import('./modules/permissionPolicy'));

  // Signals: live updates of the Retire tab.
  backend.add(import('@backstage/plugin-signals-backend'));

  // Notifications: owners and approvers hear of retirements, drift, exceptions.
  backend.add(import('@backstage/plugin-notifications-backend'));

  // Scaffolder, with the `nhi:retire` action: templates can retire what
  // other templates created (see examples/templates/).
  backend.add(import('@backstage/plugin-scaffolder-backend'));
  backend.add(
    import('@nhi-offboarding/plugin-scaffolder-backend-module-nhi-offboarding'),
  );

  // NHI Offboarding and its simulated `demo` credential provider.
  backend.add(import('@nhi-offboarding/plugin-nhi-offboarding-backend'));
  backend.add(import('./modules/demoProvider'));
  // Real credential systems: MySQL/MariaDB accounts, Redis ACL users, LDAP
  // service accounts, OAuth 2.0 / OIDC clients, X.509 client certificates of
  // an OpenSSL CA, SSH keys in authorized_keys. Each is used by the
  // nhiOffboarding.providers entries of its type (see each module's README).
  backend.add(
    import('@nhi-offboarding/plugin-nhi-offboarding-backend-module-mysql'),
  );
  backend.add(
    import('@nhi-offboarding/plugin-nhi-offboarding-backend-module-redis'),
  );
  backend.add(
    import('@nhi-offboarding/plugin-nhi-offboarding-backend-module-ldap'),
  );
  backend.add(
    import('@nhi-offboarding/plugin-nhi-offboarding-backend-module-oauth'),
  );
  backend.add(
    import('@nhi-offboarding/plugin-nhi-offboarding-backend-module-x509'),
  );
  backend.add(
    import('@nhi-offboarding/plugin-nhi-offboarding-backend-module-ssh'),
  );
}
