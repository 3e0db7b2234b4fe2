/*
 * The NHI Offboarding demo backend (new backend system).
 *
 * Relative paths in app-config.yaml (the SQLite directory, the catalog's
 * example files, the demo provider's state files) are relative to this
 * package's folder, the working directory that `backstage-cli repo start`
 * and `backstage-cli package start` use.
 */
import { createBackend } from '@backstage/backend-defaults';
import { usePackageDirectoryAsWorkingDirectory } from './workingDirectory';
import { addNhiBackendFeatures } from './features';

usePackageDirectoryAsWorkingDirectory();

const backend = createBackend();
addNhiBackendFeatures(backend);
backend.start();
