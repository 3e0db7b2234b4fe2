import { createHash, randomBytes } from 'node:crypto';
import { Attribute, Change, Client, type Entry } from 'ldapts';
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
import type { LdapProviderConfig } from './config';
import {
  isConnectionFailure,
  ldapAclHint,
  makeRedactor,
  resultCode,
  toProviderError,
} from './errors';
import {
  readLdapProviderConfig,
  resolveLdapConfig,
  type ResolvedLdapConfig,
} from './readConfig';

/** Options of {@link LdapProvider}. @public */
export interface LdapProviderOptions {
  config: LdapProviderConfig;
  logger: LoggerService;
}

/** The value of `pwdAccountLockedTime` that locks an account until an admin unlocks it. */
export const PERMANENT_LOCK = '000001010000Z';

/** The attributes read of an account entry. */
const ACCOUNT_ATTRIBUTES = [
  '*',
  'pwdAccountLockedTime',
  'pwdLastSuccess',
  'pwdPolicySubentry',
  'createTimestamp',
];

/** What the provider knows of one account entry. No secret is kept. */
interface Account {
  dn: string;
  id: string;
  /** Its `uid`, matched against `memberUid` of posixGroups. */
  uid?: string;
  /** `sha256:<hex>` of the DN and the stored password hashes; undefined when none is readable. */
  fingerprint?: string;
  passwordCount: number;
  lockedTime?: string;
  locked: boolean;
  description: string[];
  createdAt?: string;
  lastUsedAt?: string;
}

interface Membership {
  group: string;
  attributes: Array<'member' | 'uniqueMember' | 'memberUid'>;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function values(entry: Entry, name: string): Array<string | Buffer> {
  const key = Object.keys(entry).find(
    k => k.toLowerCase() === name.toLowerCase(),
  );
  if (!key) return [];
  const v = entry[key];
  return (Array.isArray(v) ? v : [v]) as Array<string | Buffer>;
}

function strings(entry: Entry, name: string): string[] {
  return values(entry, name).map(v => (Buffer.isBuffer(v) ? v.toString() : v));
}

/** `20260101120000Z` (generalized time) to ISO 8601. */
function generalizedTime(value: string | undefined): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(
    value ?? '',
  );
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  if (y === '0000') return undefined;
  return new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, s ? +s : 0)).toISOString();
}

/** RFC 4515 escaping of an assertion value. */
export function escapeFilterValue(value: string): string {
  return value.replace(
    /[\\*()\0]/g,
    c => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** Why an externalId cannot name an account, if it cannot. */
function idProblem(id: string): string | undefined {
  if (!id.trim()) return 'it is empty';
  if (id.length > 256) return 'it is longer than 256 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(id)) return 'it contains control characters';
  return undefined;
}

/** Fingerprint of an account's stored password hashes, bound to its DN. */
function fingerprintOf(dn: string, passwords: Array<string | Buffer>) {
  if (passwords.length === 0) return undefined;
  const parts = passwords
    .map(p => (Buffer.isBuffer(p) ? p : Buffer.from(p)).toString('base64'))
    .sort();
  return `sha256:${createHash('sha256')
    .update(`${dn.toLowerCase()}\n${parts.join('\n')}`)
    .digest('hex')}`;
}

/**
 * A `{SSHA}` userPassword value of 32 random bytes that are thrown away at
 * once: nobody knows a password that matches it.
 */
function unknowablePassword(): string {
  const secret = randomBytes(32);
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(secret).update(salt).digest();
  secret.fill(0);
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/**
 * Service accounts of an LDAP directory (OpenLDAP slapd with the ppolicy
 * overlay) as trust anchors (kind `service-account`).
 *
 * disable: ppolicy lock (`pwdAccountLockedTime: 000001010000Z`); enable:
 * remove it; revoke: remove the account from every group and delete the
 * entry (or, with `deleteEntry: false`, lock it and replace its password by
 * one nobody knows); rotate (shared accounts): replace the password by one
 * nobody knows. slapd cannot close a connection that is already bound:
 * see `terminateSessions`.
 *
 * @public
 */
export class LdapProvider implements TrustAnchorProvider {
  readonly type = 'ldap';
  readonly id: string;
  readonly limits: ProviderLimits;

  private readonly options: ResolvedLdapConfig;
  private readonly logger: LoggerService;
  private readonly redact: (text: string) => string;
  private readonly aclHint: string;
  private client?: Client;
  private connecting?: Promise<Client>;
  private closed = false;

  /** Builds a provider from a `nhiOffboarding.providers` entry. */
  static fromConfig(
    config: Config,
    options: { id?: string; logger: LoggerService },
  ): LdapProvider {
    return new LdapProvider({
      config: readLdapProviderConfig(config, options.id),
      logger: options.logger,
    });
  }

  constructor(options: LdapProviderOptions) {
    this.options = resolveLdapConfig(options.config);
    this.id = this.options.id;
    this.redact = makeRedactor([this.options.bindPassword]);
    this.aclHint = ldapAclHint(this.options);
    this.logger = options.logger.child({
      provider: this.id,
      providerType: 'ldap',
    });
    this.limits = {
      concurrency: this.options.concurrency,
      propagationWindowMs: 0,
      callTimeoutMs: Math.max(30_000, this.options.timeoutMs * 3),
    };
  }

  /** host:port of the directory, for people. */
  get server(): string {
    return this.options.server;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (client) await client.unbind().catch(() => {});
  }

  // ---------------------------------------------------------------- discover

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    const what = `discover the service accounts of ${request.entityRef}`;
    const anchors: DiscoveredAnchor[] = [];
    const seen = new Set<string>();
    const links: LinkedCredential[] = request.linked.filter(l => {
      if (seen.has(l.externalId)) return false;
      seen.add(l.externalId);
      return true;
    });
    const foundDns = new Set<string>();
    for (const link of links) {
      const problem = idProblem(link.externalId);
      if (problem) {
        anchors.push({
          externalId: link.externalId,
          kind: 'service-account',
          displayName: `LDAP account "${link.externalId}" on ${this.server} (not a valid ${this.options.accountAttribute}: ${problem})`,
          sharedWith: link.sharedWith,
          status: 'unknown',
        });
        continue;
      }
      const found = await this.findAccounts(
        link.externalId,
        request.signal,
        what,
      );
      if (found.length !== 1) {
        anchors.push({
          externalId: link.externalId,
          kind: 'service-account',
          displayName: `LDAP account ${this.options.accountAttribute}=${
            link.externalId
          } under ${this.options.baseDN} on ${this.server} (${
            found.length === 0
              ? 'does not exist'
              : `ambiguous: ${found.length} entries match`
          })`,
          sharedWith: link.sharedWith,
          status: found.length === 0 ? 'revoked' : 'unknown',
        });
        continue;
      }
      foundDns.add(found[0].dn.toLowerCase());
      anchors.push(
        await this.describe(found[0], link.sharedWith, '', request.signal),
      );
    }

    for (const account of await this.accountsNaming(
      request.entityRef,
      request.signal,
      what,
    )) {
      if (foundDns.has(account.how.dn.toLowerCase())) continue;
      if (seen.has(account.how.id)) continue;
      foundDns.add(account.how.dn.toLowerCase());
      anchors.push(
        await this.describe(account.how, [], account.why, request.signal),
      );
    }
    return anchors;
  }

  private async describe(
    account: Account,
    sharedWith: string[],
    foundBy: string,
    signal: AbortSignal | undefined,
  ): Promise<DiscoveredAnchor> {
    const memberships = await this.membershipsOf(
      account,
      signal,
      `read the groups of ${account.dn}`,
    );
    return {
      externalId: account.id,
      kind: 'service-account',
      displayName: `LDAP account ${account.dn} on ${this.server}${
        foundBy ? ` (found by its ${foundBy})` : ''
      }`,
      fingerprint: account.fingerprint,
      scopes: memberships.map(m => `member of ${m.group}`),
      sharedWith,
      createdAt: account.createdAt,
      lastUsedAt: account.lastUsedAt,
      status: account.locked ? 'disabled' : 'active',
    };
  }

  // ----------------------------------------------------------------- actions

  async disable(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { id, account } = await this.target(anchor, ctx, 'disable');
    if (!account) {
      return this.done(ctx, 'disable', {
        changed: false,
        detail: `LDAP account ${this.options.accountAttribute}=${id} does not exist on ${this.server}; nothing can bind as it.`,
        observed: { server: this.server, account: id, exists: false },
      });
    }
    const wasLocked = account.lockedTime === PERMANENT_LOCK;
    if (!wasLocked) {
      await this.lock(account.dn, ctx.signal);
    }
    return this.done(ctx, 'disable', {
      changed: !wasLocked,
      detail: `${
        wasLocked
          ? `LDAP account ${account.dn} on ${this.server} was already locked`
          : `Locked LDAP account ${account.dn} on ${this.server} (ppolicy pwdAccountLockedTime ${PERMANENT_LOCK}): binds as it now fail`
      }. ${this.heldConnectionsText()}`,
      observed: {
        ...this.base(anchor, account),
        pwdAccountLockedTime: PERMANENT_LOCK,
        previousPwdAccountLockedTime: account.lockedTime ?? null,
      },
    });
  }

  async enable(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { id, account } = await this.target(anchor, ctx, 'enable');
    if (!account) {
      throw new PermanentProviderError(
        `LDAP account ${this.options.accountAttribute}=${id} does not exist on ${this.server}; enable unlocks an existing entry and never creates one (was it deleted by a revoke?).`,
      );
    }
    if (account.lockedTime) {
      await this.modify(
        account.dn,
        [
          new Change({
            operation: 'delete',
            modification: new Attribute({ type: 'pwdAccountLockedTime' }),
          }),
        ],
        ctx.signal,
        `unlock ${account.dn}`,
      );
    }
    return this.done(ctx, 'enable', {
      changed: Boolean(account.lockedTime),
      detail: account.lockedTime
        ? `Unlocked LDAP account ${account.dn} on ${this.server} (removed pwdAccountLockedTime): it can bind again.`
        : `LDAP account ${account.dn} on ${this.server} is not locked.`,
      observed: {
        ...this.base(anchor, account),
        pwdAccountLockedTime: null,
        previousPwdAccountLockedTime: account.lockedTime ?? null,
      },
    });
  }

  /**
   * slapd has no operation that closes another client's connection. This
   * reports what it can: whether the account is locked (new binds fail) and
   * whether the operator declared the lock ACL that refuses a held
   * connection its next operation. `changed` is always false.
   */
  async terminateSessions(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { id, account } = await this.target(
      anchor,
      ctx,
      'end the sessions of',
    );
    const observed = {
      server: this.server,
      account: account?.dn ?? id,
      exists: Boolean(account),
      locked: account ? account.locked : null,
      connectionsClosed: 0,
      canCloseConnections: false,
      lockAclInstalled: this.options.lockAclInstalled,
      heldConnectionsRefused:
        !account || (account.locked && this.options.lockAclInstalled)
          ? true
          : 'not known',
    };
    let detail: string;
    if (!account) {
      detail = `LDAP account ${this.options.accountAttribute}=${id} does not exist on ${this.server}. LDAP cannot close connections that bound as it before; a connection's authorization is re-checked per operation against an entry that is gone.`;
    } else {
      detail = `Closed no connection: LDAP (slapd) cannot close another client's bound connection. ${
        account.locked
          ? this.heldConnectionsText()
          : `LDAP account ${account.dn} is not locked, so connections bound as it keep working; disable it first.`
      }`;
    }
    return this.done(ctx, 'terminate-sessions', {
      changed: false,
      detail,
      observed,
    });
  }

  async removeMemberships(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const { id, account } = await this.target(
      anchor,
      ctx,
      'remove the group memberships of',
    );
    if (!account) {
      return this.done(ctx, 'remove-memberships', {
        changed: false,
        detail: `LDAP account ${this.options.accountAttribute}=${id} does not exist on ${this.server}; its groups were not searched (the DN is unknown).`,
        observed: { server: this.server, account: id, exists: false },
      });
    }
    const removed = await this.dropMemberships(account, ctx.signal);
    return this.done(ctx, 'remove-memberships', {
      changed: removed.length > 0,
      detail:
        removed.length > 0
          ? `Removed LDAP account ${account.dn} from ${plural(
              removed.length,
              'group',
            )} on ${this.server}: ${removed.map(m => m.group).join('; ')}.`
          : `LDAP account ${account.dn} on ${this.server} is a member of no group under ${this.options.groupBaseDN}.`,
      observed: {
        ...this.base(anchor, account),
        groupsRemovedFrom: removed,
        groupsRemaining: 0,
      },
    });
  }

  async revoke(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { id, account } = await this.target(anchor, ctx, 'revoke');
    if (!account) {
      return this.done(ctx, 'revoke', {
        changed: false,
        detail: `LDAP account ${this.options.accountAttribute}=${id} does not exist on ${this.server} (already deleted); nothing to revoke.`,
        observed: { server: this.server, account: id, exists: false },
      });
    }
    // Groups first: a dangling member DN would grant a re-created entry
    // with the same DN its old groups.
    const removed = await this.dropMemberships(account, ctx.signal);
    if (this.options.deleteEntry) {
      await this.call(`delete ${account.dn}`, ctx.signal, c =>
        c.del(account.dn),
      );
      return this.done(ctx, 'revoke', {
        changed: true,
        detail: `Deleted LDAP account ${account.dn} on ${this.server}${
          removed.length
            ? ` after removing it from ${plural(removed.length, 'group')}`
            : ''
        }. ${this.heldConnectionsText(true)}`,
        observed: {
          ...this.base(anchor, account),
          exists: false,
          deleted: true,
          groupsRemovedFrom: removed,
        },
      });
    }
    const alreadyDone =
      account.lockedTime === PERMANENT_LOCK && removed.length === 0;
    // The password is replaced each time: its state cannot be compared
    // without knowing it, so a re-run scrambles it again (`changed` reports
    // whether the lock or the groups changed).
    await this.modify(
      account.dn,
      [
        new Change({
          operation: 'replace',
          modification: new Attribute({
            type: 'pwdAccountLockedTime',
            values: [PERMANENT_LOCK],
          }),
        }),
        new Change({
          operation: 'replace',
          modification: new Attribute({
            type: 'userPassword',
            values: [unknowablePassword()],
          }),
        }),
      ],
      ctx.signal,
      `lock and scramble the password of ${account.dn}`,
    );
    const after = await this.readAccount(account.dn, ctx.signal, 'revoke');
    return this.done(ctx, 'revoke', {
      changed: !alreadyDone,
      detail: `Locked LDAP account ${account.dn} on ${
        this.server
      } and replaced its password by one nobody knows (deleteEntry is off, so the entry is kept)${
        removed.length
          ? `; removed it from ${plural(removed.length, 'group')}`
          : ''
      }. ${this.heldConnectionsText()}`,
      newFingerprint: after?.fingerprint,
      observed: {
        ...this.base(anchor, account),
        exists: true,
        deleted: false,
        pwdAccountLockedTime: PERMANENT_LOCK,
        passwordScrambled: true,
        newFingerprint: after?.fingerprint,
        groupsRemovedFrom: removed,
      },
    });
  }

  /**
   * Replaces every `userPassword` value of a shared account by the salted
   * hash of 32 random bytes that are discarded at once: nobody, including
   * the provider, knows a password that matches. The other users get a new
   * password out of band from the owner. Always `changed: true`.
   */
  async rotate(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const { id, account } = await this.target(anchor, ctx, 'rotate');
    if (!account) {
      return this.done(ctx, 'rotate', {
        changed: false,
        detail: `LDAP account ${this.options.accountAttribute}=${id} does not exist on ${this.server}; there is no password to rotate.`,
        observed: { server: this.server, account: id, exists: false },
      });
    }
    await this.modify(
      account.dn,
      [
        new Change({
          operation: 'replace',
          modification: new Attribute({
            type: 'userPassword',
            values: [unknowablePassword()],
          }),
        }),
      ],
      ctx.signal,
      `rotate the password of ${account.dn}`,
    );
    const after = await this.readAccount(account.dn, ctx.signal, 'rotate');
    return this.done(ctx, 'rotate', {
      changed: true,
      detail: `Rotated LDAP account ${account.dn} on ${
        this.server
      }: its ${plural(
        account.passwordCount,
        'password',
      )} replaced by a random salted hash nobody knows the password of (none was created or kept). Its other users need a new password set out of band by the owner of the credential. ${this.heldConnectionsText()}`,
      newFingerprint: after?.fingerprint,
      observed: {
        ...this.base(anchor, account),
        previousFingerprint: account.fingerprint ?? null,
        newFingerprint: after?.fingerprint ?? null,
        passwordsReplaced: account.passwordCount,
        locked: account.locked,
      },
    });
  }

  // ------------------------------------------------------------------ verify

  async verify(anchor: TrustAnchor, ctx: ActionContext): Promise<VerifyResult> {
    const id = anchor.externalId;
    const problem = idProblem(id);
    if (problem) {
      return {
        outcome: 'unknown',
        detail: `Cannot verify LDAP account "${id}" on ${this.server}: ${problem}.`,
        observed: { server: this.server, account: id, problem },
      };
    }
    const what = `verify ${this.options.accountAttribute}=${id}`;
    try {
      const found = await this.findAccounts(id, ctx.signal, what);
      const checkedAt = new Date().toISOString();
      if (found.length > 1) {
        return {
          outcome: 'unknown',
          detail: `${found.length} LDAP entries under ${this.options.baseDN} on ${this.server} have ${this.options.accountAttribute}=${id}; cannot tell which one is the anchor.`,
          observed: {
            server: this.server,
            account: id,
            entries: found.map(f => f.dn),
            checkedAt,
          },
        };
      }
      if (found.length === 0) {
        return {
          outcome: 'untrusted',
          detail: `LDAP account ${this.options.accountAttribute}=${id} does not exist under ${this.options.baseDN} on ${this.server}; nothing can bind as it.`,
          observed: {
            server: this.server,
            account: id,
            exists: false,
            checkedAt,
          },
        };
      }
      const account = found[0];
      const memberships = await this.membershipsOf(account, ctx.signal, what);
      const passwordChanged =
        anchor.fingerprint && account.fingerprint
          ? anchor.fingerprint !== account.fingerprint
          : undefined;
      const observed = {
        ...this.base(anchor, account),
        exists: true,
        locked: account.locked,
        pwdAccountLockedTime: account.lockedTime ?? null,
        knownPasswordReplaced: passwordChanged ?? null,
        passwordCount: account.passwordCount,
        groups: memberships.map(m => m.group),
        lastUsedAt: account.lastUsedAt ?? null,
        checkedAt,
      };
      if (account.locked) {
        return {
          outcome: 'untrusted',
          detail: `LDAP account ${account.dn} on ${this.server} is locked (pwdAccountLockedTime ${account.lockedTime}): binds as it fail.`,
          observed,
        };
      }
      if (account.passwordCount === 0) {
        return {
          outcome: 'untrusted',
          detail: `LDAP account ${account.dn} on ${this.server} has no userPassword: a simple bind as it cannot succeed.`,
          observed,
        };
      }
      if (passwordChanged) {
        return {
          outcome: 'untrusted',
          detail: `LDAP account ${account.dn} on ${this.server} no longer has the password it had when it was discovered (rotated): the retiring entity's copy fails to bind.`,
          observed,
        };
      }
      return {
        outcome: 'trusted',
        detail: `LDAP ${this.server} still trusts ${
          account.dn
        }: it is not locked and ${
          passwordChanged === false
            ? 'still has the password it had when it was discovered'
            : 'has a password (no fingerprint was recorded to compare with)'
        }.`,
        observed,
      };
    } catch (err) {
      const error = toProviderError(err, {
        server: this.server,
        what,
        redact: this.redact,
        aclHint: this.aclHint,
      });
      return {
        outcome: 'unknown',
        detail: `Could not verify LDAP account ${this.options.accountAttribute}=${id}: ${error.message}`,
        observed: {
          server: this.server,
          account: id,
          error: error.message,
          errorType: error.name,
        },
      };
    }
  }

  // ----------------------------------------------------------------- helpers

  private heldConnectionsText(deleted = false): string {
    if (deleted) {
      return 'slapd cannot close connections that bound as it before; their authorization is re-checked per operation against an entry that no longer exists.';
    }
    return this.options.lockAclInstalled
      ? 'slapd cannot close connections that bound as it before; the directory has the lock ACL (declared by the operator), so their next operation is refused.'
      : 'slapd cannot close connections that bound as it before, and the operator has not declared the lock ACL (lockAclInstalled), so they may keep working until they disconnect.';
  }

  private base(anchor: TrustAnchor, account: Account): Record<string, unknown> {
    return {
      server: this.server,
      account: account.dn,
      fingerprint: account.fingerprint ?? null,
      fingerprintMatches:
        anchor.fingerprint && account.fingerprint
          ? anchor.fingerprint === account.fingerprint
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
        providerType: 'ldap',
        providerId: this.id,
        logger: this.logger,
        redact: this.redact,
      },
      ctx,
      action,
      result,
    );
  }

  /** The provider's bound connection, opened (again) when needed. */
  private async connection(): Promise<Client> {
    if (this.client?.isConnected) return this.client;
    if (!this.connecting) {
      this.connecting = this.open().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<Client> {
    const old = this.client;
    this.client = undefined;
    if (old) await old.unbind().catch(() => {});
    const client = new Client({
      url: this.options.url,
      timeout: this.options.timeoutMs,
      connectTimeout: this.options.connectTimeoutMs,
      ...(this.options.tlsOptions
        ? { tlsOptions: this.options.tlsOptions as any }
        : {}),
    });
    try {
      await client.bind(this.options.bindDN, this.options.bindPassword);
    } catch (err) {
      await client.unbind().catch(() => {});
      throw toProviderError(err, {
        server: this.server,
        what: `bind as ${this.options.bindDN}`,
        redact: this.redact,
        aclHint: this.aclHint,
        binding: true,
      });
    }
    if (this.closed) {
      await client.unbind().catch(() => {});
      throw new TransientProviderError(
        `The ldap provider ${this.id} is closed.`,
      );
    }
    this.client = client;
    return client;
  }

  private async call<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (client: Client) => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted) {
      throw new TransientProviderError(
        `Aborted before trying to ${what} on LDAP ${this.server}.`,
      );
    }
    if (this.closed) {
      throw new TransientProviderError(
        `The ldap provider ${this.id} is closed.`,
      );
    }
    const client = await this.connection();
    try {
      return await fn(client);
    } catch (err) {
      if (resultCode(err) === undefined && isConnectionFailure(err)) {
        if (this.client === client) this.client = undefined;
        await client.unbind().catch(() => {});
      }
      throw toProviderError(err, {
        server: this.server,
        what,
        redact: this.redact,
        aclHint: this.aclHint,
      });
    }
  }

  private async modify(
    dn: string,
    changes: Change[],
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<void> {
    await this.call(what, signal, c => c.modify(dn, changes));
  }

  private async lock(dn: string, signal: AbortSignal | undefined) {
    await this.modify(
      dn,
      [
        new Change({
          operation: 'replace',
          modification: new Attribute({
            type: 'pwdAccountLockedTime',
            values: [PERMANENT_LOCK],
          }),
        }),
      ],
      signal,
      `lock ${dn} (pwdAccountLockedTime)`,
    );
  }

  private toAccount(entry: Entry): Account {
    const passwords = values(entry, 'userPassword');
    const lockedTime = strings(entry, 'pwdAccountLockedTime')[0];
    return {
      dn: entry.dn,
      id: strings(entry, this.options.accountAttribute)[0] ?? entry.dn,
      uid: strings(entry, 'uid')[0],
      fingerprint: fingerprintOf(entry.dn, passwords),
      passwordCount: passwords.length,
      lockedTime,
      // Only the administrative lock counts: a lock set by failed binds may
      // expire after pwdLockoutDuration.
      locked: lockedTime === PERMANENT_LOCK,
      description: strings(entry, 'description'),
      createdAt: generalizedTime(strings(entry, 'createTimestamp')[0]),
      lastUsedAt: generalizedTime(strings(entry, 'pwdLastSuccess')[0]),
    };
  }

  private async search(
    base: string,
    filter: string,
    signal: AbortSignal | undefined,
    what: string,
    scope: 'sub' | 'base' = 'sub',
  ): Promise<Entry[]> {
    try {
      const result = await this.call(what, signal, c =>
        c.search(base, {
          scope,
          filter,
          attributes: ACCOUNT_ATTRIBUTES,
          explicitBufferAttributes: ['userPassword'],
        }),
      );
      return result.searchEntries;
    } catch (err) {
      if (
        scope === 'base' &&
        (err as Error).message?.includes('(LDAP result 32)')
      ) {
        return [];
      }
      throw err;
    }
  }

  private async findAccounts(
    id: string,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Account[]> {
    const filter = `(&${this.options.accountFilter}(${
      this.options.accountAttribute
    }=${escapeFilterValue(id)}))`;
    const entries = await this.search(
      this.options.baseDN,
      filter,
      signal,
      what,
    );
    return entries.map(e => this.toAccount(e));
  }

  private async readAccount(
    dn: string,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Account | undefined> {
    const [entry] = await this.search(
      dn,
      '(objectClass=*)',
      signal,
      what,
      'base',
    );
    return entry ? this.toAccount(entry) : undefined;
  }

  /** Accounts whose description or seeAlso names the entity. */
  private async accountsNaming(
    entityRef: string,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Array<{ how: Account; why: string }>> {
    const clauses: string[] = [];
    const forms = entityRefForms(entityRef);
    if (this.options.discoverByDescription) {
      for (const form of forms) {
        clauses.push(`(description=*${escapeFilterValue(form)}*)`);
      }
    }
    const seeAlso = this.options.seeAlsoTemplate
      ?.split('{entityRef}')
      .join(entityRef);
    if (seeAlso) clauses.push(`(seeAlso=${escapeFilterValue(seeAlso)})`);
    if (clauses.length === 0) return [];
    const filter = `(&${this.options.accountFilter}(|${clauses.join('')}))`;
    const entries = await this.search(
      this.options.baseDN,
      filter,
      signal,
      what,
    );
    const out: Array<{ how: Account; why: string }> = [];
    for (const entry of entries) {
      const account = this.toAccount(entry);
      if (account.dn.toLowerCase() === this.options.bindDN.toLowerCase()) {
        continue;
      }
      const bySeeAlso =
        seeAlso &&
        strings(entry, 'seeAlso').some(
          v => v.toLowerCase() === seeAlso.toLowerCase(),
        );
      const byDescription =
        this.options.discoverByDescription &&
        account.description.some(d => mentionsEntity(d, forms));
      if (bySeeAlso || byDescription) {
        out.push({
          how: account,
          why: bySeeAlso ? 'seeAlso' : 'description',
        });
      }
    }
    return out;
  }

  private async membershipsOf(
    account: Account,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Membership[]> {
    const dn = escapeFilterValue(account.dn);
    const uid = account.uid;
    const filter = `(|(member=${dn})(uniqueMember=${dn})${
      uid ? `(memberUid=${escapeFilterValue(uid)})` : ''
    })`;
    const result = await this.call(what, signal, c =>
      c.search(this.options.groupBaseDN, {
        scope: 'sub',
        filter,
        attributes: ['member', 'uniqueMember', 'memberUid'],
      }),
    );
    const lower = account.dn.toLowerCase();
    return result.searchEntries.map(entry => {
      const attributes: Membership['attributes'] = [];
      if (strings(entry, 'member').some(v => v.toLowerCase() === lower)) {
        attributes.push('member');
      }
      if (strings(entry, 'uniqueMember').some(v => v.toLowerCase() === lower)) {
        attributes.push('uniqueMember');
      }
      if (uid && strings(entry, 'memberUid').includes(uid)) {
        attributes.push('memberUid');
      }
      return { group: entry.dn, attributes };
    });
  }

  /** Removes the account from every group; returns what was removed. */
  private async dropMemberships(
    account: Account,
    signal: AbortSignal | undefined,
  ): Promise<Membership[]> {
    const what = `remove ${account.dn} from its groups`;
    const memberships = await this.membershipsOf(account, signal, what);
    const uid = account.uid;
    const removed: Membership[] = [];
    const refused: string[] = [];
    for (const m of memberships) {
      const changes = m.attributes.map(
        type =>
          new Change({
            operation: 'delete',
            modification: new Attribute({
              type,
              values: [type === 'memberUid' ? uid! : account.dn],
            }),
          }),
      );
      if (changes.length === 0) continue;
      try {
        await this.modify(m.group, changes, signal, `${what} (${m.group})`);
        removed.push(m);
      } catch (err) {
        const code = /\(LDAP result (\d+)\)/.exec((err as Error).message)?.[1];
        if (code === '16') {
          continue; // removed meanwhile
        }
        if (code === '65') {
          refused.push(
            `${m.group}: the schema requires at least one member (groupOfNames / groupOfUniqueNames) and ${account.dn} is the last one; add another member or delete the group`,
          );
          continue;
        }
        throw err;
      }
    }
    if (refused.length > 0) {
      throw new PermanentProviderError(
        `LDAP ${this.server}: removed ${account.dn} from ${plural(
          removed.length,
          'group',
        )}, but not from ${refused.join('; ')}.`,
      );
    }
    return removed;
  }

  /** Resolves the anchor's account, refusing the admin DN itself. */
  private async target(
    anchor: TrustAnchor,
    ctx: ActionContext,
    action: string,
  ): Promise<{ id: string; account?: Account }> {
    const id = anchor.externalId;
    const problem = idProblem(id);
    if (problem) {
      throw new PermanentProviderError(
        `Cannot ${action} LDAP account "${id}" on ${this.server}: ${problem}.`,
      );
    }
    const what = `${action} ${this.options.accountAttribute}=${id}`;
    const found = await this.findAccounts(id, ctx.signal, what);
    if (found.length > 1) {
      throw new PermanentProviderError(
        `Cannot ${action} LDAP account ${
          this.options.accountAttribute
        }=${id} on ${this.server}: ${found.length} entries under ${
          this.options.baseDN
        } match (${found
          .map(f => f.dn)
          .join('; ')}); narrow baseDN or accountFilter.`,
      );
    }
    const account = found[0];
    if (
      account &&
      account.dn.toLowerCase() === this.options.bindDN.toLowerCase()
    ) {
      throw new PermanentProviderError(
        `Refusing to ${action} LDAP account ${account.dn} on ${this.server}: it is the admin DN of the provider itself.`,
      );
    }
    return { id, account };
  }
}

/**
 * Builds an {@link LdapProvider} from a `nhiOffboarding.providers` entry of
 * type `ldap`.
 * @public
 */
export const ldapProviderFactory: TrustAnchorProviderFactory = ({
  id,
  config,
  logger,
}) => LdapProvider.fromConfig(config, { id, logger });
