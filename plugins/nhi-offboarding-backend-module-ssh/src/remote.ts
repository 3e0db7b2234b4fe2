/*
 * One SSH connection to a host with ssh2: exec, sftp file reads and atomic
 * writes, and a login probe that needs no private key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import {
  BaseAgent,
  Client,
  utils,
  type ConnectConfig,
  type ParsedKey,
  type SFTPWrapper,
} from 'ssh2';
import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

export interface HostTarget {
  host: string;
  port: number;
  hostKeyFingerprint?: string;
}

const NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|Timed out while waiting for handshake|Connection lost|Not connected|No response from server/i;

export function hostLabel(h: HostTarget) {
  return `${h.host}:${h.port}`;
}

export function isNetworkError(err: unknown) {
  const e = err as { code?: unknown; message?: unknown; level?: unknown };
  return (
    e?.level === 'client-socket' ||
    e?.level === 'client-timeout' ||
    (typeof e?.code === 'string' && NETWORK.test(e.code)) ||
    (typeof e?.message === 'string' && NETWORK.test(e.message))
  );
}

/** Opens a connection; maps failures to provider errors. */
export function openConnection(
  target: HostTarget,
  auth: { username: string; privateKey: string; passphrase?: string },
  timeoutMs: number,
): Promise<{ client: Client; hostKey: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKey = '';
    let hostKeyMismatch = false;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: auth.username,
      privateKey: auth.privateKey,
      passphrase: auth.passphrase,
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        hostKey = `SHA256:${createHash('sha256')
          .update(key)
          .digest('base64')
          .replace(/=+$/, '')}`;
        if (
          target.hostKeyFingerprint &&
          hostKey !== target.hostKeyFingerprint
        ) {
          hostKeyMismatch = true;
          return false;
        }
        return true;
      },
    };
    client.once('ready', () => resolve({ client, hostKey }));
    client.once('error', err => {
      client.end();
      const label = hostLabel(target);
      if (hostKeyMismatch) {
        reject(
          new PermanentProviderError(
            `The host key of ${label} is ${hostKey}, not the configured hostKeyFingerprint ${target.hostKeyFingerprint}: refusing to connect (a different host, or its key changed).`,
          ),
        );
      } else if (
        (err as { level?: unknown }).level === 'client-authentication'
      ) {
        reject(
          new PermanentProviderError(
            `${label} refused the provider's admin key for ${auth.username} (${err.message}). Add the admin public key to ${auth.username}'s authorized_keys on that host.`,
          ),
        );
      } else if (/privateKey|passphrase|Cannot parse/i.test(err.message)) {
        reject(
          new PermanentProviderError(
            `The configured admin privateKey cannot be used (wrong format or passphrase).`,
          ),
        );
      } else {
        reject(
          new TransientProviderError(
            `SSH host ${label} is unreachable: ${err.message}`,
          ),
        );
      }
    });
    try {
      client.connect(config);
    } catch (err) {
      reject(
        new PermanentProviderError(
          `The configured admin privateKey cannot be used: ${(
            err as Error
          ).message.replace(/-----BEGIN[\s\S]*/, '')}`,
        ),
      );
    }
  });
}

export function exec(
  client: Client,
  command: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        stream.close();
        reject(
          new TransientProviderError(
            `Remote command did not finish in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      stream.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      stream.on('close', (code: number | null) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  });
}

export function sftpOf(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) =>
    client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))),
  );
}

const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

export function sftpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isNoSuchFile(err: unknown) {
  return sftpCode(err) === SFTP_NO_SUCH_FILE;
}

export function isPermissionDenied(err: unknown) {
  return sftpCode(err) === SFTP_PERMISSION_DENIED;
}

export interface RemoteFile {
  text: string;
  exists: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  size?: number;
}

export async function readRemote(
  sftp: SFTPWrapper,
  path: string,
): Promise<RemoteFile> {
  const attrs = await new Promise<import('ssh2').Stats | undefined>(
    (resolve, reject) =>
      sftp.stat(path, (err, st) => {
        if (!err) resolve(st);
        else if (isNoSuchFile(err)) resolve(undefined);
        else reject(err);
      }),
  );
  if (!attrs) return { text: '', exists: false };
  const data = await new Promise<Buffer>((resolve, reject) =>
    sftp.readFile(path, (err, buf) => (err ? reject(err) : resolve(buf))),
  );
  return {
    text: data.toString('utf8'),
    exists: true,
    mode: attrs.mode & 0o7777,
    uid: attrs.uid,
    gid: attrs.gid,
    mtime: attrs.mtime,
    size: attrs.size,
  };
}

/**
 * Writes next to the file, gives the copy the original's mode and owner,
 * checks that the file did not change since it was read, then renames the
 * copy over it (posix-rename@openssh.com: atomic, replaces the target).
 */
export async function writeRemoteAtomically(
  sftp: SFTPWrapper,
  path: string,
  text: string,
  before: RemoteFile,
): Promise<void> {
  const tmp = posix.join(
    posix.dirname(path),
    `.${posix.basename(path)}.nhi-offboarding-${randomBytes(6).toString(
      'hex',
    )}`,
  );
  const call = (fn: (cb: (err?: Error | null) => void) => void) =>
    new Promise<void>((resolve, reject) =>
      fn(err => (err ? reject(err) : resolve())),
    );
  await call(cb =>
    sftp.writeFile(tmp, text, { mode: before.mode ?? 0o600 }, cb as any),
  );
  try {
    await call(cb =>
      sftp.setstat(tmp, { mode: before.mode ?? 0o600 }, cb as any),
    );
    if (before.uid !== undefined && before.gid !== undefined) {
      await call(cb =>
        sftp.setstat(tmp, { uid: before.uid!, gid: before.gid! }, cb as any),
      ).catch(() => undefined); // only root may chown; the mode is what sshd checks most
    }
    const now = await readRemote(sftp, path);
    if (now.text !== before.text) {
      throw new TransientProviderError(
        `${path} changed while it was being edited; try again.`,
      );
    }
    await call(cb => sftp.ext_openssh_rename(tmp, path, cb as any));
  } catch (err) {
    await call(cb => sftp.unlink(tmp, cb as any)).catch(() => undefined);
    throw err;
  }
}

/**
 * Asks sshd whether it would accept a public key for the user, without the
 * private key: the client offers the key without a signature (RFC 4252
 * 7); sshd answers PK_OK when it would accept it, and only then would a
 * signature be needed. The agent below records that and refuses to sign,
 * so the login never completes.
 */
export function probePublicKey(
  target: HostTarget,
  username: string,
  publicKey: string,
  timeoutMs: number,
): Promise<{ accepted: boolean; message: string }> {
  const parsed = utils.parseKey(publicKey);
  if (parsed instanceof Error) {
    return Promise.reject(
      new PermanentProviderError(`Not an SSH public key: ${parsed.message}`),
    );
  }
  const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
  let accepted = false;
  class ProbeAgent extends BaseAgent<ParsedKey> {
    getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void) {
      cb(undefined, [key]);
    }
    sign(_k: ParsedKey, _d: Buffer, _o: unknown, cb?: (err?: Error) => void) {
      accepted = true;
      (cb ?? (_o as (err?: Error) => void))(
        new Error('probe only: no signature'),
      );
    }
  }
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const finish = (r: { accepted: boolean; message: string } | Error) => {
      if (settled) return;
      settled = true;
      client.end();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    client.on('error', err => {
      if ((err as { level?: unknown }).level === 'agent') return; // our refusal
      if ((err as { level?: unknown }).level === 'client-authentication') {
        finish({
          accepted,
          message: accepted
            ? `sshd offered to accept the key (PK_OK); the probe did not sign`
            : err.message,
        });
        return;
      }
      finish(
        new TransientProviderError(
          `SSH host ${hostLabel(target)} is unreachable: ${err.message}`,
        ),
      );
    });
    client.on('ready', () =>
      finish({ accepted: true, message: 'logged in without a signature?!' }),
    );
    client.connect({
      host: target.host,
      port: target.port,
      username,
      agent: new ProbeAgent() as any,
      readyTimeout: timeoutMs,
      hostVerifier: (hostKey: Buffer) =>
        !target.hostKeyFingerprint ||
        `SHA256:${createHash('sha256')
          .update(hostKey)
          .digest('base64')
          .replace(/=+$/, '')}` === target.hostKeyFingerprint,
      tryKeyboard: false,
    });
  });
}
