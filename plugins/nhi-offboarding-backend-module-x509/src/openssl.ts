import { spawn } from 'node:child_process';
import { OpensslError } from './errors';

/** The variable through which the CA key passphrase reaches openssl. */
export const PASSPHRASE_ENV = 'NHI_OFFBOARDING_CA_PASSPHRASE';

export interface OpensslRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs openssl with an argument array (no shell). A passphrase travels in
 * the child's environment only (`-passin env:NHI_OFFBOARDING_CA_PASSPHRASE`),
 * never on the command line. Resolves with any exit code when `allowFailure`;
 * rejects with an {@link OpensslError} (exit code null on timeout/abort)
 * otherwise.
 */
export function runOpenssl(
  binary: string,
  args: string[],
  options: {
    timeoutMs: number;
    signal?: AbortSignal;
    passphrase?: string;
    allowFailure?: boolean;
    redact: (text: string) => string;
  },
): Promise<OpensslRun> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      LANG: 'C',
      LC_ALL: 'C',
    };
    if (options.passphrase !== undefined) {
      env[PASSPHRASE_ENV] = options.passphrase;
    }
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(binary, args, {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: options.signal,
      });
    } catch (err) {
      reject(err);
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', d => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', d => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', err => {
      clearTimeout(timer);
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT') {
        reject(
          new OpensslError(
            `openssl binary not found: ${binary}`,
            127,
            `${binary}: not found (set opensslPath)`,
          ),
        );
      } else if (code === 'ABORT_ERR') {
        reject(new OpensslError('openssl was aborted', null, 'aborted'));
      } else {
        reject(err);
      }
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      const out = {
        stdout,
        stderr: options.redact(stderr),
        exitCode: code ?? -1,
      };
      if (code === 0 || (options.allowFailure && code !== null)) {
        resolve(out);
        return;
      }
      reject(
        new OpensslError(
          `openssl ${args[0]} ${
            code === null ? `was stopped (${sig})` : `exited with ${code}`
          }`,
          code,
          out.stderr,
        ),
      );
    });
  });
}
