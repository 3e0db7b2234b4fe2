import path from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { usePackageDirectoryAsWorkingDirectory } from './workingDirectory';

describe('usePackageDirectoryAsWorkingDirectory', () => {
  const packageDir = resolvePackagePath('backend');
  const repoRoot = path.resolve(packageDir, '../..');
  const originalCwd = process.cwd();
  afterEach(() => process.chdir(originalCwd));

  it('moves to packages/backend and keeps --config paths pointing at the same files', () => {
    process.chdir(repoRoot);
    const argv = [
      '/usr/bin/node',
      path.join(repoRoot, 'packages/backend/src/index.ts'),
      '--config',
      'app-config.yaml',
      '--config=app-config.platform-admin.yaml',
      '--config',
      'https://config.example/app-config.yaml',
    ];
    usePackageDirectoryAsWorkingDirectory(argv);

    expect(process.cwd()).toBe(packageDir);
    expect(argv.slice(2)).toEqual([
      '--config',
      path.join(repoRoot, 'app-config.yaml'),
      `--config=${path.join(repoRoot, 'app-config.platform-admin.yaml')}`,
      '--config',
      'https://config.example/app-config.yaml',
    ]);
  });

  it('does nothing when the entry point is not this package source (e.g. a bundle)', () => {
    process.chdir(repoRoot);
    const argv = [
      '/usr/bin/node',
      '/app/packages/backend/dist/index.cjs.js',
      '--config',
      'x.yaml',
    ];
    usePackageDirectoryAsWorkingDirectory(argv);

    expect(process.cwd()).toBe(repoRoot);
    expect(argv[3]).toBe('x.yaml');
  });

  it('does nothing when already in packages/backend', () => {
    process.chdir(packageDir);
    const argv = [
      '/usr/bin/node',
      path.join(packageDir, 'src/index'),
      '--config',
      '../../app-config.yaml',
    ];
    usePackageDirectoryAsWorkingDirectory(argv);

    expect(argv[3]).toBe('../../app-config.yaml');
  });
});
