/*
 * SIMULATION. This is not a credential system: it is a small in-process
 * store of FAKE credentials that the demo provider acts on, so the portal can
 * be tried without a real secret store, database or cloud account. It holds
 * no secrets, only ids and fake fingerprints derived from the ids.
 *
 * The state is kept in a JSON file and every change is written to disk
 * (temp file + fsync + rename) before the call that made it returns, so a
 * restart or a crash never brings a revoked credential back.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StateFileLock, isProcessRunning } from './stateFileLock';
import {
  TRUST_ANCHOR_KINDS,
  TrustAnchorKind,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

/** The states a simulated credential can be in. */
export type DemoCredentialStatus = 'active' | 'disabled' | 'revoked';

/** One rotation of a simulated credential. */
export interface DemoRotation {
  at: string;
  fromFingerprint: string;
  toFingerprint: string;
  /** The retirement step that asked for it: a re-run of the step is a no-op. */
  stepId?: string;
  retirementId?: string;
}

/** A simulated credential. Never holds a secret. */
export interface DemoCredential {
  /** `<kind>:<name>`, e.g. `api-key:payments-stripe`. */
  externalId: string;
  kind: TrustAnchorKind;
  name: string;
  status: DemoCredentialStatus;
  /** `sha256:` + hex; derived from the id (and the rotation count), not from a secret. */
  fingerprint: string;
  /** Fingerprints that were rotated out: the system no longer accepts them. */
  retiredFingerprints: string[];
  rotations: DemoRotation[];
  /** Simulated live sessions / tokens issued to this identity. */
  sessions: number;
  /** Simulated groups and roles this identity is a member of. */
  memberships: string[];
  createdAt: string;
  lastUsedAt: string;
  updatedAt: string;
  disabledAt?: string;
  revokedAt?: string;
}

interface StateFile {
  version: 1;
  credentials: Record<string, DemoCredential>;
}

const KIND_SET: ReadonlySet<string> = new Set(TRUST_ANCHOR_KINDS);

/** Splits `<kind>:<name>`; an id without a known kind prefix is of kind `other`. */
export function parseDemoExternalId(externalId: string): {
  kind: TrustAnchorKind;
  name: string;
} {
  const trimmed = externalId.trim();
  const colon = trimmed.indexOf(':');
  if (colon > 0) {
    const kind = trimmed.slice(0, colon);
    const name = trimmed.slice(colon + 1);
    if (KIND_SET.has(kind) && name.length > 0) {
      return { kind: kind as TrustAnchorKind, name };
    }
  }
  return { kind: 'other', name: trimmed };
}

/** A fake fingerprint: `sha256:` + hex of SHA-256 of the input. Not a secret. */
export function fakeFingerprint(input: string): string {
  return `sha256:${createHash('sha256').update(input).digest('hex')}`;
}

/** A number in [0, 1) derived from a string, for stable fake timestamps. */
function stableFraction(input: string, salt: string): number {
  const digest = createHash('sha256').update(`${salt}:${input}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Identities that hold memberships (groups, roles) in the simulated system. */
function kindHasMemberships(kind: TrustAnchorKind): boolean {
  return (
    kind === 'service-account' ||
    kind === 'iam-user' ||
    kind === 'oauth-client' ||
    kind === 'db-user'
  );
}

function kindHasSessions(kind: TrustAnchorKind): boolean {
  return (
    kind === 'service-account' ||
    kind === 'iam-user' ||
    kind === 'iam-role' ||
    kind === 'oauth-client' ||
    kind === 'db-user' ||
    kind === 'session'
  );
}

/** Options of {@link DemoCredentialStore}. */
export interface DemoCredentialStoreOptions {
  /** Absolute path of the JSON state file. */
  file: string;
  now?: () => Date;
}

/** A change waiting to be applied under the lock and written. */
interface PendingChange {
  /** Changes `credentials` in place; true when something changed. */
  apply: (credentials: Map<string, DemoCredential>) => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The simulated credential store behind one demo provider instance.
 *
 * Reads are served from memory, refreshed when the file was replaced. Changes
 * are queued and applied by one write loop that, per batch, takes an
 * exclusive lock on the state file (see StateFileLock), re-reads the file if
 * another instance or process replaced it, applies the queued changes to that
 * fresh state and writes it (temp file + fsync + rename) before releasing the
 * lock. So two backend processes sharing one state file never lose each
 * other's changes, and a change is decided on the newest state (a credential
 * revoked by one process is seen as revoked by the other). Changes queued in
 * the same tick are written together (group commit).
 */
export class DemoCredentialStore {
  readonly file: string;
  private readonly now: () => Date;
  private readonly lock: StateFileLock;
  private credentials = new Map<string, DemoCredential>();
  /** Identity of the file we last read or wrote: inode, size, mtime. */
  private fileStamp?: string;
  private writing = false;
  private queue: PendingChange[] = [];
  private tmpCounter = 0;

  constructor(options: DemoCredentialStoreOptions) {
    this.file = options.file;
    this.now = options.now ?? (() => new Date());
    this.lock = new StateFileLock(this.file);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.removeStaleTempFiles();
    this.reloadIfChanged();
  }

  /**
   * A process killed between writing a temp file and renaming it leaves the
   * temp file behind (the state file itself is intact); one killed while
   * taking the lock leaves a lock candidate. Remove those of processes that
   * no longer run.
   */
  private removeStaleTempFiles(): void {
    const prefix = `${path.basename(this.file)}.`;
    for (const name of fs.readdirSync(path.dirname(this.file))) {
      const match = name.startsWith(prefix)
        ? /^(?:(\d+)\.\d+\.[0-9a-f]+\.tmp|lock\.(\d+)\.[0-9a-f]+\.(?:new|stale))$/.exec(
            name.slice(prefix.length),
          )
        : null;
      if (match && !isProcessRunning(Number(match[1] ?? match[2]))) {
        fs.rmSync(path.join(path.dirname(this.file), name), { force: true });
      }
    }
  }

  /** Number of credentials in the store. */
  get size(): number {
    this.reloadIfChanged();
    return this.credentials.size;
  }

  get(externalId: string): DemoCredential | undefined {
    this.reloadIfChanged();
    const credential = this.credentials.get(externalId);
    return credential ? structuredClone(credential) : undefined;
  }

  list(): DemoCredential[] {
    this.reloadIfChanged();
    return [...this.credentials.values()].map(c => structuredClone(c));
  }

  /**
   * Returns the credential, creating it as an active one the first time an id
   * is seen. Resolves after the new credential is on disk.
   */
  async ensure(externalId: string): Promise<DemoCredential> {
    this.reloadIfChanged();
    const known = this.credentials.get(externalId);
    if (known) {
      return structuredClone(known);
    }
    let result!: DemoCredential;
    await this.commit(credentials => {
      // Another process may have created it meanwhile: keep theirs.
      const existing = credentials.get(externalId);
      if (existing) {
        result = structuredClone(existing);
        return false;
      }
      const credential = this.newCredential(externalId);
      credentials.set(externalId, credential);
      result = structuredClone(credential);
      return true;
    });
    return result;
  }

  private newCredential(externalId: string): DemoCredential {
    const { kind, name } = parseDemoExternalId(externalId);
    const nowMs = this.now().getTime();
    // Plausible but stable ages: created 30-400 days ago, used in the last 3 days.
    const createdAt = new Date(
      nowMs -
        Math.round((30 + stableFraction(externalId, 'created') * 370) * DAY_MS),
    ).toISOString();
    const lastUsedAt = new Date(
      nowMs - Math.round(stableFraction(externalId, 'used') * 3 * DAY_MS),
    ).toISOString();
    return {
      externalId,
      kind,
      name,
      status: 'active',
      fingerprint: fakeFingerprint(externalId),
      retiredFingerprints: [],
      rotations: [],
      sessions: kindHasSessions(kind)
        ? 1 + Math.floor(stableFraction(externalId, 'sessions') * 3)
        : 0,
      memberships: kindHasMemberships(kind)
        ? [`role:${name}-runtime`, `group:${name.split(/[-_]/)[0]}-services`]
        : [],
      createdAt,
      lastUsedAt,
      updatedAt: new Date(nowMs).toISOString(),
    };
  }

  /**
   * Applies `change` to the stored credential, on the newest state of the
   * file and under the lock, and writes the result. `change` returns false
   * when there was nothing to do.
   */
  async update(
    externalId: string,
    change: (credential: DemoCredential) => boolean,
  ): Promise<{ credential?: DemoCredential; changed: boolean }> {
    let result: { credential?: DemoCredential; changed: boolean } = {
      changed: false,
    };
    await this.commit(credentials => {
      const current = credentials.get(externalId);
      if (!current) {
        result = { changed: false };
        return false;
      }
      const draft = structuredClone(current);
      const changed = change(draft);
      if (changed) {
        draft.updatedAt = this.now().toISOString();
        credentials.set(externalId, draft);
      }
      result = { credential: structuredClone(draft), changed };
      return changed;
    });
    return result;
  }

  /** Resolves when every change queued so far is on disk. */
  async flush(): Promise<void> {
    if (this.writing || this.queue.length > 0) {
      await this.commit(() => false);
    }
  }

  /**
   * Queues a change. `apply` runs under the lock on the fresh state and says
   * whether it changed anything; the call resolves once that is on disk.
   */
  private commit(apply: PendingChange['apply']): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ apply, resolve, reject });
      if (!this.writing) {
        void this.writeLoop();
      }
    });
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        const failures = new Map<PendingChange, Error>();
        try {
          await this.lock.withLock(async () => {
            this.reloadIfChanged();
            // Applied to a copy: readers never see a change before it is on disk.
            const next = new Map(this.credentials);
            let dirty = false;
            for (const change of batch) {
              try {
                dirty = change.apply(next) || dirty;
              } catch (error) {
                failures.set(change, error as Error);
              }
            }
            if (dirty) {
              await this.writeFile(next);
            }
            this.credentials = next;
          });
        } catch (error) {
          batch.forEach(c => failures.set(c, error as Error));
        }
        for (const change of batch) {
          const failure = failures.get(change);
          if (failure) change.reject(failure);
          else change.resolve();
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Atomic, durable replace: write a temp file, fsync it, rename it over. */
  private async writeFile(
    credentials: Map<string, DemoCredential>,
  ): Promise<void> {
    const state: StateFile = {
      version: 1,
      credentials: Object.fromEntries(
        [...credentials.entries()].sort(([a], [b]) => a.localeCompare(b)),
      ),
    };
    const tmp = `${this.file}.${process.pid}.${++this.tmpCounter}.${randomBytes(
      4,
    ).toString('hex')}.tmp`;
    const handle = await fs.promises.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.promises.rename(tmp, this.file);
    } catch (error) {
      await fs.promises.rm(tmp, { force: true });
      throw error;
    }
    this.fileStamp = this.stampOf(fs.statSync(this.file));
  }

  private stampOf(stat: fs.Stats): string {
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  }

  /**
   * Re-reads the file if someone else replaced it since we last saw it.
   * Memory only ever holds a state that is on disk, so this is always safe.
   */
  private reloadIfChanged(): void {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return; // Nothing persisted yet: start empty.
      }
      throw error;
    }
    const stamp = this.stampOf(stat);
    if (stamp === this.fileStamp) {
      return;
    }
    const text = fs.readFileSync(this.file, 'utf8');
    let parsed: StateFile;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // Refuse to start over: that would bring revoked credentials back.
      throw new Error(
        `The simulated credential store ${this.file} is not valid JSON (${
          (error as Error).message
        }); fix or delete the file`,
      );
    }
    if (parsed?.version !== 1 || typeof parsed.credentials !== 'object') {
      throw new Error(
        `The simulated credential store ${this.file} has an unknown format; fix or delete the file`,
      );
    }
    this.credentials = new Map(
      Object.entries(parsed.credentials).map(([id, c]) => [
        id,
        // Files written before a field existed get its neutral value.
        {
          ...c,
          memberships: c.memberships ?? [],
          rotations: c.rotations ?? [],
        },
      ]),
    );
    this.fileStamp = stamp;
  }
}
