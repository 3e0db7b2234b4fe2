import { createHash } from 'node:crypto';
import { knex, type Knex } from 'knex';
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
  logActionResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { PostgresProviderConfig } from './config';
import {
  isConnectionFailure,
  makeRedactor,
  toProviderError,
  type PostgresOperation,
} from './errors';
import { escapeLike, quoteIdent, roleNameProblem } from './identifiers';
import {
  readPostgresProviderConfig,
  resolvePostgresConfig,
  type ResolvedPostgresConfig,
} from './readConfig';

/** Options of {@link PostgresProvider}. @public */
export interface PostgresProviderOptions {
  config: PostgresProviderConfig;
  logger: LoggerService;
}

/** What the provider learns once about the server it talks to. */
interface ServerInfo {
  currentUser: string;
  database: string;
  versionNum: number;
  /** The admin account is a superuser: only then can pg_authid be read. */
  superuser: boolean;
  /** Stable name of the cluster, used in fingerprints. */
  identity: string;
}

/** A role as the server's catalogs describe it. No secrets. */
interface RoleState {
  oid: string;
  name: string;
  canLogin: boolean;
  attributes: string[];
  validUntil?: string;
  validUntilPast: boolean;
  comment?: string;
  memberOf: string[];
  /** Roles that are members of this one (it is also a group). */
  memberCount: number;
  sessions: number;
  lastSessionStart?: string;
}

interface RoleRow {
  oid: string;
  name: string;
  can_login: boolean;
  superuser: boolean;
  create_role: boolean;
  create_db: boolean;
  replication: boolean;
  bypass_rls: boolean;
  valid_until: Date | number | string | null;
  valid_until_past: boolean;
  comment: string | null;
  member_of: string[] | null;
  member_count: number;
  sessions: number;
  last_session_start: Date | number | string | null;
}

/*
 * pg_roles is the world-readable view of pg_authid without the password
 * column, so the admin account needs no superuser rights to read it.
 * Sessions are counted over pg_stat_activity, which lists every backend of
 * the cluster (all databases); the provider's own backend is left out.
 */
const ROLE_QUERY = `
SELECT r.oid::text AS oid,
       r.rolname::text AS name,
       r.rolcanlogin AS can_login,
       r.rolsuper AS superuser,
       r.rolcreaterole AS create_role,
       r.rolcreatedb AS create_db,
       r.rolreplication AS replication,
       r.rolbypassrls AS bypass_rls,
       r.rolvaliduntil AS valid_until,
       coalesce(r.rolvaliduntil < now(), false) AS valid_until_past,
       shobj_description(r.oid, 'pg_authid') AS comment,
       ARRAY(SELECT g.rolname::text
               FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member = r.oid
              ORDER BY 1) AS member_of,
       (SELECT count(*)::int FROM pg_auth_members m WHERE m.roleid = r.oid) AS member_count,
       (SELECT count(*)::int FROM pg_stat_activity a
         WHERE a.usesysid = r.oid AND a.pid <> pg_backend_pid()) AS sessions,
       (SELECT max(a.backend_start) FROM pg_stat_activity a
         WHERE a.usesysid = r.oid AND a.pid <> pg_backend_pid()) AS last_session_start
  FROM pg_roles r
 WHERE r.rolname = ANY(?::text[])
    OR (cardinality(?::text[]) > 0
        AND shobj_description(r.oid, 'pg_authid') ILIKE ANY(?::text[]))
 ORDER BY r.rolname`;

function isoOrUndefined(
  value: Date | number | string | null | undefined,
): string | undefined {
  if (value === null || value === undefined) return undefined;
  // pg turns 'infinity' into Infinity; that is "never expires".
  const date = value instanceof Date ? value : new Date(value);
  return Number.isFinite(date.getTime()) ? date.toISOString() : undefined;
}

function toRoleState(row: RoleRow): RoleState {
  const attributes: string[] = [];
  if (row.superuser) attributes.push('SUPERUSER');
  if (row.create_role) attributes.push('CREATEROLE');
  if (row.create_db) attributes.push('CREATEDB');
  if (row.replication) attributes.push('REPLICATION');
  if (row.bypass_rls) attributes.push('BYPASSRLS');
  return {
    oid: row.oid,
    name: row.name,
    canLogin: row.can_login,
    attributes,
    validUntil: isoOrUndefined(row.valid_until),
    validUntilPast: row.valid_until_past,
    comment: row.comment ?? undefined,
    memberOf: row.member_of ?? [],
    memberCount: Number(row.member_count),
    sessions: Number(row.sessions),
    lastSessionStart: isoOrUndefined(row.last_session_start),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The forms in which a role comment may mention an entity: the full ref
 * (`component:default/payments-api`, usually written
 * `backstage:component:default/payments-api`) and, in the default
 * namespace, the short form `component:payments-api`.
 */
function entityRefMentions(entityRef: string): string[] {
  const ref = entityRef.toLocaleLowerCase('en-US');
  const forms = [ref];
  const m = /^([^:]+):default\/(.+)$/.exec(ref);
  if (m) forms.push(`${m[1]}:${m[2]}`);
  return forms;
}

/**
 * True when a comment mentions one of the forms as a whole ref: not as
 * part of a longer name (`payments-api` must not match `payments-api-v2`).
 * Entity names are [A-Za-z0-9] joined by [-_.], so a following `.` only
 * continues the name when a letter or digit comes after it.
 */
function commentMentions(comment: string, forms: string[]): boolean {
  return forms.some(form =>
    new RegExp(
      `(^|[^a-z0-9_.\\-/])${escapeRegExp(form)}(?![a-z0-9_\\-]|\\.[a-z0-9])`,
      'i',
    ).test(comment),
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Login roles of a PostgreSQL server as trust anchors (kind `db-user`).
 *
 * Disabling sets NOLOGIN, which stops every authentication method (password,
 * certificate, trust) for new sessions, and then terminates the sessions
 * that are already open, which NOLOGIN alone leaves running.
 *
 * @public
 */
export class PostgresProvider implements TrustAnchorProvider {
  readonly type = 'postgres';
  readonly id: string;
  readonly limits: ProviderLimits;

  private readonly options: ResolvedPostgresConfig;
  private readonly logger: LoggerService;
  private readonly redact: (text: string) => string;
  private readonly db: Knex;
  private info?: ServerInfo;
  private closed = false;

  /** Builds a provider from a `nhiOffboarding.providers` entry. */
  static fromConfig(
    config: Config,
    options: { id?: string; logger: LoggerService },
  ): PostgresProvider {
    return new PostgresProvider({
      config: readPostgresProviderConfig(config, options.id),
      logger: options.logger,
    });
  }

  constructor(options: PostgresProviderOptions) {
    this.options = resolvePostgresConfig(options.config);
    this.id = this.options.id;
    this.redact = makeRedactor(this.options.secrets);
    this.logger = options.logger.child({
      provider: this.id,
      providerType: 'postgres',
    });
    this.limits = {
      concurrency: this.options.concurrency,
      propagationWindowMs: 0,
    };
    const redact = this.redact;
    const logger = this.logger;
    this.db = knex({
      client: 'pg',
      connection: this.options.knexConnection,
      // A small pool; nothing is opened before the first call.
      pool: {
        min: 0,
        max: this.options.maxConnections,
        idleTimeoutMillis: 30_000,
      },
      acquireConnectionTimeout:
        this.options.connectTimeoutMs + this.options.statementTimeoutMs,
      // Keeps bound values out of error messages.
      compileSqlOnError: false,
      log: {
        warn: (m: unknown) => logger.warn(redact(String(m))),
        error: (m: unknown) => logger.error(redact(String(m))),
        deprecate: (m: unknown) => logger.debug(redact(String(m))),
        debug: () => {},
      },
    });
  }

  /** host:port of the server, for people. */
  get server(): string {
    return this.options.server;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }

  // ---------------------------------------------------------------- discover

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    const linkedByName = new Map<string, LinkedCredential>();
    for (const link of request.linked) {
      if (!linkedByName.has(link.externalId)) {
        linkedByName.set(link.externalId, link);
      }
    }
    const valid = [...linkedByName.keys()].filter(n => !roleNameProblem(n));
    const forms = entityRefMentions(request.entityRef);
    const patterns = forms.map(f => `%${escapeLike(f)}%`);

    const what = `discover the roles of ${request.entityRef}`;
    const info = await this.serverInfo(request.signal, what);
    const roles = await this.readRoles(valid, patterns, request.signal, what);
    const byName = new Map(roles.map(r => [r.name, r]));

    const anchors: DiscoveredAnchor[] = [];
    for (const [name, link] of linkedByName) {
      const problem = roleNameProblem(name);
      const role = byName.get(name);
      if (problem) {
        anchors.push({
          externalId: name,
          kind: 'db-user',
          displayName: `PostgreSQL role ${name} on ${this.server} (not a valid role name: ${problem})`,
          sharedWith: link.sharedWith,
          status: 'unknown',
        });
      } else if (!role) {
        // Only linked roles are reported when absent: the catalog expects
        // them, and their absence is itself the revoked state.
        anchors.push({
          externalId: name,
          kind: 'db-user',
          displayName: `PostgreSQL role ${name} on ${this.server} (does not exist)`,
          sharedWith: link.sharedWith,
          status: 'revoked',
        });
      } else {
        anchors.push(this.toDiscovered(role, info, link, false));
      }
    }
    for (const role of roles) {
      if (linkedByName.has(role.name)) continue;
      if (role.comment && commentMentions(role.comment, forms)) {
        anchors.push(this.toDiscovered(role, info, undefined, true));
      }
    }
    return anchors;
  }

  private toDiscovered(
    role: RoleState,
    info: ServerInfo,
    link: LinkedCredential | undefined,
    viaComment: boolean,
  ): DiscoveredAnchor {
    return {
      externalId: role.name,
      kind: 'db-user',
      displayName: `PostgreSQL role ${role.name} on ${this.server}${
        viaComment ? ' (found by its role comment)' : ''
      }`,
      fingerprint: this.fingerprint(info, role),
      scopes: [
        ...role.memberOf.map(g => `member of ${g}`),
        ...role.attributes.map(a => `attribute ${a}`),
      ],
      sharedWith: link?.sharedWith ?? [],
      // rolvaliduntil is when the role's password stops being accepted.
      expiresAt: role.validUntil,
      // PostgreSQL records no last-login time. The latest backend_start of a
      // session open now is the best the server can tell (a lower bound of
      // the last use; absent when no session is open, and hidden from an
      // admin account without superuser or pg_read_all_stats).
      lastUsedAt: role.lastSessionStart,
      status: role.canLogin ? 'active' : 'disabled',
    };
  }

  /**
   * `sha256:` + hex(sha256(`${serverIdentity}/${oid}/${rolname}`)).
   *
   * It names one role instance on one cluster: the oid changes when a role
   * is dropped and created again under the same name, and the server
   * identity tells apart same-named roles on different clusters. Nothing
   * derived from the password or its SCRAM verifier goes in, so the
   * fingerprint reveals nothing about the secret and needs no access to
   * pg_authid (superuser only). It does not change when the password does.
   */
  private fingerprint(info: ServerInfo, role: RoleState): string {
    const hash = createHash('sha256')
      .update(`${info.identity}/${role.oid}/${role.name}`)
      .digest('hex');
    return `sha256:${hash}`;
  }

  // ----------------------------------------------------------------- actions

  async disable(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { info, role, name } = await this.target(anchor, ctx, 'disable');
    if (!role) {
      return this.done(ctx, 'disable', {
        changed: false,
        detail: `PostgreSQL role "${name}" does not exist on ${this.server}; nothing can log in as it.`,
        observed: { server: this.server, role: name, exists: false },
      });
    }
    const setNoLogin = role.canLogin;
    if (setNoLogin) await this.alterLogin(name, false, ctx.signal);
    const ended = await this.terminate(role, info, ctx.signal);
    const changed = setNoLogin || ended.terminated > 0;
    return this.done(ctx, 'disable', {
      changed,
      detail: changed
        ? `${
            setNoLogin ? 'Set NOLOGIN on' : 'Kept NOLOGIN on'
          } PostgreSQL role "${name}" on ${this.server} and terminated ${plural(
            ended.terminated,
            'session',
          )}.`
        : `PostgreSQL role "${name}" on ${this.server} was already NOLOGIN with no open sessions.`,
      observed: {
        ...this.base(anchor, info, role),
        canLogin: false,
        wasLogin: role.canLogin,
        sessionsTerminated: ended.terminated,
        sessionsRemaining: ended.remaining,
      },
    });
  }

  async enable(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { info, role, name } = await this.target(anchor, ctx, 'enable');
    if (!role) {
      throw new PermanentProviderError(
        `PostgreSQL role "${name}" does not exist on ${this.server}; enable restores LOGIN on an existing role and never creates one (was it dropped by a revoke?).`,
      );
    }
    if (role.canLogin) {
      return this.done(ctx, 'enable', {
        changed: false,
        detail: `PostgreSQL role "${name}" on ${this.server} can already log in.`,
        observed: { ...this.base(anchor, info, role), canLogin: true },
      });
    }
    await this.alterLogin(name, true, ctx.signal);
    return this.done(ctx, 'enable', {
      changed: true,
      detail: `Set LOGIN on PostgreSQL role "${name}" on ${this.server}; it can log in again.`,
      observed: { ...this.base(anchor, info, role), canLogin: true },
    });
  }

  async terminateSessions(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { info, role, name } = await this.target(
      anchor,
      ctx,
      'terminate the sessions of',
    );
    if (!role) {
      return this.done(ctx, 'terminate-sessions', {
        changed: false,
        detail: `PostgreSQL role "${name}" does not exist on ${this.server}; it has no sessions.`,
        observed: { server: this.server, role: name, exists: false },
      });
    }
    const ended = await this.terminate(role, info, ctx.signal);
    return this.done(ctx, 'terminate-sessions', {
      changed: ended.terminated > 0,
      detail:
        ended.terminated > 0
          ? `Terminated ${plural(
              ended.terminated,
              'session',
            )} of PostgreSQL role "${name}" on ${this.server}.`
          : `PostgreSQL role "${name}" on ${this.server} had no open sessions.`,
      observed: {
        ...this.base(anchor, info, role),
        canLogin: role.canLogin,
        sessionsTerminated: ended.terminated,
        sessionsRemaining: ended.remaining,
      },
    });
  }

  async removeMemberships(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { info, role, name } = await this.target(
      anchor,
      ctx,
      'remove the memberships of',
    );
    if (!role) {
      return this.done(ctx, 'remove-memberships', {
        changed: false,
        detail: `PostgreSQL role "${name}" does not exist on ${this.server}; it is a member of nothing.`,
        observed: { server: this.server, role: name, exists: false },
      });
    }
    const removed = await this.revokeMemberships(role, info, ctx.signal);
    return this.done(ctx, 'remove-memberships', {
      changed: removed.length > 0,
      detail:
        removed.length > 0
          ? `Revoked membership of PostgreSQL role "${name}" on ${
              this.server
            } in ${removed.join(', ')}.`
          : `PostgreSQL role "${name}" on ${this.server} was a member of no role.`,
      observed: {
        ...this.base(anchor, info, role),
        removedMemberships: removed,
      },
    });
  }

  async revoke(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { info, role, name } = await this.target(anchor, ctx, 'revoke');
    if (!role) {
      return this.done(ctx, 'revoke', {
        changed: false,
        detail: `PostgreSQL role "${name}" does not exist on ${this.server} (already dropped); nothing to revoke.`,
        observed: { server: this.server, role: name, exists: false },
      });
    }
    const reassignTo = this.options.reassignTo ?? info.currentUser;
    if (this.options.dropRole && reassignTo === name) {
      throw new PermanentProviderError(
        `Cannot drop PostgreSQL role "${name}" on ${this.server}: reassignTo names the role itself; configure another reassignTo.`,
      );
    }

    const steps: string[] = [];
    const setNoLogin = role.canLogin;
    if (setNoLogin) {
      await this.alterLogin(name, false, ctx.signal);
      steps.push('set NOLOGIN');
    }
    const ended = await this.terminate(role, info, ctx.signal);
    if (ended.terminated > 0) {
      steps.push(`terminated ${plural(ended.terminated, 'session')}`);
    }
    const removed = await this.revokeMemberships(role, info, ctx.signal);
    if (removed.length > 0) {
      steps.push(`revoked membership in ${removed.join(', ')}`);
    }

    const observed: Record<string, unknown> = {
      ...this.base(anchor, info, role),
      wasLogin: role.canLogin,
      sessionsTerminated: ended.terminated,
      removedMemberships: removed,
      dropRole: this.options.dropRole,
    };

    if (!this.options.dropRole) {
      // The kept role loses its password too, so that an admin who sets
      // LOGIN again later does not revive the old credential. Whether a
      // password was set can only be observed by a superuser (pg_authid);
      // `changed` counts the clearing only when it was observed to remove
      // one, so a repeated revoke still reports `changed: false`.
      const hadPassword = await this.hasPassword(role, info, ctx.signal);
      await this.clearPassword(name, ctx.signal);
      if (hadPassword) steps.push('removed its password');
      const changed = steps.length > 0;
      return this.done(ctx, 'revoke', {
        changed,
        detail: changed
          ? `Revoked PostgreSQL role "${name}" on ${this.server}: ${steps.join(
              ', ',
            )}; the role is kept, disabled and without a password (dropRole is off).`
          : `PostgreSQL role "${name}" on ${
              this.server
            } was already revoked: NOLOGIN, no sessions, no memberships${
              hadPassword === false ? ', no password' : ''
            } (the role is kept; dropRole is off; PASSWORD NULL was set again).`,
        observed: {
          ...observed,
          exists: true,
          canLogin: false,
          passwordCleared: true,
          // null: the admin is not a superuser and cannot see pg_authid.
          hadPassword: hadPassword ?? null,
        },
      });
    }

    // REASSIGN OWNED and DROP OWNED act on the current database only (and
    // on shared objects: databases, tablespaces). DROP ROLE fails with
    // 2BP01 while the role owns or is granted anything in another database.
    const what = `drop role "${name}"`;
    await this.guard(what, 'reassign-drop-owned', ctx.signal, () =>
      this.db.transaction(async trx => {
        await this.exec(
          trx,
          `REASSIGN OWNED BY ${quoteIdent(name)} TO ${quoteIdent(reassignTo)}`,
        );
        await this.exec(trx, `DROP OWNED BY ${quoteIdent(name)}`);
        await this.guard(what, 'drop-role', ctx.signal, () =>
          this.exec(trx, `DROP ROLE ${quoteIdent(name)}`),
        );
      }),
    );
    steps.push(
      `reassigned its objects in database "${info.database}" to "${reassignTo}"`,
      `dropped its remaining privileges there (DROP OWNED)`,
      'dropped the role',
    );
    return this.done(ctx, 'revoke', {
      changed: true,
      detail: `Revoked PostgreSQL role "${name}" on ${
        this.server
      }: ${steps.join(', ')}. REASSIGN OWNED / DROP OWNED ran in database "${
        info.database
      }" only${
        role.memberCount > 0
          ? `; ${plural(
              role.memberCount,
              'role',
            )} that were members of it lost that membership`
          : ''
      }.`,
      observed: {
        ...observed,
        exists: false,
        database: info.database,
        reassignedTo: reassignTo,
        membersOfDroppedRole: role.memberCount,
      },
    });
  }

  // ------------------------------------------------------------------ verify

  async verify(anchor: TrustAnchor, ctx: ActionContext): Promise<VerifyResult> {
    const name = anchor.externalId;
    const problem = roleNameProblem(name);
    if (problem) {
      return {
        outcome: 'unknown',
        detail: `Cannot verify PostgreSQL role "${name}" on ${this.server}: ${problem}.`,
        observed: { server: this.server, role: name, problem },
      };
    }
    try {
      const what = `verify role "${name}"`;
      const info = await this.serverInfo(ctx.signal, what);
      const [role] = await this.readRoles([name], [], ctx.signal, what);
      const checkedAt = new Date().toISOString();
      if (!role) {
        return {
          outcome: 'untrusted',
          detail: `PostgreSQL role "${name}" does not exist on ${this.server}; nothing can log in as it.`,
          observed: {
            server: this.server,
            role: name,
            exists: false,
            canLogin: false,
            liveSessions: 0,
            memberOf: [],
            checkedAt,
          },
        };
      }
      const observed = {
        ...this.base(anchor, info, role),
        exists: true,
        canLogin: role.canLogin,
        liveSessions: role.sessions,
        memberOf: role.memberOf,
        attributes: role.attributes,
        validUntil: role.validUntil ?? null,
        validUntilPast: role.validUntilPast,
        checkedAt,
      };
      if (!role.canLogin && role.sessions === 0) {
        return {
          outcome: 'untrusted',
          detail: `PostgreSQL role "${name}" on ${
            this.server
          } is NOLOGIN and has no live sessions${
            role.memberOf.length
              ? `; it is still a member of ${role.memberOf.join(', ')}`
              : ''
          }.`,
          observed,
        };
      }
      const reasons: string[] = [];
      if (role.canLogin) {
        reasons.push(
          role.validUntilPast
            ? `it can still log in (its password expired at ${role.validUntil}, but other authentication methods still work)`
            : 'it can still log in',
        );
      }
      if (role.sessions > 0) {
        reasons.push(`it has ${plural(role.sessions, 'live session')}`);
      }
      return {
        outcome: 'trusted',
        detail: `PostgreSQL ${
          this.server
        } still trusts role "${name}": ${reasons.join(' and ')}.`,
        observed,
      };
    } catch (err) {
      const error = toProviderError(err, {
        server: this.server,
        what: `verify role "${name}"`,
        operation: 'read',
        redact: this.redact,
      });
      return {
        outcome: 'unknown',
        detail: `Could not verify PostgreSQL role "${name}": ${error.message}`,
        observed: {
          server: this.server,
          role: name,
          error: error.message,
          errorType: error.name,
        },
      };
    }
  }

  // ----------------------------------------------------------------- helpers

  /** Facts shared by the evidence of every action on an existing role. */
  private base(
    anchor: TrustAnchor,
    info: ServerInfo,
    role: RoleState,
  ): Record<string, unknown> {
    const fingerprint = this.fingerprint(info, role);
    return {
      server: this.server,
      role: role.name,
      oid: role.oid,
      fingerprint,
      // False when the role was dropped and created again since discovery.
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
        providerType: 'postgres',
        providerId: this.id,
        logger: this.logger,
        redact: this.redact,
      },
      ctx,
      action,
      result,
    );
  }

  private checkAbort(signal: AbortSignal | undefined, what: string) {
    if (signal?.aborted) {
      throw new TransientProviderError(
        `Aborted before trying to ${what} on PostgreSQL ${this.server}.`,
      );
    }
  }

  /** Runs `fn`, turning what it throws into a provider error. */
  private async guard<T>(
    what: string,
    operation: PostgresOperation,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    this.checkAbort(signal, what);
    if (this.closed) {
      throw new TransientProviderError(
        `The postgres provider ${this.id} is closed.`,
      );
    }
    try {
      return await fn();
    } catch (err) {
      // The server may have been replaced (failover): learn it again.
      if (isConnectionFailure(err)) this.info = undefined;
      throw toProviderError(err, {
        server: this.server,
        what,
        operation,
        redact: this.redact,
      });
    }
  }

  /**
   * Runs one statement and returns its rows. Knex prefixes the SQL to the
   * server's error message; it is taken off again so messages stay short.
   */
  private async exec<T = Record<string, unknown>>(
    runner: Knex | Knex.Transaction,
    sql: string,
    bindings: readonly Knex.RawBinding[] = [],
  ): Promise<T[]> {
    const query = runner.raw(sql, bindings as Knex.RawBinding[]);
    const native = query.toSQL().toNative().sql;
    try {
      const result = await query;
      return (result as { rows: T[] }).rows;
    } catch (err) {
      const e = err as { message?: unknown };
      if (
        typeof e?.message === 'string' &&
        e.message.startsWith(`${native} - `)
      ) {
        e.message = e.message.slice(native.length + 3);
      }
      throw err;
    }
  }

  private async serverInfo(
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<ServerInfo> {
    if (this.info) return this.info;
    const [row] = await this.guard(what, 'read', signal, () =>
      this.exec<{
        current_user: string;
        database: string;
        version_num: number;
        superuser: boolean | null;
      }>(
        this.db,
        `SELECT current_user::text AS current_user,
                current_database()::text AS database,
                current_setting('server_version_num')::int AS version_num,
                (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
      ),
    );
    let identity = this.options.serverIdentity;
    if (!identity) {
      try {
        const [sys] = await this.exec<{ id: string }>(
          this.db,
          'SELECT system_identifier::text AS id FROM pg_control_system()',
        );
        identity = `pg-system:${sys.id}`;
      } catch {
        identity = `pg-server:${this.server}`;
      }
    }
    this.info = {
      currentUser: row.current_user,
      database: row.database,
      versionNum: Number(row.version_num),
      superuser: row.superuser === true,
      identity,
    };
    return this.info;
  }

  private async readRoles(
    names: string[],
    commentPatterns: string[],
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<RoleState[]> {
    const rows = await this.guard(what, 'read', signal, () =>
      this.exec<RoleRow>(this.db, ROLE_QUERY, [
        names,
        commentPatterns,
        commentPatterns,
      ]),
    );
    return rows.map(toRoleState);
  }

  /**
   * Resolves the anchor's role, refusing names PostgreSQL cannot match and
   * roles the provider must never touch.
   */
  private async target(
    anchor: TrustAnchor,
    ctx: ActionContext,
    action: string,
  ): Promise<{ info: ServerInfo; role?: RoleState; name: string }> {
    const name = anchor.externalId;
    const problem = roleNameProblem(name);
    if (problem) {
      throw new PermanentProviderError(
        `Cannot ${action} PostgreSQL role on ${this.server}: ${problem}.`,
      );
    }
    const what = `${action} role "${name}"`;
    const info = await this.serverInfo(ctx.signal, what);
    const [role] = await this.readRoles([name], [], ctx.signal, what);
    if (role) {
      if (name === info.currentUser) {
        throw new PermanentProviderError(
          `Refusing to ${action} PostgreSQL role "${name}" on ${this.server}: it is the admin account of the provider itself.`,
        );
      }
      if (role.oid === '10' || name.startsWith('pg_')) {
        throw new PermanentProviderError(
          `Refusing to ${action} PostgreSQL role "${name}" on ${this.server}: it is the bootstrap superuser or a predefined role.`,
        );
      }
    }
    return { info, role, name };
  }

  private async alterLogin(
    name: string,
    login: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const attr = login ? 'LOGIN' : 'NOLOGIN';
    await this.guard(
      `set ${attr} on role "${name}"`,
      'alter-login',
      signal,
      () => this.exec(this.db, `ALTER ROLE ${quoteIdent(name)} ${attr}`),
    );
  }

  /**
   * Whether the role has a password (SCRAM or MD5 verifier), read from
   * pg_authid; undefined when the admin is not a superuser and cannot read it.
   */
  private async hasPassword(
    role: RoleState,
    info: ServerInfo,
    signal: AbortSignal,
  ): Promise<boolean | undefined> {
    if (!info.superuser) return undefined;
    const [row] = await this.guard(
      `read whether role "${role.name}" has a password`,
      'read',
      signal,
      () =>
        this.exec<{ has: boolean }>(
          this.db,
          'SELECT rolpassword IS NOT NULL AS has FROM pg_authid WHERE oid = ?::oid',
          [role.oid],
        ),
    );
    return row ? row.has === true : undefined;
  }

  /** ALTER ROLE ... PASSWORD NULL: no password authenticates the role any more. */
  private async clearPassword(
    name: string,
    signal: AbortSignal,
  ): Promise<void> {
    await this.guard(
      `remove the password of role "${name}"`,
      'clear-password',
      signal,
      () => this.exec(this.db, `ALTER ROLE ${quoteIdent(name)} PASSWORD NULL`),
    );
  }

  /**
   * Terminates every backend of the role, in all databases of the cluster,
   * and waits for each to exit (PostgreSQL 14+). A second round catches a
   * session that authenticated just before NOLOGIN was committed.
   */
  private async terminate(
    role: RoleState,
    info: ServerInfo,
    signal: AbortSignal,
  ): Promise<{ terminated: number; remaining: number }> {
    const what = `terminate the sessions of role "${role.name}"`;
    const call =
      info.versionNum >= 140000
        ? 'pg_terminate_backend(a.pid, ?::bigint)'
        : 'pg_terminate_backend(a.pid)';
    const bindings =
      info.versionNum >= 140000
        ? [this.options.terminateWaitMs, role.oid]
        : [role.oid];
    let terminated = 0;
    let remaining = 0;
    // Terminated backends are waited for, so a later count sees them gone.
    for (let round = 0; round < 3; round++) {
      const rows = await this.guard(what, 'terminate', signal, () =>
        this.exec<{ pid: number; ok: boolean }>(
          this.db,
          `SELECT a.pid, ${call} AS ok
             FROM pg_stat_activity a
            WHERE a.usesysid = ?::oid AND a.pid <> pg_backend_pid()`,
          bindings,
        ),
      );
      terminated += rows.length;
      const [count] = await this.guard(what, 'read', signal, () =>
        this.exec<{ n: number }>(
          this.db,
          `SELECT count(*)::int AS n FROM pg_stat_activity a
            WHERE a.usesysid = ?::oid AND a.pid <> pg_backend_pid()`,
          [role.oid],
        ),
      );
      remaining = Number(count.n);
      if (remaining === 0) return { terminated, remaining };
    }
    throw new TransientProviderError(
      `${plural(remaining, 'session')} of PostgreSQL role "${role.name}" on ${
        this.server
      } still open after pg_terminate_backend (terminated ${terminated} so far); try again.`,
    );
  }

  /**
   * Revokes every membership of the role and returns the group names. From
   * PostgreSQL 16 a membership belongs to its grantor, so each is revoked
   * GRANTED BY its grantor; what is left afterwards is reported as an error.
   */
  private async revokeMemberships(
    role: RoleState,
    info: ServerInfo,
    signal: AbortSignal,
  ): Promise<string[]> {
    const read = () =>
      this.guard(
        `read memberships of role "${role.name}"`,
        'read',
        signal,
        () =>
          this.exec<{ group_name: string; grantor: string | null }>(
            this.db,
            `SELECT g.rolname::text AS group_name, gr.rolname::text AS grantor
             FROM pg_auth_members m
             JOIN pg_roles g ON g.oid = m.roleid
             LEFT JOIN pg_roles gr ON gr.oid = m.grantor
            WHERE m.member = ?::oid
            ORDER BY 1, 2`,
            [role.oid],
          ),
      );
    const memberships = await read();
    const removed = [...new Set(memberships.map(m => m.group_name))];
    for (const m of memberships) {
      const grantedBy =
        info.versionNum >= 160000 && m.grantor
          ? ` GRANTED BY ${quoteIdent(m.grantor)}`
          : '';
      await this.guard(
        `revoke membership in "${m.group_name}" from role "${role.name}"`,
        'revoke-membership',
        signal,
        () =>
          this.exec(
            this.db,
            `REVOKE ${quoteIdent(m.group_name)} FROM ${quoteIdent(
              role.name,
            )}${grantedBy}`,
          ),
      );
    }
    if (memberships.length > 0) {
      const left = await read();
      if (left.length > 0) {
        throw new PermanentProviderError(
          `PostgreSQL at ${this.server} kept the membership of role "${
            role.name
          }" in ${[...new Set(left.map(m => m.group_name))].join(
            ', ',
          )} after REVOKE. The admin account needs ADMIN OPTION on those roles, or CREATEROLE / SUPERUSER (PostgreSQL 16+: the privileges of the grantor).`,
        );
      }
    }
    return removed;
  }
}

/**
 * Builds a {@link PostgresProvider} from a `nhiOffboarding.providers` entry
 * of type `postgres`.
 * @public
 */
export const postgresProviderFactory: TrustAnchorProviderFactory = ({
  id,
  config,
  logger,
}) => PostgresProvider.fromConfig(config, { id, logger });
