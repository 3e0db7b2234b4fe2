import path from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';

/**
 * Makes relative paths in the config mean the same wherever the backend is
 * started from, by switching the working directory to this package's folder
 * (where the Backstage CLI starts it anyway). `--config` arguments are made
 * absolute first so they keep pointing at the same files.
 *
 * Only when running from source (the entry script is in this package's
 * src/), never in a bundled production image, whose working directory is
 * chosen by its Dockerfile.
 */
export function usePackageDirectoryAsWorkingDirectory(
  argv: string[] = process.argv,
): void {
  const packageDir = resolvePackagePath('backend');
  const entry = argv[1] ? path.resolve(argv[1]) : '';
  const runningFromSource = entry.startsWith(
    path.join(packageDir, 'src') + path.sep,
  );
  if (!runningFromSource || path.resolve(process.cwd()) === packageDir) {
    return;
  }
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--config' && i + 1 < argv.length) {
      argv[i + 1] = absoluteConfigPath(argv[i + 1]);
      i++;
    } else if (arg.startsWith('--config=')) {
      argv[i] = `--config=${absoluteConfigPath(arg.slice('--config='.length))}`;
    }
  }
  process.chdir(packageDir);
}

function absoluteConfigPath(value: string): string {
  // Remote configs (URLs) stay as they are.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : path.resolve(value);
}
