import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  PermanentProviderError,
  TransientProviderError,
  type ActionContext,
  type ActionResult,
  type DiscoverRequest,
  type DiscoveredAnchor,
  type ProviderLimits,
  type TrustAnchorProvider,
  type TrustAnchorProviderFactory,
  type VerifyResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { utils, type Client, type SFTPWrapper } from 'ssh2';
import {
  acceptedLogins,
  editKeys,
  keyFingerprint,
  keyLines,
  normalizeFingerprint,
  shellQuote,
  splitLines,
  type Edit,
} from './authorizedKeys';
import type { SshProviderConfig } from './config';
import {
  exec,
  hostLabel,
  isPermissionDenied,
  openConnection,
  probePublicKey,
  readRemote,
  sftpOf,
  writeRemoteAtomically,
  type HostTarget,
} from './remote';
import {
  readSshProviderConfig,
  resolveSshConfig,
  type ResolvedSshConfig,
} from './readConfig';

/** Options of {@link SshProvider}. @public */
export interface SshProviderOptions {
  config: SshProviderConfig;
  logger: LoggerService;
}

type Host = ResolvedSshConfig['hosts'][number];

interface Session {
  client: Client;
  sftp: SFTPWrapper;
  hostKey: string;
}

/** Where a key was found. */
interface Location {
  host: string;
  account: string;
  file: string;
  active: number;
  disabled: number;
  comments: string[];
}

/** A key id: `SHA256:...` or a public key `type base64 [comment]`. */
function parseKeyId(
  externalId: string,
): { fingerprint: string; publicKey?: string } | undefined {
  const fp = normalizeFingerprint(externalId);
  if (fp) return { fingerprint: fp };
  const [type, b64] = externalId.trim().split(/\s+/);
  if (!type || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) return undefined;
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 16) return undefined;
  return { fingerprint: keyFingerprint(blob), publicKey: `${type} ${b64}` };
}

function refForms(entityRef: string): string[] {
  const ref = entityRef.toLowerCase();
  const forms = [ref];
  const short = /^([^:]+):default\/(.+)$/.exec(ref);
  if (short) forms.push(`${short[1]}:${short[2]}`);
  return forms;
}

function commentNames(comment: string, forms: string[]) {
  return comment
    .toLowerCase()
    .split(/\s+/)
    .some(w => forms.includes(w.replace(/^backstage:/, '')));
}

function statusOf(active: number, disabled: number) {
  if (active > 0) return 'active' as const;
  return disabled > 0 ? ('disabled' as const) : ('revoked' as const);
}

const TOKENS: Record<string, string> = { '%': '%' };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * SSH public keys in the authorized_keys files of configured accounts on
 * configured hosts as trust anchors (kind `ssh-key`, one per key: the
 * actions act on every host and account where the key is).
 * @public
 */
export class SshProvider implements TrustAnchorProvider {
  readonly type = 'ssh';
  readonly id: string;
  readonly limits: ProviderLimits;

  private readonly options: ResolvedSshConfig;
  private readonly logger: LoggerService;
  /** Public keys seen in the files, by fingerprint (not secret). */
  private readonly publicKeys = new Map<string, string>();
  private readonly adminFingerprint?: string;

  static fromConfig(
    config: Config,
    options: { id?: string; logger: LoggerService },
  ): SshProvider {
    return new SshProvider({
      config: readSshProviderConfig(config, options.id),
      logger: options.logger,
    });
  }

  constructor(options: SshProviderOptions) {
    this.options = resolveSshConfig(options.config);
    this.id = this.options.id;
    this.logger = options.logger.child({
      provider: this.id,
      providerType: 'ssh',
    });
    this.limits = {
      concurrency: this.options.concurrency,
      propagationWindowMs: 0,
    };
    try {
      const parsed = utils.parseKey(
        this.options.privateKey,
        this.options.passphrase,
      );
      if (!(parsed instanceof Error)) {
        const key = Array.isArray(parsed) ? parsed[0] : parsed;
        this.adminFingerprint = keyFingerprint(key.getPublicSSH());
      }
    } catch {
      // checked when connecting
    }
    for (const h of this.options.hosts) {
      if (!h.hostKeyFingerprint) {
        this.logger.warn(
          `ssh provider ${this.id}: no hostKeyFingerprint for ${h.host}:${h.port}; any host key is accepted and recorded`,
        );
      }
    }
  }

  // ---------------------------------------------------------------- discover

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    const forms = refForms(request.entityRef);
    const wanted = new Map<
      string,
      { externalId: string; sharedWith: string[] }
    >();
    const anchors: DiscoveredAnchor[] = [];
    for (const link of request.linked) {
      const id = parseKeyId(link.externalId);
      if (!id) {
        anchors.push({
          externalId: link.externalId,
          kind: 'ssh-key',
          displayName: `SSH key "${link.externalId}" (not a SHA256: fingerprint or a public key)`,
          sharedWith: link.sharedWith,
          status: 'unknown',
        });
        continue;
      }
      if (id.publicKey) this.publicKeys.set(id.fingerprint, id.publicKey);
      if (!wanted.has(id.fingerprint)) {
        wanted.set(id.fingerprint, {
          externalId: link.externalId,
          sharedWith: link.sharedWith,
        });
      }
    }
    const found = new Map<string, Location[]>();
    const byComment = new Set<string>();
    for (const host of this.options.hosts) {
      await this.withHost(
        host,
        `discover the keys of ${request.entityRef}`,
        async s => {
          for (const account of host.accounts) {
            const file = await this.keysFile(s, host, account);
            const content = await this.read(s, host, file);
            for (const line of splitLines(content.text)) {
              const parsed = keyLines(line)[0];
              if (!parsed) continue;
              const fp = parsed.fingerprint;
              const named =
                !parsed.disabled && commentNames(parsed.comment, forms);
              if (
                !wanted.has(fp) &&
                !named &&
                !(parsed.disabled && commentNames(parsed.comment, forms))
              )
                continue;
              if (!wanted.has(fp)) byComment.add(fp);
              this.rememberKey(line, fp);
              const list = found.get(fp) ?? [];
              let loc = list.find(
                l => l.host === hostLabel(host) && l.account === account,
              );
              if (!loc) {
                loc = {
                  host: hostLabel(host),
                  account,
                  file,
                  active: 0,
                  disabled: 0,
                  comments: [],
                };
                list.push(loc);
              }
              if (parsed.disabled) loc.disabled++;
              else loc.active++;
              if (parsed.comment && !loc.comments.includes(parsed.comment))
                loc.comments.push(parsed.comment);
              found.set(fp, list);
            }
          }
        },
      );
    }
    const describe = (
      fp: string,
      externalId: string,
      sharedWith: string[],
      viaComment: boolean,
    ): DiscoveredAnchor => {
      const locs = found.get(fp) ?? [];
      const active = locs.reduce((n, l) => n + l.active, 0);
      const disabled = locs.reduce((n, l) => n + l.disabled, 0);
      return {
        externalId,
        kind: 'ssh-key',
        displayName: `SSH key ${fp}${
          locs[0]?.comments[0] ? ` (${locs[0].comments[0]})` : ''
        } ${
          locs.length
            ? `in ${locs.map(l => `${l.account}@${l.host}`).join(', ')}`
            : 'in no managed authorized_keys'
        }${viaComment ? ' (found by its comment)' : ''}`,
        fingerprint: fp,
        scopes: locs.map(l => `${l.account}@${l.host}`),
        sharedWith,
        status: statusOf(active, disabled),
      };
    };
    for (const [fp, w] of wanted)
      anchors.push(describe(fp, w.externalId, w.sharedWith, false));
    for (const fp of byComment) {
      anchors.push(describe(fp, this.publicKeys.get(fp) ?? fp, [], true));
    }
    return anchors;
  }

  // ----------------------------------------------------------------- actions

  /** Comments the key's lines out (`#nhi-offboarding-disabled `): sshd ignores them. */
  async disable(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    return this.editAll(anchor, ctx, 'disable');
  }

  /** Restores the lines `disable` commented out, byte for byte. */
  async enable(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    return this.editAll(anchor, ctx, 'enable');
  }

  /** Removes every line of the key (active or disabled); other lines stay byte for byte. */
  async revoke(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    return this.editAll(anchor, ctx, 'remove');
  }

  /**
   * Ends the sessions that authenticated with the key: sshd's log names the
   * client address and port of each, `ss -tnp` the session processes.
   */
  async terminateSessions(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { fingerprint } = this.keyOf(anchor);
    const logFile = this.options.sshdLogFile;
    if (!logFile) {
      throw new PermanentProviderError(
        'terminateSessions needs sshdLogFile (sshd\'s log on the hosts, with its "Accepted publickey" lines) to know which sessions used the key.',
      );
    }
    const perHost: Array<Record<string, unknown>> = [];
    for (const host of this.options.hosts) {
      await this.withHost(
        host,
        `end the sessions of key ${fingerprint}`,
        async s => {
          const log = await exec(
            s.client,
            `tail -c ${this.options.sshdLogMaxBytes} ${shellQuote(logFile)}`,
            this.options.commandTimeoutMs,
          );
          if (log.code !== 0) {
            throw new PermanentProviderError(
              `Cannot read ${logFile} on ${hostLabel(
                host,
              )}: ${log.stderr.trim()}. The admin account needs read access to sshd's log.`,
            );
          }
          const logins = acceptedLogins(log.stdout, fingerprint);
          const { pids, connections } = await this.sessionProcesses(
            s,
            host,
            logins,
          );
          for (const pid of pids) {
            await exec(
              s.client,
              `kill -TERM ${pid}`,
              this.options.commandTimeoutMs,
            );
          }
          // Wait until the connections are gone; then SIGKILL what is left.
          let left = pids;
          for (let i = 0; i < 20 && left.length > 0; i++) {
            await new Promise(r => setTimeout(r, 100));
            left = (await this.sessionProcesses(s, host, logins)).pids;
          }
          for (const pid of left) {
            await exec(
              s.client,
              `kill -KILL ${pid}`,
              this.options.commandTimeoutMs,
            );
          }
          perHost.push({
            host: hostLabel(host),
            loginsInLog: logins.length,
            openConnections: connections,
            processesSignalled: pids,
            neededSigkill: left,
          });
        },
      );
    }
    const seen = perHost.reduce((n, h) => n + (h.openConnections as number), 0);
    const killed = perHost.reduce(
      (n, h) => n + (h.processesSignalled as number[]).length,
      0,
    );
    const result: ActionResult = {
      changed: killed > 0,
      detail:
        killed > 0
          ? `Ended ${plural(
              seen,
              'session',
            )} that logged in with key ${fingerprint} (${plural(
              killed,
              'process',
            )} signalled).`
          : `No open session that logged in with key ${fingerprint} was found (sshd's log names its logins; none of them is still connected).`,
      observed: { fingerprint, sshdLogFile: logFile, hosts: perHost },
    };
    ctx.logger.info(`ssh terminateSessions: ${result.detail}`);
    return result;
  }

  // ------------------------------------------------------------------ verify

  async verify(
    anchor: TrustAnchor,
    _ctx: ActionContext,
  ): Promise<VerifyResult> {
    const checkedAt = new Date().toISOString();
    let key: { fingerprint: string; publicKey?: string };
    try {
      key = this.keyOf(anchor);
    } catch (err) {
      return {
        outcome: 'unknown',
        detail: (err as Error).message,
        observed: { checkedAt },
      };
    }
    const observed: Record<string, unknown> = {
      fingerprint: key.fingerprint,
      checkedAt,
    };
    const locations: Array<Record<string, unknown>> = [];
    const probes: Array<Record<string, unknown>> = [];
    observed.locations = locations;
    observed.loginProbes = probes;
    let accepted = 0;
    try {
      for (const host of this.options.hosts) {
        await this.withHost(host, `verify key ${key.fingerprint}`, async s => {
          for (const account of host.accounts) {
            const file = await this.keysFile(s, host, account);
            const content = await this.read(s, host, file);
            let active = 0;
            let disabled = 0;
            for (const line of splitLines(content.text)) {
              const parsed = keyLines(line)[0];
              if (!parsed || parsed.fingerprint !== key.fingerprint) continue;
              this.rememberKey(line, key.fingerprint);
              if (parsed.disabled) disabled++;
              else active++;
            }
            locations.push({
              host: hostLabel(host),
              account,
              file,
              activeLines: active,
              disabledLines: disabled,
            });
          }
        });
        const publicKey = key.publicKey ?? this.publicKeys.get(key.fingerprint);
        if (publicKey) {
          for (const account of host.accounts) {
            const probe = await probePublicKey(
              host,
              account,
              publicKey,
              this.options.connectTimeoutMs,
            );
            if (probe.accepted) accepted++;
            probes.push({
              host: hostLabel(host),
              account,
              accepted: probe.accepted,
              answer: probe.message,
            });
          }
        }
      }
    } catch (err) {
      return {
        outcome: 'unknown',
        detail: `Could not verify key ${key.fingerprint}: ${
          (err as Error).message
        }`,
        observed,
      };
    }
    const present = locations.reduce(
      (n, l) => n + (l.activeLines as number),
      0,
    );
    const probed = probes.length > 0;
    if (present === 0 && accepted === 0) {
      return {
        outcome: 'untrusted',
        detail: `Key ${key.fingerprint} is in no managed authorized_keys file${
          probed
            ? ` and sshd refuses it for every managed account ("All configured authentication methods failed")`
            : ' (no login probe: the public key is not known to this backend, only its fingerprint)'
        }.`,
        observed,
      };
    }
    return {
      outcome: 'trusted',
      detail: `Key ${key.fingerprint} is still trusted: ${plural(
        present,
        'active authorized_keys line',
      )}${
        probed
          ? `, sshd would accept it for ${plural(accepted, 'account')}`
          : ''
      }.`,
      observed,
    };
  }

  // ----------------------------------------------------------------- helpers

  private keyOf(anchor: TrustAnchor) {
    const id =
      parseKeyId(anchor.externalId) ??
      (anchor.fingerprint ? parseKeyId(anchor.fingerprint) : undefined);
    if (!id) {
      throw new PermanentProviderError(
        `"${anchor.externalId}" is neither a SHA256: fingerprint nor a public key.`,
      );
    }
    if (id.publicKey) this.publicKeys.set(id.fingerprint, id.publicKey);
    return id;
  }

  private rememberKey(line: string, fingerprint: string) {
    const m = /(?:^|\s)((?:ssh|ecdsa|sk)-[^\s]+)\s+([A-Za-z0-9+/]+=*)/.exec(
      line,
    );
    if (m) this.publicKeys.set(fingerprint, `${m[1]} ${m[2]}`);
  }

  private async withHost<T>(
    host: Host,
    what: string,
    fn: (s: Session) => Promise<T>,
  ): Promise<T> {
    const { client, hostKey } = await openConnection(
      host as HostTarget,
      {
        username: this.options.username,
        privateKey: this.options.privateKey,
        passphrase: this.options.passphrase,
      },
      this.options.connectTimeoutMs,
    );
    try {
      const sftp = await sftpOf(client);
      return await fn({ client, sftp, hostKey });
    } catch (err) {
      if (
        err instanceof PermanentProviderError ||
        err instanceof TransientProviderError
      )
        throw err;
      if (isPermissionDenied(err)) {
        throw new PermanentProviderError(
          `${this.options.username}@${hostLabel(
            host,
          )} may not ${what}: permission denied. The admin account must be able to read and replace the authorized_keys files (usually root).`,
        );
      }
      throw new TransientProviderError(
        `SSH host ${hostLabel(host)} failed to ${what}: ${
          (err as Error).message
        }`,
      );
    } finally {
      client.end();
    }
  }

  private async keysFile(
    s: Session,
    host: Host,
    account: string,
  ): Promise<string> {
    let home = '';
    if (this.options.authorizedKeysFile.includes('%h')) {
      const r = await exec(
        s.client,
        `getent passwd ${shellQuote(account)}`,
        this.options.commandTimeoutMs,
      );
      home = r.stdout.split('\n')[0]?.split(':')[5] ?? '';
      if (r.code !== 0 || !home) {
        throw new PermanentProviderError(
          `Account ${account} does not exist on ${hostLabel(
            host,
          )} (getent passwd found nothing).`,
        );
      }
    }
    const path = this.options.authorizedKeysFile.replace(
      /%([%uh])/g,
      (_, t) => ({ ...TOKENS, u: account, h: home }[t as string] ?? ''),
    );
    return path.startsWith('/') ? path : `${home}/${path}`;
  }

  private async read(s: Session, _host: Host, file: string) {
    return readRemote(s.sftp, file);
  }

  private async editAll(
    anchor: TrustAnchor,
    ctx: ActionContext,
    edit: Edit,
  ): Promise<ActionResult> {
    const { fingerprint } = this.keyOf(anchor);
    if (fingerprint === this.adminFingerprint) {
      throw new PermanentProviderError(
        `Key ${fingerprint} is the provider's own admin key; refusing to ${edit} it.`,
      );
    }
    const verb = edit === 'remove' ? 'revoke' : edit;
    const changes: Array<Record<string, unknown>> = [];
    for (const host of this.options.hosts) {
      await this.withHost(host, `${verb} key ${fingerprint}`, async s => {
        for (const account of host.accounts) {
          const file = await this.keysFile(s, host, account);
          for (let attempt = 0; ; attempt++) {
            const before = await this.read(s, host, file);
            for (const line of splitLines(before.text)) {
              if (keyLines(line)[0]?.fingerprint === fingerprint)
                this.rememberKey(line, fingerprint);
            }
            const next = editKeys(before.text, fingerprint, edit);
            if (next.changed === 0) break;
            try {
              await writeRemoteAtomically(s.sftp, file, next.text, before);
            } catch (err) {
              if (err instanceof TransientProviderError && attempt < 2)
                continue;
              throw err;
            }
            changes.push({
              host: hostLabel(host),
              account,
              file,
              linesChanged: next.changed,
              hostKey: s.hostKey,
            });
            break;
          }
        }
      });
    }
    const total = changes.reduce((n, c) => n + (c.linesChanged as number), 0);
    const past = {
      disable: 'Commented out',
      enable: 'Restored',
      remove: 'Removed',
    }[edit];
    const result: ActionResult = {
      changed: total > 0,
      detail:
        total > 0
          ? `${past} ${plural(
              total,
              'authorized_keys line',
            )} of key ${fingerprint} in ${changes
              .map(c => `${c.account}@${c.host}`)
              .join(', ')}${
              edit === 'enable'
                ? ''
                : '; sessions already open are not ended by this (terminateSessions does)'
            }.`
          : `No ${
              { enable: 'disabled ', disable: 'active ', remove: '' }[edit]
            }line of key ${fingerprint} in the managed authorized_keys files: nothing to do.`,
      observed: { fingerprint, changes, otherLinesKept: 'byte for byte' },
    };
    ctx.logger.info(`ssh ${verb}: ${result.detail}`);
    return result;
  }

  /** Session processes of the logins that are still connected. */
  private async sessionProcesses(
    s: Session,
    host: Host,
    logins: Array<{ address: string; port: number }>,
  ): Promise<{ pids: number[]; connections: number }> {
    if (logins.length === 0) return { pids: [], connections: 0 };
    const r = await exec(
      s.client,
      'ss -tnpH state established',
      this.options.commandTimeoutMs,
    );
    if (r.code !== 0) {
      throw new PermanentProviderError(
        `ss -tnp failed on ${hostLabel(
          host,
        )}: ${r.stderr.trim()} (needs iproute2 and root to see processes).`,
      );
    }
    const pids = new Set<number>();
    let connections = 0;
    for (const line of r.stdout.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      const local = cols[2];
      const peer = cols[3];
      if (!local.endsWith(`:${host.port}`)) continue;
      const hit = logins.some(
        l =>
          peer === `${l.address}:${l.port}` ||
          peer === `[${l.address}]:${l.port}` ||
          peer === `[::ffff:${l.address}]:${l.port}`,
      );
      if (!hit) continue;
      connections++;
      for (const m of line.matchAll(/pid=(\d+)/g)) pids.add(Number(m[1]));
    }
    const checked: number[] = [];
    for (const pid of pids) {
      const c = await exec(
        s.client,
        `cat /proc/${pid}/cmdline`,
        this.options.commandTimeoutMs,
      );
      const cmd = c.stdout.replace(/\0/g, ' ').trim();
      // Session processes are named "sshd: user [priv]" / "sshd: user@notty"
      // (or sshd-session); never the listener.
      if (/^sshd(-session)?: /.test(cmd) || /sshd-session/.test(cmd))
        checked.push(pid);
    }
    return { pids: checked, connections };
  }
}

/**
 * Builds an {@link SshProvider} from a `nhiOffboarding.providers` entry of
 * type `ssh`.
 * @public
 */
export const sshProviderFactory: TrustAnchorProviderFactory = ({
  id,
  config,
  logger,
}) => SshProvider.fromConfig(config, { id, logger });
