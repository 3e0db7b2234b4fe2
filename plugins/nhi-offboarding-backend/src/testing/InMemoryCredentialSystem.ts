import type {
  TrustAnchor,
  TrustAnchorKind,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type {
  ActionResult,
  DiscoverRequest,
  DiscoveredAnchor,
  ProviderLimits,
  TrustAnchorProvider,
  VerifyResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

/*
 * Test peer for the engine's own tests: a credential system kept in memory,
 * with a call log and failures that a test can inject. The real systems are
 * tested with their own providers (e.g. providers/postgres against a real
 * PostgreSQL server).
 */

interface Credential {
  kind: TrustAnchorKind;
  status: 'active' | 'disabled' | 'revoked';
  fingerprint: string;
  sessions: number;
  memberships: string[];
  /** What the system reports besides (owner, last use), for governance tests. */
  extra?: Pick<DiscoveredAnchor, 'owner' | 'lastUsedAt'>;
}

type Method =
  | 'disable'
  | 'enable'
  | 'revoke'
  | 'terminateSessions'
  | 'rotate'
  | 'removeMemberships'
  | 'verify';

export class InMemoryCredentialSystem implements TrustAnchorProvider {
  readonly type = 'in-memory';
  readonly credentials = new Map<string, Credential>();
  readonly calls: { method: Method; externalId: string }[] = [];
  /** Errors thrown by the next calls of a method, one per call. */
  readonly failures: Partial<Record<Method, Error[]>> = {};
  /** Verify answers `trusted` this many more times after a change (slow propagation). */
  staleVerifies = 0;
  /** Verify answers `unknown` (system unreachable) while true. */
  unreachable = false;

  constructor(readonly id: string, readonly limits: ProviderLimits = {}) {}

  add(
    externalId: string,
    kind: TrustAnchorKind,
    memberships: string[] = [],
    extra?: Credential['extra'],
  ) {
    this.credentials.set(externalId, {
      kind,
      status: 'active',
      fingerprint: `sha256:${externalId}`,
      sessions: 1,
      memberships,
      extra,
    });
  }

  callsOf(method: Method) {
    return this.calls.filter(c => c.method === method).map(c => c.externalId);
  }

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    return request.linked
      .filter(l => this.credentials.has(l.externalId))
      .map(l => {
        const c = this.credentials.get(l.externalId)!;
        return {
          externalId: l.externalId,
          kind: c.kind,
          displayName: l.externalId,
          fingerprint: c.fingerprint,
          scopes: c.memberships,
          sharedWith: l.sharedWith,
          status: c.status,
          ...c.extra,
        };
      });
  }

  private touch(method: Method, anchor: TrustAnchor): Credential {
    this.calls.push({ method, externalId: anchor.externalId });
    const error = this.failures[method]?.shift();
    if (error) throw error;
    const credential = this.credentials.get(anchor.externalId);
    if (!credential) throw new Error(`no credential ${anchor.externalId}`);
    return credential;
  }

  async disable(anchor: TrustAnchor): Promise<ActionResult> {
    const c = this.touch('disable', anchor);
    const changed = c.status === 'active';
    if (changed) c.status = 'disabled';
    return { changed, detail: changed ? 'disabled' : 'already disabled' };
  }

  async enable(anchor: TrustAnchor): Promise<ActionResult> {
    const c = this.touch('enable', anchor);
    const changed = c.status === 'disabled';
    if (changed) c.status = 'active';
    return { changed, detail: changed ? 'enabled' : 'not disabled' };
  }

  async terminateSessions(anchor: TrustAnchor): Promise<ActionResult> {
    const c = this.touch('terminateSessions', anchor);
    const ended = c.sessions;
    c.sessions = 0;
    return {
      changed: ended > 0,
      detail: `${ended} session(s) ended`,
      observed: { ended },
    };
  }

  async removeMemberships(anchor: TrustAnchor): Promise<ActionResult> {
    const c = this.touch('removeMemberships', anchor);
    const removed = c.memberships;
    c.memberships = [];
    return {
      changed: removed.length > 0,
      detail: `removed from ${removed.join(', ') || 'nothing'}`,
      observed: { removed },
    };
  }

  async revoke(anchor: TrustAnchor): Promise<ActionResult> {
    const c = this.touch('revoke', anchor);
    const changed = c.status !== 'revoked';
    c.status = 'revoked';
    c.sessions = 0;
    return { changed, detail: changed ? 'revoked' : 'already revoked' };
  }

  async rotate(anchor: TrustAnchor): Promise<ActionResult> {
    const c = this.touch('rotate', anchor);
    const changed = c.fingerprint === anchor.fingerprint;
    if (changed) c.fingerprint = `${anchor.fingerprint}-rotated`;
    return { changed, detail: 'rotated', newFingerprint: c.fingerprint };
  }

  async verify(anchor: TrustAnchor): Promise<VerifyResult> {
    const c = this.touch('verify', anchor);
    if (this.unreachable) {
      return { outcome: 'unknown', detail: 'connection refused', observed: {} };
    }
    if (this.staleVerifies > 0) {
      this.staleVerifies--;
      return {
        outcome: 'trusted',
        detail: 'change not visible yet',
        observed: { status: 'active' },
      };
    }
    const trusted =
      c.fingerprint === anchor.fingerprint
        ? c.status === 'active' || c.sessions > 0
        : false; // rotated away: the old secret is no longer trusted
    return {
      outcome: trusted ? 'trusted' : 'untrusted',
      detail: `status ${c.status}, ${c.sessions} session(s)`,
      observed: { status: c.status, sessions: c.sessions },
    };
  }
}
