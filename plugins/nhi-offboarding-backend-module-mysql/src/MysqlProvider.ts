import { createHash, randomBytes } from 'node:crypto';
import { createPool, type Pool } from 'mysql2/promise';
import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  PermanentProviderError,
  TransientProviderError,
  type ActionContext,
  type ActionResult,
  type DiscoverRequest,
  type DiscoveredAnchor,
  type LinkedCredential,
  type ProviderLimits,
  type TrustAnchorProvider,
  type TrustAnchorProviderFactory,
  type VerifyResult,
  entityRefForms,
  mentionsEntity,
  logActionResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  accountId,
  clientHostOf,
  connectionMayBelongTo,
  formatAccount,
  parseAccount,
  quoteAccount,
  quoteIdent,
  sameAccount,
  type MysqlAccount,
} from './accounts';
import type { MysqlProviderConfig } from './config';
import {
  errnoOf,
  isConnectionFailure,
  makeRedactor,
  PRIVILEGE_HINTS,
  toProviderError,
  type MysqlOperation,
} from './errors';
import { escapeLike } from './mentions';
import {
  readMysqlProviderConfig,
  resolveMysqlConfig,
  type ResolvedMysqlConfig,
} from './readConfig';

/** Options of {@link MysqlProvider}. @public */
export interface MysqlProviderOptions {
  config: MysqlProviderConfig;
  logger: LoggerService;
}

/** What the provider learns once about the server it talks to. */
interface ServerInfo {
  flavor: 'mariadb' | 'mysql';
  /** `MariaDB` or `MySQL`, for people. */
  product: string;
  version: string;
  /** The account the provider is logged in as (CURRENT_USER()). */
  admin: MysqlAccount;
  /** Stable name of the server, used in fingerprints. */
  identity: string;
  /**
   * The admin account has PROCESS (or ALL PRIVILEGES): without it the
   * processlist silently shows only the admin's own connections.
   */
  seesAllConnections: boolean;
}

/** An account as the server's grant tables describe it. No secrets. */
interface AccountState {
  account: MysqlAccount;
  locked: boolean;
  isRole: boolean;
  /** Unix time of the last password change (0 when expired by an admin). */
  passwordLastChanged?: string;
  plugin?: string;
}

/** A role granted to an account. MariaDB roles have no host; MySQL roles do. */
interface RoleGrant {
  role: string;
  roleHost?: string;
}

/** One row of the processlist. */
interface Session {
  id: string;
  user: string;
  host: string;
  command: string;
  /** Seconds in the current state. */
  time: number;
}

interface AccountRow {
  user: string;
  host: string;
  locked: string | number | null;
  is_role: string | number | null;
  pw_changed: string | number | null;
  plugin: string | null;
}

/** Accounts that are part of the server itself; never acted on. */
const SYSTEM_USERS = new Set([
  'root',
  'mariadb.sys',
  'mysql.sys',
  'mysql.session',
  'mysql.infoschema',
  'PUBLIC',
]);

const MAX_SCOPES = 40;

function truthy(value: string | number | null | undefined): boolean {
  return value === 1 || value === '1' || value === 'true' || value === 'Y';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function sleep(ms: number) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** True for `GRANT <privileges> ON *.* TO ...` lines that give PROCESS. */
function grantsGiveProcess(lines: string[]): boolean {
  return lines.some(line => {
    const m = /^GRANT\s+(.+?)\s+ON\s+\*\.\*\s+TO\s/i.exec(line);
    if (!m) return false;
    return m[1]
      .split(',')
      .map(p => p.trim().toUpperCase())
      .some(p => p === 'PROCESS' || p === 'ALL' || p === 'ALL PRIVILEGES');
  });
}

/**
 * Accounts of a MySQL or MariaDB server (`user@host`) as trust anchors
 * (kind `db-user`).
 *
 * Disabling locks the account (ALTER USER ... ACCOUNT LOCK), which refuses
 * every new login whatever the authentication method, and then kills the
 * connections already open, which a lock alone leaves running.
 *
 * @public
 */
export class MysqlProvider implements TrustAnchorProvider {
  readonly type = 'mysql';
  readonly id: string;
  readonly limits: ProviderLimits;

  private readonly options: ResolvedMysqlConfig;
  private readonly logger: LoggerService;
  private readonly redact: (text: string) => string;
  private readonly pool: Pool;
  private info?: ServerInfo;
  private closed = false;

  /** Builds a provider from a `nhiOffboarding.providers` entry. */
  static fromConfig(
    config: Config,
    options: { id?: string; logger: LoggerService },
  ): MysqlProvider {
    return new MysqlProvider({
      config: readMysqlProviderConfig(config, options.id),
      logger: options.logger,
    });
  }

  constructor(options: MysqlProviderOptions) {
    this.options = resolveMysqlConfig(options.config);
    this.id = this.options.id;
    this.redact = makeRedactor(this.options.secrets);
    this.logger = options.logger.child({
      provider: this.id,
      providerType: 'mysql',
    });
    this.limits = {
      concurrency: this.options.concurrency,
      propagationWindowMs: 0,
    };
    // Connections are opened on first use.
    this.pool = createPool(this.options.pool);
  }

  /** host:port of the server, for people. */
  get server(): string {
    return this.options.server;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  // ---------------------------------------------------------------- discover

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    const what = `discover the accounts of ${request.entityRef}`;
    const info = await this.serverInfo(request.signal, what);

    const linked: Array<{
      link: LinkedCredential;
      account?: MysqlAccount;
      problem?: string;
    }> = [];
    const seen: MysqlAccount[] = [];
    for (const link of request.linked) {
      const parsed = parseAccount(link.externalId);
      if ('problem' in parsed) {
        linked.push({ link, problem: parsed.problem });
        continue;
      }
      if (seen.some(a => sameAccount(a, parsed.account))) continue;
      seen.push(parsed.account);
      linked.push({ link, account: parsed.account });
    }

    // Accounts whose comment names the entity (MySQL 8.0.21+ only: MariaDB
    // keeps no comment or attribute on an account).
    const byComment =
      info.flavor === 'mysql'
        ? (
            await this.accountsMentioning(
              request.entityRef,
              request.signal,
              what,
            )
          ).filter(a => !seen.some(s => sameAccount(s, a)))
        : [];
    const wanted = [...seen, ...byComment];
    if (wanted.length === 0) {
      return linked
        .filter(l => l.problem)
        .map(l => this.invalidAnchor(l.link, l.problem!));
    }

    const users = [...new Set(wanted.map(a => a.user))];
    const states = await this.readAccounts(users, request.signal, what);
    const roles = await this.readRoles(users, request.signal, what);
    const sessions = info.seesAllConnections
      ? await this.readSessions(users, request.signal, what)
      : undefined;
    const privileges = await this.readPrivileges(wanted, request.signal);

    const anchors: DiscoveredAnchor[] = [];
    const describe = (
      account: MysqlAccount,
      link: LinkedCredential | undefined,
      viaComment: boolean,
    ): DiscoveredAnchor => {
      const state = states.find(s => sameAccount(s.account, account));
      const externalId = link?.externalId ?? accountId(account);
      if (!state || state.isRole) {
        return {
          externalId,
          kind: 'db-user',
          displayName: `${info.product} account ${formatAccount(account)} on ${
            this.server
          } (${state ? 'a role, not an account' : 'does not exist'})`,
          sharedWith: link?.sharedWith ?? [],
          status: state ? 'unknown' : 'revoked',
        };
      }
      const own = sessions
        ? this.sessionsOfAccount(account, states, sessions)
        : [];
      const granted = roles.get(this.key(account)) ?? [];
      const scopes = [
        ...granted.map(
          r => `role ${r.role}${r.roleHost ? `@${r.roleHost}` : ''}`,
        ),
        ...(privileges.get(this.key(account)) ?? []),
      ];
      return {
        externalId,
        kind: 'db-user',
        displayName: `${info.product} account ${formatAccount(account)} on ${
          this.server
        }${viaComment ? ' (found by its account comment)' : ''}`,
        fingerprint: this.fingerprint(info, state),
        scopes:
          scopes.length > MAX_SCOPES
            ? [
                ...scopes.slice(0, MAX_SCOPES),
                `… and ${scopes.length - MAX_SCOPES} more`,
              ]
            : scopes,
        sharedWith: link?.sharedWith ?? [],
        // The server keeps no last-login time. An open connection is the best
        // it can tell: now minus the seconds since its last command (a lower
        // bound of the last use; absent when nothing is connected).
        lastUsedAt:
          own.length > 0
            ? new Date(
                Date.now() - Math.min(...own.map(s => s.time)) * 1000,
              ).toISOString()
            : undefined,
        status: state.locked ? 'disabled' : 'active',
      };
    };

    for (const l of linked) {
      anchors.push(
        l.problem
          ? this.invalidAnchor(l.link, l.problem)
          : describe(l.account!, l.link, false),
      );
    }
    for (const account of byComment) {
      anchors.push(describe(account, undefined, true));
    }
    return anchors;
  }

  private invalidAnchor(
    link: LinkedCredential,
    problem: string,
  ): DiscoveredAnchor {
    return {
      externalId: link.externalId,
      kind: 'db-user',
      displayName: `MySQL account "${link.externalId}" on ${this.server} (not a valid account name: ${problem})`,
      sharedWith: link.sharedWith,
      status: 'unknown',
    };
  }

  /**
   * `sha256:` + hex(sha256(`${serverIdentity}/${user}@${host}/${passwordLastChanged}`)).
   *
   * It names one account on one server and the generation of its password:
   * it changes when the password is changed (or the account is dropped and
   * created again in another second). Nothing derived from the password or
   * its hash goes in, so it reveals nothing about the secret.
   */
  private fingerprint(info: ServerInfo, state: AccountState): string {
    const hash = createHash('sha256')
      .update(
        `${info.identity}/${
          state.account.user
        }@${state.account.host.toLowerCase()}/${
          state.passwordLastChanged ?? ''
        }`,
      )
      .digest('hex');
    return `sha256:${hash}`;
  }

  // ----------------------------------------------------------------- actions

  async disable(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const t = await this.target(anchor, ctx, 'disable');
    const { info, account, state } = t;
    if (!state) {
      const ended = await this.endSessions(t, ctx.signal);
      return this.done(ctx, 'disable', {
        changed: ended.killed > 0,
        detail: `${info.product} account ${formatAccount(
          account,
        )} does not exist on ${this.server}; nothing can log in as it${
          ended.killed
            ? `; killed ${plural(
                ended.killed,
                'connection',
              )} left from before it was dropped`
            : ''
        }.`,
        observed: {
          server: this.server,
          account: formatAccount(account),
          exists: false,
          sessionsKilled: ended.killed,
        },
      });
    }
    const lockNow = !state.locked;
    if (lockNow) await this.setLocked(account, true, ctx.signal);
    const ended = await this.endSessions(t, ctx.signal);
    const changed = lockNow || ended.killed > 0;
    return this.done(ctx, 'disable', {
      changed,
      detail: changed
        ? `${lockNow ? 'Locked' : 'Kept locked'} ${
            info.product
          } account ${formatAccount(account)} on ${
            this.server
          } and killed ${plural(ended.killed, 'connection')}.`
        : `${info.product} account ${formatAccount(account)} on ${
            this.server
          } was already locked with no open connections.`,
      observed: {
        ...this.base(anchor, info, state),
        locked: true,
        wasLocked: state.locked,
        sessionsKilled: ended.killed,
        sessionsRemaining: 0,
      },
    });
  }

  async enable(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { info, account, state } = await this.target(anchor, ctx, 'enable');
    if (!state) {
      throw new PermanentProviderError(
        `${info.product} account ${formatAccount(account)} does not exist on ${
          this.server
        }; enable unlocks an existing account and never creates one (was it dropped by a revoke?).`,
      );
    }
    if (!state.locked) {
      return this.done(ctx, 'enable', {
        changed: false,
        detail: `${info.product} account ${formatAccount(account)} on ${
          this.server
        } is not locked.`,
        observed: { ...this.base(anchor, info, state), locked: false },
      });
    }
    await this.setLocked(account, false, ctx.signal);
    return this.done(ctx, 'enable', {
      changed: true,
      detail: `Unlocked ${info.product} account ${formatAccount(account)} on ${
        this.server
      }; it can log in again.`,
      observed: { ...this.base(anchor, info, state), locked: false },
    });
  }

  async terminateSessions(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const t = await this.target(anchor, ctx, 'kill the connections of');
    const { info, account, state } = t;
    const ended = await this.endSessions(t, ctx.signal);
    return this.done(ctx, 'terminate-sessions', {
      changed: ended.killed > 0,
      detail:
        ended.killed > 0
          ? `Killed ${plural(ended.killed, 'connection')} of ${
              info.product
            } account ${formatAccount(account)} on ${this.server}.`
          : `${info.product} account ${formatAccount(account)} on ${
              this.server
            } had no open connections${state ? '' : ' (it does not exist)'}.`,
      observed: {
        ...(state
          ? this.base(anchor, info, state)
          : {
              server: this.server,
              account: formatAccount(account),
              exists: false,
            }),
        ...(state ? { locked: state.locked } : {}),
        sessionsKilled: ended.killed,
        sessionsRemaining: 0,
      },
    });
  }

  async removeMemberships(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { info, account, state } = await this.target(
      anchor,
      ctx,
      'revoke the roles of',
    );
    if (!state) {
      return this.done(ctx, 'remove-memberships', {
        changed: false,
        detail: `${info.product} account ${formatAccount(
          account,
        )} does not exist on ${this.server}; it holds no roles.`,
        observed: {
          server: this.server,
          account: formatAccount(account),
          exists: false,
        },
      });
    }
    const removed = await this.revokeRoles(account, ctx.signal);
    return this.done(ctx, 'remove-memberships', {
      changed: removed.length > 0,
      detail:
        removed.length > 0
          ? `Revoked ${plural(removed.length, 'role')} (${removed.join(
              ', ',
            )}) from ${info.product} account ${formatAccount(account)} on ${
              this.server
            }.`
          : `${info.product} account ${formatAccount(account)} on ${
              this.server
            } holds no roles.`,
      observed: { ...this.base(anchor, info, state), removedRoles: removed },
    });
  }

  async revoke(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const t = await this.target(anchor, ctx, 'revoke');
    const { info, account, state } = t;
    const name = formatAccount(account);
    if (!state) {
      const ended = await this.endSessions(t, ctx.signal);
      return this.done(ctx, 'revoke', {
        changed: ended.killed > 0,
        detail: `${info.product} account ${name} does not exist on ${
          this.server
        } (already dropped)${
          ended.killed
            ? `; killed ${plural(ended.killed, 'connection')} left from before`
            : '; nothing to revoke'
        }.`,
        observed: {
          server: this.server,
          account: name,
          exists: false,
          sessionsKilled: ended.killed,
        },
      });
    }

    const steps: string[] = [];
    if (!state.locked) {
      await this.setLocked(account, true, ctx.signal);
      steps.push('locked it');
    }
    const ended = await this.endSessions(t, ctx.signal);
    if (ended.killed > 0) {
      steps.push(`killed ${plural(ended.killed, 'connection')}`);
    }
    const removed = await this.revokeRoles(account, ctx.signal);
    if (removed.length > 0) {
      steps.push(`revoked ${removed.join(', ')}`);
    }
    const observed: Record<string, unknown> = {
      ...this.base(anchor, info, state),
      wasLocked: state.locked,
      sessionsKilled: ended.killed,
      removedRoles: removed,
      dropUser: this.options.dropUser,
    };

    if (!this.options.dropUser) {
      // The password is replaced by a random hash nobody knows, so unlocking
      // the kept account later does not revive the old password. Whether a
      // password was already scrubbed cannot be observed (a hash looks like
      // any other), so `changed` reports only what can be: the lock, the
      // connections and the roles.
      await this.scrubPassword(account, info, ctx.signal);
      const changed = steps.length > 0;
      return this.done(ctx, 'revoke', {
        changed,
        detail: changed
          ? `Revoked ${info.product} account ${name} on ${
              this.server
            }: ${steps.join(
              ', ',
            )}, and replaced its password with a random one nobody knows; the account is kept, locked (dropUser is off).`
          : `${info.product} account ${name} on ${this.server} was already revoked: locked, no connections, no roles; its password was replaced again with a random one nobody knows (the account is kept; dropUser is off).`,
        observed: {
          ...observed,
          exists: true,
          locked: true,
          passwordReplaced: true,
        },
      });
    }

    await this.guard(`drop account ${name}`, 'drop-user', ctx.signal, () =>
      this.exec(`DROP USER IF EXISTS ${quoteAccount(account)}`),
    );
    steps.push('dropped it');
    return this.done(ctx, 'revoke', {
      changed: true,
      detail: `Revoked ${info.product} account ${name} on ${
        this.server
      }: ${steps.join(
        ', ',
      )}. Objects whose DEFINER is the account (views, routines, events) are left in place.`,
      observed: { ...observed, exists: false },
    });
  }

  // ------------------------------------------------------------------ verify

  async verify(anchor: TrustAnchor, ctx: ActionContext): Promise<VerifyResult> {
    const parsed = parseAccount(anchor.externalId);
    if ('problem' in parsed) {
      return {
        outcome: 'unknown',
        detail: `Cannot verify MySQL account "${anchor.externalId}" on ${this.server}: ${parsed.problem}.`,
        observed: {
          server: this.server,
          account: anchor.externalId,
          problem: parsed.problem,
        },
      };
    }
    const account = parsed.account;
    const name = formatAccount(account);
    const what = `verify account ${name}`;
    try {
      const info = await this.serverInfo(ctx.signal, what);
      if (!info.seesAllConnections) {
        return {
          outcome: 'unknown',
          detail: `Cannot verify ${info.product} account ${name} on ${this.server}: the admin account lacks the PROCESS privilege, so the connections of other accounts are hidden from it.`,
          observed: {
            server: this.server,
            account: name,
            problem: 'admin lacks PROCESS',
          },
        };
      }
      const states = await this.readAccounts([account.user], ctx.signal, what);
      const state = states.find(s => sameAccount(s.account, account));
      const sessions = this.sessionsOfAccount(
        account,
        states,
        await this.readSessions([account.user], ctx.signal, what),
      );
      const checkedAt = new Date().toISOString();
      if (!state || state.isRole) {
        const observed = {
          server: this.server,
          account: name,
          exists: false,
          liveSessions: sessions.length,
          checkedAt,
        };
        if (sessions.length === 0) {
          return {
            outcome: 'untrusted',
            detail: `${info.product} account ${name} does not exist on ${
              this.server
            }${
              state ? ' (the name is a role, which cannot log in)' : ''
            }; nothing can log in as it.`,
            observed,
          };
        }
        return {
          outcome: 'trusted',
          detail: `${info.product} account ${name} no longer exists on ${
            this.server
          }, but ${plural(
            sessions.length,
            'connection',
          )} that logged in as it ${
            sessions.length === 1 ? 'is' : 'are'
          } still open.`,
          observed,
        };
      }
      const roles = (
        await this.readRoles([account.user], ctx.signal, what)
      ).get(this.key(account));
      const observed = {
        ...this.base(anchor, info, state),
        exists: true,
        locked: state.locked,
        liveSessions: sessions.length,
        roles: (roles ?? []).map(r => r.role),
        checkedAt,
      };
      if (state.locked && sessions.length === 0) {
        return {
          outcome: 'untrusted',
          detail: `${info.product} account ${name} on ${
            this.server
          } is locked and has no open connections${
            roles?.length
              ? `; it still holds ${roles.map(r => r.role).join(', ')}`
              : ''
          }.`,
          observed,
        };
      }
      const reasons: string[] = [];
      if (!state.locked) reasons.push('it is not locked and can log in');
      if (sessions.length > 0) {
        reasons.push(`it has ${plural(sessions.length, 'open connection')}`);
      }
      return {
        outcome: 'trusted',
        detail: `${info.product} ${
          this.server
        } still trusts account ${name}: ${reasons.join(' and ')}.`,
        observed,
      };
    } catch (err) {
      const error = toProviderError(err, {
        server: this.server,
        what,
        operation: 'read',
        redact: this.redact,
      });
      return {
        outcome: 'unknown',
        detail: `Could not verify MySQL account ${name}: ${error.message}`,
        observed: {
          server: this.server,
          account: name,
          error: error.message,
          errorType: error.name,
        },
      };
    }
  }

  // ----------------------------------------------------------------- helpers

  private key(account: MysqlAccount): string {
    return `${account.user}\n${account.host.toLowerCase()}`;
  }

  /** Facts shared by the evidence of every action on an existing account. */
  private base(
    anchor: TrustAnchor,
    info: ServerInfo,
    state: AccountState,
  ): Record<string, unknown> {
    const fingerprint = this.fingerprint(info, state);
    return {
      server: this.server,
      product: info.product,
      account: formatAccount(state.account),
      fingerprint,
      // False when the account was recreated or its password changed since discovery.
      fingerprintMatches: anchor.fingerprint
        ? anchor.fingerprint === fingerprint
        : undefined,
    };
  }

  private done(
    ctx: ActionContext,
    action: string,
    result: ActionResult,
  ): ActionResult {
    return logActionResult(
      {
        providerType: 'mysql',
        providerId: this.id,
        logger: this.logger,
        redact: this.redact,
      },
      ctx,
      action,
      result,
    );
  }

  /** Runs `fn`, turning what it throws into a provider error. */
  private async guard<T>(
    what: string,
    operation: MysqlOperation,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted) {
      throw new TransientProviderError(
        `Aborted before trying to ${what} on MySQL ${this.server}.`,
      );
    }
    if (this.closed) {
      throw new TransientProviderError(
        `The mysql provider ${this.id} is closed.`,
      );
    }
    try {
      return await fn();
    } catch (err) {
      // The server may have been replaced, or grants changed: learn again.
      const errno = errnoOf(err);
      if (
        isConnectionFailure(err) ||
        (errno && [1095, 1142, 1227, 1698].includes(errno))
      ) {
        this.info = undefined;
      }
      throw toProviderError(err, {
        server: this.server,
        what,
        operation,
        redact: this.redact,
      });
    }
  }

  /** Runs one statement (with `?` values only where no identifier is inlined). */
  private async exec<T = Record<string, unknown>>(
    sql: string,
    values?: unknown[],
  ): Promise<T[]> {
    const [rows] = await this.pool.query({
      sql,
      values,
      timeout: this.options.queryTimeoutMs,
    });
    return (Array.isArray(rows) ? rows : []) as T[];
  }

  private async serverInfo(
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<ServerInfo> {
    if (this.info) return this.info;
    const [row] = await this.guard(what, 'read', signal, () =>
      this.exec<{
        version: string;
        cu: string;
        hostname: string;
        port: string | number;
      }>(
        'SELECT VERSION() AS version, CURRENT_USER() AS cu, @@hostname AS hostname, @@port AS port',
      ),
    );
    const flavor = /mariadb/i.test(row.version) ? 'mariadb' : 'mysql';
    const at = row.cu.lastIndexOf('@');
    const admin = {
      user: row.cu.slice(0, at),
      host: row.cu.slice(at + 1),
    };
    let identity = this.options.serverIdentity;
    if (!identity && flavor === 'mysql') {
      try {
        const [uuid] = await this.exec<{ uuid: string }>(
          'SELECT @@server_uuid AS uuid',
        );
        if (uuid?.uuid) identity = `mysql-server:${uuid.uuid}`;
      } catch {
        // older server: fall through
      }
    }
    identity ??= `${flavor}-server:${row.hostname}:${row.port}`;
    // SHOW GRANTS of the current user includes the grants of its current
    // role. Its lines may contain a password hash: they are only matched
    // here, never logged or returned.
    const grants = await this.guard(what, 'read', signal, () =>
      this.exec<Record<string, string>>('SHOW GRANTS'),
    );
    const lines = grants.map(g => String(Object.values(g)[0] ?? ''));
    this.info = {
      flavor,
      product: flavor === 'mariadb' ? 'MariaDB' : 'MySQL',
      version: row.version,
      admin,
      identity,
      seesAllConnections: grantsGiveProcess(lines),
    };
    return this.info;
  }

  /** Every account (and role) with one of the user names. */
  private async readAccounts(
    users: string[],
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<AccountState[]> {
    if (users.length === 0) return [];
    const info = await this.serverInfo(signal, what);
    const sql =
      info.flavor === 'mariadb'
        ? `SELECT User AS user, Host AS host,
                  JSON_VALUE(Priv, '$.account_locked') AS locked,
                  JSON_VALUE(Priv, '$.is_role') AS is_role,
                  JSON_VALUE(Priv, '$.password_last_changed') AS pw_changed,
                  JSON_VALUE(Priv, '$.plugin') AS plugin
             FROM mysql.global_priv WHERE User IN (?)`
        : `SELECT u.User AS user, u.Host AS host, u.account_locked AS locked,
                  EXISTS (SELECT 1 FROM mysql.role_edges e
                           WHERE e.FROM_USER = u.User AND e.FROM_HOST = u.Host) AS is_role,
                  UNIX_TIMESTAMP(u.password_last_changed) AS pw_changed,
                  u.plugin AS plugin
             FROM mysql.user u WHERE u.User IN (?)`;
    const rows = await this.guard(what, 'read', signal, () =>
      this.exec<AccountRow>(sql, [users]),
    );
    return rows.map(r => ({
      account: { user: String(r.user), host: String(r.host) },
      locked: truthy(r.locked),
      // MariaDB roles have an empty host.
      isRole: truthy(r.is_role) || (info.flavor === 'mariadb' && r.host === ''),
      passwordLastChanged:
        r.pw_changed === null || r.pw_changed === undefined
          ? undefined
          : String(r.pw_changed),
      plugin: r.plugin ?? undefined,
    }));
  }

  /** Roles granted to the accounts with these user names, by account key. */
  private async readRoles(
    users: string[],
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Map<string, RoleGrant[]>> {
    const byAccount = new Map<string, RoleGrant[]>();
    if (users.length === 0) return byAccount;
    const info = await this.serverInfo(signal, what);
    const sql =
      info.flavor === 'mariadb'
        ? `SELECT User AS user, Host AS host, Role AS role, NULL AS role_host
             FROM mysql.roles_mapping WHERE User IN (?) ORDER BY Role`
        : `SELECT TO_USER AS user, TO_HOST AS host, FROM_USER AS role, FROM_HOST AS role_host
             FROM mysql.role_edges WHERE TO_USER IN (?) ORDER BY FROM_USER, FROM_HOST`;
    const rows = await this.guard(what, 'read', signal, () =>
      this.exec<{
        user: string;
        host: string;
        role: string;
        role_host: string | null;
      }>(sql, [users]),
    );
    for (const r of rows) {
      const key = this.key({ user: r.user, host: r.host });
      const list = byAccount.get(key) ?? [];
      list.push({ role: r.role, roleHost: r.role_host ?? undefined });
      byAccount.set(key, list);
    }
    return byAccount;
  }

  private async readSessions(
    users: string[],
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Session[]> {
    if (users.length === 0) return [];
    const rows = await this.guard(what, 'read', signal, () =>
      this.exec<{
        id: string | number;
        user: string;
        host: string;
        command: string;
        time: number | string;
      }>(
        `SELECT ID AS id, USER AS user, HOST AS host, COMMAND AS command, TIME AS time
           FROM information_schema.PROCESSLIST
          WHERE USER IN (?) AND ID <> CONNECTION_ID()`,
        [users],
      ),
    );
    return rows.map(r => ({
      id: String(r.id),
      user: String(r.user),
      host: String(r.host ?? ''),
      command: String(r.command ?? ''),
      time: Number(r.time) || 0,
    }));
  }

  /**
   * The connections that may have logged in as the account. The processlist
   * names the user a client logged in with and its host, not the account
   * the server chose, so the choice is redone among the accounts of that
   * user name; when unsure a connection counts (see connectionMayBelongTo).
   */
  private sessionsOfAccount(
    account: MysqlAccount,
    states: AccountState[],
    sessions: Session[],
  ): Session[] {
    const sameName = states
      .filter(s => !s.isRole && s.account.user === account.user)
      .map(s => s.account);
    return sessions.filter(
      s =>
        s.user === account.user &&
        connectionMayBelongTo(account, clientHostOf(s.host), sameName),
    );
  }

  /** Global, schema and table privileges of the accounts, for scopes. Best effort. */
  private async readPrivileges(
    accounts: MysqlAccount[],
    signal: AbortSignal | undefined,
  ): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (accounts.length === 0) return result;
    const grantees = new Map(
      accounts.map(a => [`'${a.user}'@'${a.host}'`.toLowerCase(), a]),
    );
    let rows: Array<{ grantee: string; priv: string; obj: string }>;
    try {
      rows = await this.guard('read privileges', 'read', signal, () =>
        this.exec<{ grantee: string; priv: string; obj: string }>(
          `SELECT GRANTEE AS grantee, PRIVILEGE_TYPE AS priv, '*.*' AS obj
             FROM information_schema.USER_PRIVILEGES
            WHERE GRANTEE IN (?) AND PRIVILEGE_TYPE <> 'USAGE'
           UNION ALL
           SELECT GRANTEE, PRIVILEGE_TYPE, CONCAT(TABLE_SCHEMA, '.*')
             FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE IN (?)
           UNION ALL
           SELECT GRANTEE, PRIVILEGE_TYPE, CONCAT(TABLE_SCHEMA, '.', TABLE_NAME)
             FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE IN (?)`,
          [[...grantees.keys()], [...grantees.keys()], [...grantees.keys()]],
        ),
      );
    } catch (err) {
      this.logger.debug(
        `mysql provider ${this.id}: privileges not read: ${this.redact(
          (err as Error).message,
        )}`,
      );
      return result;
    }
    const grouped = new Map<string, Map<string, string[]>>();
    for (const r of rows) {
      const account = grantees.get(String(r.grantee).toLowerCase());
      if (!account) continue;
      const key = this.key(account);
      const byObject = grouped.get(key) ?? new Map<string, string[]>();
      const privs = byObject.get(r.obj) ?? [];
      privs.push(r.priv);
      byObject.set(r.obj, privs);
      grouped.set(key, byObject);
    }
    for (const [key, byObject] of grouped) {
      result.set(
        key,
        [...byObject].map(
          ([obj, privs]) => `privileges ${privs.join(', ')} on ${obj}`,
        ),
      );
    }
    return result;
  }

  /** MySQL 8.0.21+: accounts whose COMMENT / ATTRIBUTE names the entity. */
  private async accountsMentioning(
    entityRef: string,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<MysqlAccount[]> {
    const forms = entityRefForms(entityRef);
    let rows: Array<{ user: string; host: string; attribute: string | null }>;
    try {
      rows = await this.guard(what, 'read', signal, () =>
        this.exec<{ user: string; host: string; attribute: string | null }>(
          `SELECT USER AS user, HOST AS host, ATTRIBUTE AS attribute
             FROM information_schema.USER_ATTRIBUTES
            WHERE ${forms.map(() => 'LOWER(ATTRIBUTE) LIKE ?').join(' OR ')}`,
          forms.map(f => `%${escapeLike(f)}%`),
        ),
      );
    } catch (err) {
      // Before 8.0.21 there is no USER_ATTRIBUTES: nothing to find there.
      if (errnoOf(err) === 1109 || /Unknown table/i.test(String(err)))
        return [];
      throw err;
    }
    return rows
      .filter(r => r.attribute && mentionsEntity(String(r.attribute), forms))
      .map(r => ({ user: String(r.user), host: String(r.host) }));
  }

  /**
   * Resolves the anchor's account, refusing names that are not accounts and
   * accounts the provider must never touch.
   */
  private async target(
    anchor: TrustAnchor,
    ctx: ActionContext,
    action: string,
  ): Promise<{
    info: ServerInfo;
    account: MysqlAccount;
    state?: AccountState;
    states: AccountState[];
  }> {
    const parsed = parseAccount(anchor.externalId);
    if ('problem' in parsed) {
      throw new PermanentProviderError(
        `Cannot ${action} MySQL account "${anchor.externalId}" on ${this.server}: ${parsed.problem}.`,
      );
    }
    const account = parsed.account;
    const what = `${action} account ${formatAccount(account)}`;
    const info = await this.serverInfo(ctx.signal, what);
    if (sameAccount(account, info.admin)) {
      throw new PermanentProviderError(
        `Refusing to ${action} ${info.product} account ${formatAccount(
          account,
        )} on ${this.server}: it is the admin account of the provider itself.`,
      );
    }
    if (SYSTEM_USERS.has(account.user)) {
      throw new PermanentProviderError(
        `Refusing to ${action} ${info.product} account ${formatAccount(
          account,
        )} on ${this.server}: "${
          account.user
        }" is a built-in account of the server.`,
      );
    }
    const states = await this.readAccounts([account.user], ctx.signal, what);
    const state = states.find(s => sameAccount(s.account, account));
    if (state?.isRole) {
      throw new PermanentProviderError(
        `Refusing to ${action} ${formatAccount(account)} on ${
          this.server
        }: it is a role, not an account that logs in.`,
      );
    }
    return { info, account, state, states };
  }

  private async setLocked(
    account: MysqlAccount,
    locked: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const clause = locked ? 'ACCOUNT LOCK' : 'ACCOUNT UNLOCK';
    await this.guard(
      `${locked ? 'lock' : 'unlock'} account ${formatAccount(account)}`,
      'lock',
      signal,
      () => this.exec(`ALTER USER ${quoteAccount(account)} ${clause}`),
    );
  }

  /**
   * Replaces every authentication method of the account with a password
   * hash drawn at random: no password matches it, and none is created.
   */
  private async scrubPassword(
    account: MysqlAccount,
    info: ServerInfo,
    signal: AbortSignal,
  ): Promise<void> {
    const sql =
      info.flavor === 'mariadb'
        ? `ALTER USER ${quoteAccount(
            account,
          )} IDENTIFIED VIA mysql_native_password USING '*${randomBytes(20)
            .toString('hex')
            .toUpperCase()}'`
        : // MySQL generates a random password and returns it in a result
          // set, which is dropped unread.
          `ALTER USER ${quoteAccount(account)} IDENTIFIED BY RANDOM PASSWORD`;
    await this.guard(
      `replace the password of account ${formatAccount(account)}`,
      'scrub-password',
      signal,
      async () => {
        await this.exec(sql);
      },
    );
  }

  /**
   * Kills every connection that may belong to the account and waits until
   * the processlist no longer shows them. Rounds repeat so that a client
   * that logged in just before the lock is caught too.
   */
  private async endSessions(
    t: { info: ServerInfo; account: MysqlAccount; states: AccountState[] },
    signal: AbortSignal,
  ): Promise<{ killed: number }> {
    const { info, account } = t;
    const name = formatAccount(account);
    const what = `kill the connections of account ${name}`;
    if (!info.seesAllConnections) {
      throw new PermanentProviderError(
        `Cannot ${what} on ${this.server}: the admin account lacks the PROCESS privilege, so the connections of other accounts are hidden from it. ${PRIVILEGE_HINTS.read}.`,
      );
    }
    const killed = new Set<string>();
    const deadline = Date.now() + this.options.killWaitMs;
    let states = t.states;
    for (let round = 0; ; round++) {
      if (round > 0) {
        states = await this.readAccounts([account.user], signal, what);
      }
      const open = this.sessionsOfAccount(
        account,
        states,
        await this.readSessions([account.user], signal, what),
      );
      if (open.length === 0) return { killed: killed.size };
      if (round > 0 && Date.now() > deadline) {
        throw new TransientProviderError(
          `${plural(open.length, 'connection')} of ${
            info.product
          } account ${name} on ${
            this.server
          } still open after KILL CONNECTION (killed ${
            killed.size
          } so far); try again.`,
        );
      }
      for (const s of open) {
        if (killed.has(s.id) && s.command === 'Killed') continue;
        if (!/^\d+$/.test(s.id)) continue;
        await this.guard(what, 'kill', signal, async () => {
          try {
            await this.exec(`KILL CONNECTION ${s.id}`);
          } catch (err) {
            // 1094: unknown thread id — it ended on its own meanwhile.
            if (errnoOf(err) !== 1094) throw err;
          }
        });
        killed.add(s.id);
      }
      await sleep(Math.min(50 * (round + 1), 250));
    }
  }

  /**
   * Revokes every role granted to the account and returns their names.
   * What is left afterwards is reported as an error.
   */
  private async revokeRoles(
    account: MysqlAccount,
    signal: AbortSignal,
  ): Promise<string[]> {
    const name = formatAccount(account);
    const what = `read the roles of account ${name}`;
    const read = async () =>
      (await this.readRoles([account.user], signal, what)).get(
        this.key(account),
      ) ?? [];
    const info = await this.serverInfo(signal, what);
    const grants = await read();
    const removed: string[] = [];
    for (const g of grants) {
      const role =
        info.flavor === 'mariadb' || g.roleHost === undefined
          ? quoteIdent(g.role)
          : quoteAccount({ user: g.role, host: g.roleHost });
      const label = g.roleHost ? `${g.role}@${g.roleHost}` : g.role;
      await this.guard(
        `revoke role ${label} from account ${name}`,
        'revoke-role',
        signal,
        () => this.exec(`REVOKE ${role} FROM ${quoteAccount(account)}`),
      );
      removed.push(label);
    }
    if (grants.length > 0) {
      const left = await read();
      if (left.length > 0) {
        throw new PermanentProviderError(
          `${info.product} at ${this.server} kept role ${left
            .map(l => l.role)
            .join(', ')} of account ${name} after REVOKE. ${
            PRIVILEGE_HINTS['revoke-role']
          }.`,
        );
      }
    }
    return removed;
  }
}

/**
 * Builds a {@link MysqlProvider} from a `nhiOffboarding.providers` entry of
 * type `mysql`.
 * @public
 */
export const mysqlProviderFactory: TrustAnchorProviderFactory = ({
  id,
  config,
  logger,
}) => MysqlProvider.fromConfig(config, { id, logger });
