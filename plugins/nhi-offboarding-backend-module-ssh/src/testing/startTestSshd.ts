/*
 * Test helper: a throwaway OpenSSH sshd on a free loopback port
 * (`sshd -D -f <abs cfg> -E <log>`), with its own host key, an
 * AuthorizedKeysFile and PidFile in a temp folder, LogLevel VERBOSE, and
 * key pairs made with ssh-keygen. Stopped by its own pid.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';

function run(cmd: string, args: string[]) {
  return new Promise<string>((resolve, reject) =>
    execFile(cmd, args, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

export interface TestKey {
  privateKey: string;
  publicLine: string;
  fingerprint: string;
}

export interface TestSshd {
  dir: string;
  port: number;
  logFile: string;
  hostKeyFingerprint: string;
  /** `<dir>/keys/%u` */
  authorizedKeysTemplate: string;
  keysFileOf(user: string): string;
  newKey(comment: string): Promise<TestKey>;
  pid: number;
  stop(): Promise<void>;
}

export function findSshd(): string | undefined {
  return ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find(p => existsSync(p));
}

export async function startTestSshd(): Promise<TestSshd> {
  const sshd = findSshd();
  if (!sshd) throw new Error('sshd not found: apt-get install openssh-server');
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'nhi-sshd-'));
  await mkdir(join(dir, 'keys'));
  const hostKey = join(dir, 'host_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const hostKeyFingerprint = (
    await run('ssh-keygen', ['-lf', `${hostKey}.pub`])
  ).split(' ')[1];
  const logFile = join(dir, 'sshd.log');
  let n = 0;
  const newKey = async (comment: string): Promise<TestKey> => {
    const file = join(dir, `key${++n}`);
    await run('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      comment,
      '-f',
      file,
    ]);
    return {
      privateKey: await readFile(file, 'utf8'),
      publicLine: (await readFile(`${file}.pub`, 'utf8')).trim(),
      fingerprint: (await run('ssh-keygen', ['-lf', `${file}.pub`])).split(
        ' ',
      )[1],
    };
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await getFreePort();
    const cfg = join(dir, 'sshd_config');
    await writeFile(
      cfg,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${dir}/keys/%u`,
        `PidFile ${dir}/sshd.pid`,
        'LogLevel VERBOSE',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        'Subsystem sftp /usr/lib/openssh/sftp-server',
        '',
      ].join('\n'),
    );
    const child: ChildProcess = spawn(sshd, ['-D', '-f', cfg, '-E', logFile], {
      stdio: 'ignore',
    });
    const up = await waitForPort(port, child, 5000);
    if (!up) {
      await stop(child);
      continue;
    }
    return {
      dir,
      port,
      logFile,
      hostKeyFingerprint,
      authorizedKeysTemplate: `${dir}/keys/%u`,
      keysFileOf: user => join(dir, 'keys', user),
      newKey,
      pid: child.pid!,
      async stop() {
        await stop(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error('sshd did not start');
}

async function waitForPort(port: number, child: ChildProcess, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>(resolve => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise(r => setTimeout(r, 25));
  }
  return false;
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
