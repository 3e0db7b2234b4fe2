/*
 * TEST ONLY entry point: the demo backend of src/index.ts (the same feature
 * list) plus a sign-in provider that signs in any catalog user named in a
 * header, so that one process can serve requests of several users (see
 * e2e/security.test.mjs). Needs `auth.providers.nhi-test` in the config.
 */
import { createBackend } from '@backstage/backend-defaults';
import { usePackageDirectoryAsWorkingDirectory } from '../workingDirectory';
import { addNhiBackendFeatures } from '../features';
import { authModuleTestSignIn } from './testSignInModule';

usePackageDirectoryAsWorkingDirectory();

const backend = createBackend();
addNhiBackendFeatures(backend);
backend.add(authModuleTestSignIn);
backend.start();
