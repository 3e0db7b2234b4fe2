/*
 * TEST ONLY. Never add this module to the shipped backend (src/index.ts):
 * it signs in whoever a request header names, without any password.
 */
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthenticator,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';

/** The header that names the catalog user to sign in, e.g. `alice`. */
export const TEST_SIGN_IN_HEADER = 'x-nhi-test-user';

/** The auth provider id: `POST /api/auth/nhi-test/refresh`. */
export const TEST_SIGN_IN_PROVIDER_ID = 'nhi-test';

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

const headerAuthenticator = createProxyAuthenticator({
  defaultProfileTransform: async () => ({ profile: {} }),
  initialize: () => undefined,
  async authenticate({ req }) {
    const name = req.header(TEST_SIGN_IN_HEADER);
    if (!name || !USER_NAME.test(name)) {
      throw new InputError(
        `Name the catalog user to sign in in the ${TEST_SIGN_IN_HEADER} header`,
      );
    }
    return { result: { name } };
  },
});

/**
 * A sign-in provider for tests that need several users in ONE backend
 * process (the authorization matrix): it signs in the catalog user named in
 * the {@link TEST_SIGN_IN_HEADER} header, with that user's catalog groups,
 * exactly as a real provider's catalog sign-in resolver would. It refuses to
 * start when NODE_ENV is production.
 */
export const authModuleTestSignIn = createBackendModule({
  pluginId: 'auth',
  moduleId: 'nhi-test-sign-in',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        logger: coreServices.logger,
      },
      async init({ providers, logger }) {
        if (process.env.NODE_ENV === 'production') {
          throw new NotAllowedError(
            'The test sign-in provider must never run in production',
          );
        }
        logger.warn(
          `TEST ONLY sign-in provider "${TEST_SIGN_IN_PROVIDER_ID}" is active: it signs in any catalog user named in the ${TEST_SIGN_IN_HEADER} header`,
        );
        providers.registerProvider({
          providerId: TEST_SIGN_IN_PROVIDER_ID,
          factory: createProxyAuthProviderFactory<{ name: string }>({
            authenticator: headerAuthenticator,
            async signInResolver({ result }, ctx) {
              return ctx.signInWithCatalogUser({
                entityRef: { kind: 'user', name: result.name },
              });
            },
          }),
        });
      },
    });
  },
});
