import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
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
  logActionResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import {
  credentialFingerprint,
  fingerprintParts,
  parseAclUser,
  parseClientList,
  scopesOf,
  userNameProblem,
  type AclUser,
  type RedisClientInfo,
} from './acl';
import type { RedisProviderConfig } from './config';
import {
  isConnectionFailure,
  makeRedactor,
  replyCode,
  toProviderError,
} from './errors';
import {
  readRedisProviderConfig,
  resolveRedisConfig,
  type ResolvedRedisConfig,
} from './readConfig';

/** Options of {@link RedisProvider}. @public */
export interface RedisProviderOptions {
  config: RedisProviderConfig;
  logger: LoggerService;
}

/** How an ACL change was made durable. */
type Persisted = 'acl-save' | 'config-rewrite' | 'not-needed' | 'skipped';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function sleep(ms: number) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

const PERSISTED_TEXT: Record<Persisted, string> = {
  'acl-save': 'written to the aclfile (ACL SAVE)',
  'config-rewrite': 'written to the config file (CONFIG REWRITE)',
  'not-needed':
    'not written to disk: the server has neither an aclfile nor a config file, so its ACL lives in memory only',
  skipped: 'not written to disk by the provider (persistAcl: none)',
};

/**
 * ACL users of a Redis server (6.0+) as trust anchors (kind
 * `service-account`).
 *
 * `ACL SETUSER <u> off` refuses new logins but leaves connections that
 * already authenticated working, so disabling also closes them
 * (`CLIENT KILL USER`). A shared user is rotated: its passwords are
 * replaced by one random SHA-256 hash whose password nobody knows; no
 * password is created, stored or returned.
 *
 * @public
 */
export class RedisProvider implements TrustAnchorProvider {
  readonly type = 'redis';
  readonly id: string;
  readonly limits: ProviderLimits;

  private readonly options: ResolvedRedisConfig;
  private readonly logger: LoggerService;
  private readonly redact: (text: string) => string;
  private client?: Redis;
  private connecting?: Promise<Redis>;
  private adminUser?: string;
  private closed = false;

  /** Builds a provider from a `nhiOffboarding.providers` entry. */
  static fromConfig(
    config: Config,
    options: { id?: string; logger: LoggerService },
  ): RedisProvider {
    return new RedisProvider({
      config: readRedisProviderConfig(config, options.id),
      logger: options.logger,
    });
  }

  constructor(options: RedisProviderOptions) {
    this.options = resolveRedisConfig(options.config);
    this.id = this.options.id;
    this.redact = makeRedactor(this.options.secrets);
    this.logger = options.logger.child({
      provider: this.id,
      providerType: 'redis',
    });
    this.limits = {
      concurrency: this.options.concurrency,
      propagationWindowMs: 0,
    };
  }

  /** host:port of the server, for people. */
  get server(): string {
    return this.options.server;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    }
  }

  // ---------------------------------------------------------------- discover

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    const what = `discover the ACL users of ${request.entityRef}`;
    const anchors: DiscoveredAnchor[] = [];
    const seen = new Set<string>();
    const links = request.linked.filter(l => {
      if (seen.has(l.externalId)) return false;
      seen.add(l.externalId);
      return true;
    });
    // Redis keeps no comment or owner on an ACL user: only linked users are found.
    if (links.length === 0) return [];
    const clients = await this.clients(request.signal, what);
    for (const link of links) {
      const name = link.externalId;
      const problem = userNameProblem(name);
      if (problem) {
        anchors.push({
          externalId: name,
          kind: 'service-account',
          displayName: `Redis ACL user "${name}" on ${this.server} (not a valid user name: ${problem})`,
          sharedWith: link.sharedWith,
          status: 'unknown',
        });
        continue;
      }
      const user = await this.getUser(name, request.signal, what);
      if (!user) {
        anchors.push({
          externalId: name,
          kind: 'service-account',
          displayName: `Redis ACL user "${name}" on ${this.server} (does not exist)`,
          sharedWith: link.sharedWith,
          status: 'revoked',
        });
        continue;
      }
      const own = clients.filter(c => c.user === name);
      anchors.push({
        externalId: name,
        kind: 'service-account',
        displayName: `Redis ACL user "${name}" on ${this.server}`,
        fingerprint: credentialFingerprint(user),
        scopes: scopesOf(user),
        sharedWith: link.sharedWith,
        // Redis keeps no last-login time; an open connection's idle time is
        // the best it can tell (absent when nothing is connected).
        lastUsedAt:
          own.length > 0
            ? new Date(
                Date.now() - Math.min(...own.map(c => c.idle)) * 1000,
              ).toISOString()
            : undefined,
        status: user.on ? 'active' : 'disabled',
      });
    }
    return anchors;
  }

  // ----------------------------------------------------------------- actions

  async disable(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { name, user } = await this.target(anchor, ctx, 'disable');
    if (!user) {
      const killed = await this.closeConnections(name, false, ctx.signal);
      return this.done(ctx, 'disable', {
        changed: killed > 0,
        detail: `Redis ACL user "${name}" does not exist on ${
          this.server
        }; nothing can log in as it${
          killed ? `; closed ${plural(killed, 'connection')} left over` : ''
        }.`,
        observed: {
          server: this.server,
          user: name,
          exists: false,
          connectionsClosed: killed,
        },
      });
    }
    const what = `switch off ACL user "${name}"`;
    if (user.on) {
      await this.command(what, ctx.signal, r =>
        r.call('ACL', 'SETUSER', name, 'off'),
      );
    }
    const killed = await this.closeConnections(name, true, ctx.signal);
    const persisted = await this.persist(what, ctx.signal);
    const changed = user.on || killed > 0;
    return this.done(ctx, 'disable', {
      changed,
      detail: `${
        changed
          ? `${
              user.on ? 'Switched off' : 'Kept off'
            } Redis ACL user "${name}" on ${this.server} and closed ${plural(
              killed,
              'connection',
            )}`
          : `Redis ACL user "${name}" on ${this.server} was already off with no open connections`
      }; the ACL is ${PERSISTED_TEXT[persisted]}.`,
      observed: {
        ...this.base(anchor, user),
        on: false,
        wasOn: user.on,
        connectionsClosed: killed,
        connectionsRemaining: 0,
        aclPersisted: persisted,
      },
    });
  }

  async enable(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { name, user } = await this.target(anchor, ctx, 'enable');
    if (!user) {
      throw new PermanentProviderError(
        `Redis ACL user "${name}" does not exist on ${this.server}; enable switches an existing user back on and never creates one (was it deleted by a revoke?).`,
      );
    }
    const what = `switch on ACL user "${name}"`;
    if (!user.on) {
      await this.command(what, ctx.signal, r =>
        r.call('ACL', 'SETUSER', name, 'on'),
      );
    }
    const persisted = await this.persist(what, ctx.signal);
    return this.done(ctx, 'enable', {
      changed: !user.on,
      detail: `${
        user.on
          ? `Redis ACL user "${name}" on ${this.server} is already on`
          : `Switched on Redis ACL user "${name}" on ${this.server}; it can log in again`
      }; the ACL is ${PERSISTED_TEXT[persisted]}.`,
      observed: {
        ...this.base(anchor, user),
        on: true,
        aclPersisted: persisted,
      },
    });
  }

  async terminateSessions(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { name, user } = await this.target(
      anchor,
      ctx,
      'close the connections of',
    );
    const killed = await this.closeConnections(name, Boolean(user), ctx.signal);
    return this.done(ctx, 'terminate-sessions', {
      changed: killed > 0,
      detail:
        killed > 0
          ? `Closed ${plural(
              killed,
              'connection',
            )} of Redis ACL user "${name}" on ${this.server}.`
          : `Redis ACL user "${name}" on ${
              this.server
            } had no open connections${user ? '' : ' (it does not exist)'}.`,
      observed: {
        ...(user
          ? { ...this.base(anchor, user), on: user.on }
          : { server: this.server, user: name, exists: false }),
        connectionsClosed: killed,
        connectionsRemaining: 0,
      },
    });
  }

  async revoke(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { name, user } = await this.target(anchor, ctx, 'revoke');
    if (!user) {
      const killed = await this.closeConnections(name, false, ctx.signal);
      return this.done(ctx, 'revoke', {
        changed: killed > 0,
        detail: `Redis ACL user "${name}" does not exist on ${
          this.server
        } (already deleted)${
          killed
            ? `; closed ${plural(killed, 'connection')} left over`
            : '; nothing to revoke'
        }.`,
        observed: {
          server: this.server,
          user: name,
          exists: false,
          connectionsClosed: killed,
        },
      });
    }
    const what = `delete ACL user "${name}"`;
    const before = (await this.clients(ctx.signal, what)).filter(
      c => c.user === name,
    ).length;
    await this.command(what, ctx.signal, r => r.call('ACL', 'DELUSER', name));
    // ACL DELUSER closes the user's connections; this checks that none is left.
    await this.closeConnections(name, false, ctx.signal);
    const persisted = await this.persist(what, ctx.signal);
    return this.done(ctx, 'revoke', {
      changed: true,
      detail: `Deleted Redis ACL user "${name}" on ${this.server}${
        before ? `, which closed its ${plural(before, 'connection')}` : ''
      }; the ACL is ${PERSISTED_TEXT[persisted]}.`,
      observed: {
        ...this.base(anchor, user),
        exists: false,
        wasOn: user.on,
        connectionsClosed: before,
        aclPersisted: persisted,
      },
    });
  }

  /**
   * Replaces every password of a shared user by a random SHA-256 hash
   * (`ACL SETUSER <u> resetpass #<hash>`): the hash is drawn at random, so
   * no password exists that matches it — none is created, stored, logged or
   * returned. The other users of the credential get a new password out of
   * band, set by its owner (`ACL SETUSER <u> >new-password`). Repeating it
   * draws a new hash; `changed` is always true.
   */
  async rotate(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { name, user } = await this.target(anchor, ctx, 'rotate');
    if (!user) {
      return this.done(ctx, 'rotate', {
        changed: false,
        detail: `Redis ACL user "${name}" does not exist on ${this.server}; there is no password to rotate.`,
        observed: { server: this.server, user: name, exists: false },
      });
    }
    const what = `rotate the password of ACL user "${name}"`;
    const unknowable = randomBytes(32).toString('hex');
    await this.command(what, ctx.signal, r =>
      r.call('ACL', 'SETUSER', name, 'resetpass', `#${unknowable}`),
    );
    const killed = this.options.rotateEndsConnections
      ? await this.closeConnections(name, true, ctx.signal)
      : 0;
    const after = await this.getUser(name, ctx.signal, what);
    if (!after) {
      throw new TransientProviderError(
        `Redis ACL user "${name}" on ${this.server} disappeared while its password was rotated; try again.`,
      );
    }
    const persisted = await this.persist(what, ctx.signal);
    const newFingerprint = credentialFingerprint(after);
    return this.done(ctx, 'rotate', {
      changed: true,
      detail: `Rotated Redis ACL user "${name}" on ${this.server}: its ${plural(
        user.passwordHashes.length,
        'password',
      )}${
        user.nopass ? ' and nopass' : ''
      } replaced by a random hash nobody knows the password of (none was created or kept); ${
        this.options.rotateEndsConnections
          ? `closed ${plural(killed, 'connection')} that logged in before`
          : 'open connections were left open (rotateEndsConnections is off)'
      }. Its other users need a new password set out of band by the owner of the credential. The ACL is ${
        PERSISTED_TEXT[persisted]
      }.`,
      newFingerprint,
      observed: {
        ...this.base(anchor, user),
        previousFingerprint: credentialFingerprint(user),
        newFingerprint,
        on: after.on,
        passwordsReplaced: user.passwordHashes.length,
        nopassRemoved: user.nopass,
        connectionsClosed: killed,
        aclPersisted: persisted,
      },
    });
  }

  // ------------------------------------------------------------------ verify

  async verify(anchor: TrustAnchor, ctx: ActionContext): Promise<VerifyResult> {
    const name = anchor.externalId;
    const problem = userNameProblem(name);
    if (problem) {
      return {
        outcome: 'unknown',
        detail: `Cannot verify Redis ACL user "${name}" on ${this.server}: ${problem}.`,
        observed: { server: this.server, user: name, problem },
      };
    }
    const what = `verify ACL user "${name}"`;
    try {
      const user = await this.getUser(name, ctx.signal, what);
      const connections = (await this.clients(ctx.signal, what)).filter(
        c => c.user === name,
      ).length;
      const checkedAt = new Date().toISOString();
      if (!user) {
        const observed = {
          server: this.server,
          user: name,
          exists: false,
          liveConnections: connections,
          checkedAt,
        };
        return connections === 0
          ? {
              outcome: 'untrusted',
              detail: `Redis ACL user "${name}" does not exist on ${this.server}; nothing can log in as it.`,
              observed,
            }
          : {
              outcome: 'trusted',
              detail: `Redis ACL user "${name}" no longer exists on ${
                this.server
              }, but ${plural(connections, 'connection')} of it ${
                connections === 1 ? 'is' : 'are'
              } still open.`,
              observed,
            };
      }
      // The passwords known when the anchor was discovered (its fingerprint):
      // are any of them still accepted?
      const known = fingerprintParts(anchor.fingerprint);
      const current = new Set(fingerprintParts(credentialFingerprint(user)));
      const knownAccepted =
        known.length === 0 ? undefined : known.some(k => current.has(k));
      const observed = {
        ...this.base(anchor, user),
        exists: true,
        on: user.on,
        nopass: user.nopass,
        passwordCount: user.passwordHashes.length,
        knownPasswordsAccepted: knownAccepted ?? null,
        liveConnections: connections,
        checkedAt,
      };
      if (connections === 0 && !user.on) {
        return {
          outcome: 'untrusted',
          detail: `Redis ACL user "${name}" on ${this.server} is off and has no open connections.`,
          observed,
        };
      }
      if (connections === 0 && !user.nopass && knownAccepted === false) {
        return {
          outcome: 'untrusted',
          detail: `Redis ACL user "${name}" on ${this.server} no longer accepts any password it had when it was discovered (rotated), and has no open connections.`,
          observed,
        };
      }
      const reasons: string[] = [];
      if (user.on) {
        if (user.nopass)
          reasons.push('it is on and accepts any password (nopass)');
        else if (knownAccepted)
          reasons.push(
            'it is on and still accepts a password it had when it was discovered',
          );
        else if (knownAccepted === undefined)
          reasons.push(
            'it is on (no fingerprint of its passwords was recorded to compare with)',
          );
      }
      if (connections > 0) {
        reasons.push(
          `it has ${plural(
            connections,
            'open connection',
          )} (Redis cannot tell which password they logged in with)`,
        );
      }
      return {
        outcome: 'trusted',
        detail: `Redis ${
          this.server
        } still trusts ACL user "${name}": ${reasons.join(' and ')}.`,
        observed,
      };
    } catch (err) {
      const error = toProviderError(err, {
        server: this.server,
        what,
        redact: this.redact,
      });
      return {
        outcome: 'unknown',
        detail: `Could not verify Redis ACL user "${name}": ${error.message}`,
        observed: {
          server: this.server,
          user: name,
          error: error.message,
          errorType: error.name,
        },
      };
    }
  }

  // ----------------------------------------------------------------- helpers

  /** Facts shared by the evidence of every action on an existing user. */
  private base(anchor: TrustAnchor, user: AclUser): Record<string, unknown> {
    const fingerprint = credentialFingerprint(user);
    return {
      server: this.server,
      user: user.name,
      fingerprint,
      // False when the user's passwords changed since discovery.
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
        providerType: 'redis',
        providerId: this.id,
        logger: this.logger,
        redact: this.redact,
      },
      ctx,
      action,
      result,
    );
  }

  /** The provider's connection, opened (again) when needed. */
  private async connection(): Promise<Redis> {
    if (this.client?.status === 'ready') return this.client;
    if (!this.connecting) {
      this.connecting = this.open().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<Redis> {
    this.client?.disconnect();
    this.client = undefined;
    this.adminUser = undefined;
    const client = new Redis(this.options.client);
    // ioredis reports a refused login (WRONGPASS) as an 'error' event and
    // then rejects connect() with "Connection is closed": keep the first.
    let firstError: unknown;
    client.on('error', err => {
      firstError ??= err;
      this.logger.debug(
        `redis provider ${this.id}: connection error: ${this.redact(
          String((err as Error)?.message ?? err),
        )}`,
      );
    });
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw firstError ?? err;
    }
    if (this.closed) {
      client.disconnect();
      throw new TransientProviderError(
        `The redis provider ${this.id} is closed.`,
      );
    }
    this.client = client;
    return client;
  }

  /** Runs one or more commands, turning what they throw into provider errors. */
  private async command<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (redis: Redis) => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted) {
      throw new TransientProviderError(
        `Aborted before trying to ${what} on Redis ${this.server}.`,
      );
    }
    if (this.closed) {
      throw new TransientProviderError(
        `The redis provider ${this.id} is closed.`,
      );
    }
    try {
      return await fn(await this.connection());
    } catch (err) {
      if (!replyCode(err) && isConnectionFailure(err)) {
        this.client?.disconnect();
        this.client = undefined;
      }
      throw toProviderError(err, {
        server: this.server,
        what,
        redact: this.redact,
      });
    }
  }

  private async getUser(
    name: string,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<AclUser | undefined> {
    const reply = await this.command(what, signal, r =>
      r.call('ACL', 'GETUSER', name),
    );
    return parseAclUser(name, reply);
  }

  private async clients(
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<RedisClientInfo[]> {
    const reply = await this.command(what, signal, r =>
      r.call('CLIENT', 'LIST'),
    );
    return parseClientList(
      Buffer.isBuffer(reply) ? reply.toString() : String(reply ?? ''),
    );
  }

  private async whoami(
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<string> {
    if (this.adminUser && this.client?.status === 'ready')
      return this.adminUser;
    const reply = await this.command(what, signal, r =>
      r.call('ACL', 'WHOAMI'),
    );
    this.adminUser = String(reply);
    return this.adminUser;
  }

  /** Resolves the anchor's user, refusing names that cannot be users and the admin itself. */
  private async target(
    anchor: TrustAnchor,
    ctx: ActionContext,
    action: string,
  ): Promise<{ name: string; user?: AclUser }> {
    const name = anchor.externalId;
    const problem = userNameProblem(name);
    if (problem) {
      throw new PermanentProviderError(
        `Cannot ${action} Redis ACL user "${name}" on ${this.server}: ${problem}.`,
      );
    }
    const what = `${action} ACL user "${name}"`;
    if (name === (await this.whoami(ctx.signal, what))) {
      throw new PermanentProviderError(
        `Refusing to ${action} Redis ACL user "${name}" on ${this.server}: it is the admin user of the provider itself.`,
      );
    }
    return { name, user: await this.getUser(name, ctx.signal, what) };
  }

  /**
   * Closes every connection that authenticated as the user and waits until
   * CLIENT LIST no longer shows one; repeats for a client that logged in
   * just before the change. Returns how many were closed.
   */
  private async closeConnections(
    name: string,
    exists: boolean,
    signal: AbortSignal,
  ): Promise<number> {
    const what = `close the connections of ACL user "${name}"`;
    const deadline = Date.now() + this.options.killWaitMs;
    const killed = new Set<string>();
    for (let round = 0; ; round++) {
      const open = (await this.clients(signal, what)).filter(
        c => c.user === name,
      );
      if (open.length === 0) return killed.size;
      if (round > 0 && Date.now() > deadline) {
        throw new TransientProviderError(
          `${plural(
            open.length,
            'connection',
          )} of Redis ACL user "${name}" on ${
            this.server
          } still open after CLIENT KILL (closed ${
            killed.size
          } so far); try again.`,
        );
      }
      if (exists) {
        await this.command(what, signal, r =>
          r.call('CLIENT', 'KILL', 'USER', name),
        );
      } else {
        // CLIENT KILL USER refuses a user that does not exist.
        for (const c of open) {
          await this.command(what, signal, r =>
            r.call('CLIENT', 'KILL', 'ID', c.id),
          );
        }
      }
      for (const c of open) killed.add(c.id);
      if (round > 0) await sleep(Math.min(25 * round, 200));
    }
  }

  /**
   * Makes the ACL change survive a restart, as configured (`persistAcl`).
   * In `auto` mode a server whose persistence cannot be read is an error:
   * a change that a restart undoes is not a revocation.
   */
  private async persist(
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Persisted> {
    const mode = this.options.persistAcl;
    if (mode === 'none') return 'skipped';
    let how: Persisted = mode === 'auto' ? 'not-needed' : mode;
    if (mode === 'auto') {
      try {
        const reply = (await this.command(what, signal, r =>
          r.call('CONFIG', 'GET', 'aclfile'),
        )) as unknown[];
        const aclfile = Array.isArray(reply) ? String(reply[1] ?? '') : '';
        if (aclfile) {
          how = 'acl-save';
        } else {
          const info = await this.command(what, signal, r => r.info('server'));
          const configFile = /^config_file:(.*)$/m
            .exec(String(info))?.[1]
            ?.trim();
          how = configFile ? 'config-rewrite' : 'not-needed';
        }
      } catch (err) {
        if (err instanceof PermanentProviderError) {
          throw new PermanentProviderError(
            `Redis at ${this.server}: the change (${what}) is made in memory, but the provider cannot tell whether the server keeps ACL users in an aclfile or its config file (${err.message}). Grant +config|get and +info, or set persistAcl to acl-save, config-rewrite or none (when the service persists ACLs itself).`,
          );
        }
        throw err;
      }
    }
    if (how === 'acl-save') {
      await this.command(`${what}: ACL SAVE`, signal, r =>
        r.call('ACL', 'SAVE'),
      );
    } else if (how === 'config-rewrite') {
      await this.command(`${what}: CONFIG REWRITE`, signal, r =>
        r.call('CONFIG', 'REWRITE'),
      );
    }
    return how;
  }
}

/**
 * Builds a {@link RedisProvider} from a `nhiOffboarding.providers` entry of
 * type `redis`.
 * @public
 */
export const redisProviderFactory: TrustAnchorProviderFactory = ({
  id,
  config,
  logger,
}) => RedisProvider.fromConfig(config, { id, logger });
