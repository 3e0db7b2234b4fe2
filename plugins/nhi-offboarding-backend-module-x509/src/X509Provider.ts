import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, basename } from 'node:path';
import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  PermanentProviderError,
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
import type { X509ProviderConfig } from './config';
import { errorText, firstLines, makeRedactor, toProviderError } from './errors';
import {
  asnTimeToIso,
  isOnHold,
  normalizeSerial,
  parseIndex,
  releaseHold,
  revocationReason,
  type IndexEntry,
} from './indexDb';
import { PASSPHRASE_ENV, runOpenssl, type OpensslRun } from './openssl';
import {
  readX509ProviderConfig,
  resolveX509Config,
  type ResolvedX509Config,
} from './readConfig';

/** Options of {@link X509Provider}. @public */
export interface X509ProviderOptions {
  config: X509ProviderConfig;
  logger: LoggerService;
}

/** What a CRL file says. */
interface CrlState {
  /** Serial (normalized) → CRL reason ('unspecified' when none is given). */
  revoked: Map<string, string>;
  nextUpdate?: string;
  signatureValid: boolean;
}

/** A certificate the CA issued, as its files describe it. No secrets. */
interface Issued {
  entry: IndexEntry;
  serial: string;
  file?: string;
  cert?: X509Certificate;
  fingerprint?: string;
}

const ESTABLISHED_NOTE =
  'TLS connections established before the revocation are not re-checked by servers; they last until they close.';

/** `sha256:` + hex of the SHA-256 of the certificate's DER encoding. */
export function certificateFingerprint(cert: X509Certificate): string {
  return `sha256:${createHash('sha256').update(cert.raw).digest('hex')}`;
}

function normalizeFingerprint(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/^sha-?256:/, '')
    .replace(/:/g, '');
}

/**
 * The ways a certificate may name an entity: its full ref
 * (`component:default/payments-api`, optionally with a `backstage:` prefix
 * as in a SAN URI) and, in the default namespace, `component:payments-api`.
 */
export function refForms(entityRef: string): string[] {
  const ref = entityRef.toLowerCase();
  const forms = [ref];
  const short = /^([^:]+):default\/(.+)$/.exec(ref);
  if (short) forms.push(`${short[1]}:${short[2]}`);
  return forms;
}

/** The attribute values of an openssl one-line DN (`/CN=a\/b/O=x`). */
export function dnValues(subject: string): string[] {
  const values: string[] = [];
  for (const part of subject.split(/(?<!\\)\//)) {
    const eq = part.indexOf('=');
    if (eq > 0) values.push(part.slice(eq + 1).replace(/\\(.)/g, '$1'));
  }
  return values;
}

/** The values of Node's `subjectAltName` string (`URI:x, DNS:y`). */
export function sanValues(san: string | undefined): string[] {
  if (!san) return [];
  return san
    .split(/,\s*/)
    .map(item => item.slice(item.indexOf(':') + 1).replace(/^"|"$/g, ''));
}

function anchorStatus(entry: IndexEntry): DiscoveredAnchor['status'] {
  if (entry.status === 'R') return isOnHold(entry) ? 'disabled' : 'revoked';
  return entry.status === 'V' ? 'active' : 'unknown';
}

function namesEntity(values: string[], forms: string[]): boolean {
  return values.some(v => {
    const value = v
      .trim()
      .toLowerCase()
      .replace(/^backstage:/, '');
    return forms.includes(value);
  });
}

/**
 * Client certificates of a CA run with `openssl ca` (index.txt) as trust
 * anchors (kind `certificate`, one per serial).
 *
 * `disable` puts a certificate on hold (CRL reason certificateHold), which
 * `enable` lifts; `revoke` revokes it for good. Both publish a new CRL.
 *
 * @public
 */
export class X509Provider implements TrustAnchorProvider {
  readonly type = 'x509';
  readonly id: string;
  readonly limits: ProviderLimits;

  private readonly options: ResolvedX509Config;
  private readonly logger: LoggerService;
  private readonly redact: (text: string) => string;
  /** openssl ca keeps no lock on its database: one writer at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Builds a provider from a `nhiOffboarding.providers` entry. */
  static fromConfig(
    config: Config,
    options: { id?: string; logger: LoggerService },
  ): X509Provider {
    return new X509Provider({
      config: readX509ProviderConfig(config, options.id),
      logger: options.logger,
    });
  }

  constructor(options: X509ProviderOptions) {
    this.options = resolveX509Config(options.config);
    this.id = this.options.id;
    this.redact = makeRedactor(this.options.secrets);
    this.logger = options.logger.child({
      provider: this.id,
      providerType: 'x509',
    });
    this.limits = {
      // Writes are serialized in the provider anyway; reads are cheap.
      concurrency: 1,
      propagationWindowMs: 0,
    };
  }

  /** The CA folder, for people. */
  get ca(): string {
    return this.options.caDir;
  }

  // ---------------------------------------------------------------- discover

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    const what = `discover the certificates of ${request.entityRef}`;
    const entries = await this.guard(what, () => this.readIndex());
    const anchors: DiscoveredAnchor[] = [];
    const seen = new Set<string>();
    for (const link of request.linked) {
      const serial = normalizeSerial(link.externalId);
      if (!serial) {
        anchors.push({
          externalId: link.externalId,
          kind: 'certificate',
          displayName: `X.509 certificate "${link.externalId}" of CA ${this.ca} (not a hexadecimal serial number)`,
          sharedWith: link.sharedWith,
          status: 'unknown',
        });
        continue;
      }
      if (seen.has(serial)) continue;
      seen.add(serial);
      const entry = this.findEntry(entries, serial);
      if (!entry) {
        anchors.push({
          externalId: link.externalId,
          kind: 'certificate',
          displayName: `X.509 certificate ${serial} (not in the database of CA ${this.ca})`,
          sharedWith: link.sharedWith,
          status: 'unknown',
        });
        continue;
      }
      anchors.push(
        this.describe(
          await this.issued(entry),
          link.externalId,
          link.sharedWith,
        ),
      );
    }
    if (this.options.discoverByName) {
      const forms = refForms(request.entityRef);
      for (const entry of entries) {
        const serial = normalizeSerial(entry.serial)!;
        if (seen.has(serial) || entry.status === 'E') continue;
        const issued = await this.issued(entry);
        const bySubject = namesEntity(dnValues(entry.subject), forms);
        const bySan = namesEntity(
          sanValues(issued.cert?.subjectAltName),
          forms,
        );
        if (!bySubject && !bySan) continue;
        seen.add(serial);
        const anchor = this.describe(issued, entry.serial, []);
        anchor.displayName += ` (found by its ${
          bySubject ? 'subject' : 'subjectAltName'
        })`;
        anchors.push(anchor);
      }
    }
    return anchors;
  }

  private describe(
    issued: Issued,
    externalId: string,
    sharedWith: string[],
  ): DiscoveredAnchor {
    const { entry, cert } = issued;
    const expiresAt = asnTimeToIso(entry.expires);
    const expired =
      expiresAt !== undefined && Date.parse(expiresAt) < Date.now();
    const scopes: string[] = [];
    if (cert?.keyUsage?.length) {
      scopes.push(`extendedKeyUsage ${cert.keyUsage.join(', ')}`);
    }
    if (cert?.subjectAltName)
      scopes.push(`subjectAltName ${cert.subjectAltName}`);
    return {
      externalId,
      kind: 'certificate',
      displayName: `X.509 certificate ${entry.serial} ${entry.subject} of CA ${
        this.ca
      }${expired ? ' (expired)' : ''}`,
      fingerprint: issued.fingerprint,
      scopes,
      sharedWith,
      createdAt: cert ? new Date(cert.validFrom).toISOString() : undefined,
      expiresAt,
      // The CA records no use of a certificate.
      status: anchorStatus(entry),
    };
  }

  // ----------------------------------------------------------------- actions

  /** Puts the certificate on hold (CRL reason certificateHold) and publishes the CRL. */
  async disable(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    return this.exclusive(async () => {
      const issued = await this.target(anchor, ctx, 'disable');
      const { entry } = issued;
      let changed = false;
      if (entry.status === 'R') {
        // On hold or revoked for good: either way it is not trusted.
      } else {
        await this.opensslRevoke(issued, 'certificateHold', ctx, 'put on hold');
        changed = true;
      }
      const crl = await this.ensureCrl(issued.serial, ctx);
      const reason = changed ? 'certificateHold' : revocationReason(entry);
      return this.done(ctx, 'disable', {
        changed: changed || crl.published,
        detail: changed
          ? `Put certificate ${issued.serial} of CA ${this.ca} on hold (certificateHold, reversible) and published the CRL. ${ESTABLISHED_NOTE}`
          : `Certificate ${issued.serial} of CA ${
              this.ca
            } was already revoked (${reason})${
              crl.published ? '; published a CRL that lists it' : ''
            }.`,
        observed: {
          ...this.base(issued),
          status: 'R',
          reason,
          crlPath: this.options.crlPath,
          crlPublished: crl.published,
          crlListsCertificate: true,
          establishedConnectionsRechecked: false,
        },
      });
    });
  }

  /** Lifts a hold: the index entry becomes valid again and the CRL no longer lists it. */
  async enable(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    return this.exclusive(async () => {
      const issued = await this.target(anchor, ctx, 'enable');
      const { entry } = issued;
      if (entry.status === 'R' && !isOnHold(entry)) {
        throw new PermanentProviderError(
          `Certificate ${issued.serial} of CA ${
            this.ca
          } is revoked for good (${revocationReason(
            entry,
          )}); only a hold (certificateHold) can be lifted. Issue a new certificate instead.`,
        );
      }
      let changed = false;
      if (entry.status === 'R') {
        await this.guard(`lift the hold of certificate ${issued.serial}`, () =>
          this.rewriteIndex(text => releaseHold(text, issued.serial)),
        );
        changed = true;
      }
      const crl = await this.publishCrlIfListed(issued.serial, ctx);
      return this.done(ctx, 'enable', {
        changed: changed || crl,
        detail: changed
          ? `Lifted the hold of certificate ${issued.serial} of CA ${this.ca} and published a CRL without it.`
          : `Certificate ${issued.serial} of CA ${this.ca} was not on hold.`,
        observed: {
          ...this.base(issued),
          status: 'V',
          crlPath: this.options.crlPath,
          crlPublished: crl || changed,
        },
      });
    });
  }

  /** Revokes for good (`revokeReason`) and publishes the CRL. */
  async revoke(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    return this.exclusive(async () => {
      const issued = await this.target(anchor, ctx, 'revoke');
      const { entry } = issued;
      const reason = this.options.revokeReason;
      let changed = false;
      let heldBefore = false;
      if (entry.status !== 'R' || isOnHold(entry)) {
        if (isOnHold(entry)) {
          // openssl ca cannot change a revocation reason: lift the hold, then
          // revoke for good, in one exclusive step.
          heldBefore = true;
          await this.guard(
            `replace the hold of certificate ${issued.serial}`,
            () => this.rewriteIndex(text => releaseHold(text, issued.serial)),
          );
        }
        await this.opensslRevoke(issued, reason, ctx, 'revoke');
        changed = true;
      }
      const crl = await this.ensureCrl(issued.serial, ctx);
      const finalReason = changed ? reason : revocationReason(entry);
      return this.done(ctx, 'revoke', {
        changed: changed || crl.published,
        detail: changed
          ? `Revoked certificate ${issued.serial} of CA ${this.ca} (${reason})${
              heldBefore ? ' after lifting its hold' : ''
            } and published the CRL. ${ESTABLISHED_NOTE}`
          : `Certificate ${issued.serial} of CA ${
              this.ca
            } was already revoked (${finalReason})${
              crl.published ? '; published a CRL that lists it' : ''
            }.`,
        observed: {
          ...this.base(issued),
          status: 'R',
          reason: finalReason,
          wasOnHold: heldBefore,
          crlPath: this.options.crlPath,
          crlPublished: crl.published,
          crlListsCertificate: true,
          establishedConnectionsRechecked: false,
        },
      });
    });
  }

  // ------------------------------------------------------------------ verify

  async verify(anchor: TrustAnchor, ctx: ActionContext): Promise<VerifyResult> {
    const checkedAt = new Date().toISOString();
    const serial = normalizeSerial(anchor.externalId);
    const observed: Record<string, unknown> = {
      ca: this.ca,
      serial: serial ?? anchor.externalId,
      checkedAt,
      establishedConnectionsRechecked: false,
    };
    const unknown = (detail: string): VerifyResult => ({
      outcome: 'unknown',
      detail,
      observed,
    });
    if (!serial)
      return unknown(`"${anchor.externalId}" is not a serial number.`);
    try {
      let entries: IndexEntry[];
      try {
        entries = await this.readIndex();
      } catch (err) {
        return unknown(
          `The database of CA ${this.ca} cannot be read: ${this.redact(
            errorText(err),
          )}`,
        );
      }
      const entry = this.findEntry(entries, serial);
      if (!entry) {
        return unknown(
          `Certificate ${serial} is not in the database of CA ${this.ca}.`,
        );
      }
      const issued = await this.issued(entry);
      observed.indexStatus = entry.status;
      observed.reason = revocationReason(entry);
      observed.fingerprint = issued.fingerprint;
      if (
        anchor.fingerprint &&
        issued.fingerprint &&
        normalizeFingerprint(anchor.fingerprint) !==
          normalizeFingerprint(issued.fingerprint)
      ) {
        return unknown(
          `Certificate ${serial} of CA ${this.ca} has another fingerprint than the anchor: not the same certificate.`,
        );
      }
      let crl: CrlState;
      try {
        crl = await this.readCrl(ctx.signal);
      } catch (err) {
        return unknown(
          `The CRL ${this.options.crlPath} of CA ${
            this.ca
          } cannot be read: ${this.redact(errorText(err))}`,
        );
      }
      observed.crlListsCertificate = crl.revoked.has(serial);
      observed.crlReason = crl.revoked.get(serial);
      observed.crlNextUpdate = crl.nextUpdate;
      observed.crlSignatureValid = crl.signatureValid;

      // What a relying party that loads the CA and the CRL decides.
      let chain: { ok: boolean; error?: number; message?: string } | undefined;
      if (issued.file) {
        chain = await this.relyingPartyCheck(issued.file, ctx.signal);
        observed.relyingPartyCheck = chain.ok
          ? 'accepted'
          : `rejected: error ${chain.error} ${chain.message}`;
      }
      let ocsp: string | undefined;
      if (this.options.ocspUrl) {
        if (!issued.file) {
          return unknown(
            `The certificate file of ${serial} is missing, so OCSP cannot be asked.`,
          );
        }
        ocsp = await this.ocspStatus(issued.file, ctx.signal);
        observed.ocspUrl = this.options.ocspUrl;
        observed.ocspStatus = ocsp;
        if (ocsp === 'unreachable') {
          return unknown(
            `The OCSP responder ${this.options.ocspUrl} of CA ${this.ca} did not answer.`,
          );
        }
      }

      const expired = chain?.error === 10;
      const crlRevoked =
        crl.revoked.has(serial) &&
        crl.signatureValid &&
        (chain ? chain.error === 23 : true);
      const ocspRevoked = ocsp === undefined || ocsp === 'revoked';
      if (entry.status === 'R' && crlRevoked && ocspRevoked) {
        const held = isOnHold(entry);
        return {
          outcome: 'untrusted',
          detail: `Certificate ${serial} of CA ${this.ca} is ${
            held
              ? 'on hold (certificateHold, reversible)'
              : `revoked (${observed.reason})`
          } in the CA database and listed in the published CRL${
            ocsp ? ', and the OCSP responder answers revoked' : ''
          }; a TLS server that loads this CRL rejects it (CERT_REVOKED). ${ESTABLISHED_NOTE}`,
          observed,
        };
      }
      if (expired && !crl.revoked.has(serial)) {
        return {
          outcome: 'untrusted',
          detail: `Certificate ${serial} of CA ${this.ca} has expired; TLS servers reject it (it is not revoked).`,
          observed,
        };
      }
      const reasons: string[] = [];
      if (entry.status !== 'R')
        reasons.push(
          `the CA database has it as ${
            entry.status === 'V' ? 'valid' : entry.status
          }`,
        );
      if (!crl.revoked.has(serial))
        reasons.push('the published CRL does not list it');
      else if (!crl.signatureValid)
        reasons.push('the published CRL is not signed by the CA');
      else if (chain && chain.error !== 23)
        reasons.push(
          `a relying party check ${
            chain.ok
              ? 'accepts it'
              : `fails with another error (${chain.error} ${chain.message})`
          }`,
        );
      if (ocsp && ocsp !== 'revoked')
        reasons.push(`the OCSP responder answers ${ocsp}`);
      return {
        outcome: 'trusted',
        detail: `Certificate ${serial} of CA ${
          this.ca
        } is still trusted: ${reasons.join('; ')}.`,
        observed,
      };
    } catch (err) {
      return unknown(
        `Could not verify certificate ${serial} of CA ${this.ca}: ${this.redact(
          errorText(err),
        )}`,
      );
    }
  }

  // ----------------------------------------------------------------- helpers

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toProviderError(err, { ca: this.ca, what, redact: this.redact });
    }
  }

  private async readIndex(): Promise<IndexEntry[]> {
    await stat(this.options.caDir);
    return parseIndex(await readFile(this.options.database, 'utf8'));
  }

  private findEntry(entries: IndexEntry[], serial: string) {
    return entries.find(e => normalizeSerial(e.serial) === serial);
  }

  private async issued(entry: IndexEntry): Promise<Issued> {
    const serial = normalizeSerial(entry.serial)!;
    const candidates = [join(this.options.certsDir, `${entry.serial}.pem`)];
    if (entry.file && entry.file !== 'unknown') {
      candidates.unshift(
        isAbsolute(entry.file)
          ? entry.file
          : join(this.options.caDir, entry.file),
      );
    }
    for (const file of candidates) {
      try {
        const cert = new X509Certificate(await readFile(file));
        return {
          entry,
          serial,
          file,
          cert,
          fingerprint: certificateFingerprint(cert),
        };
      } catch {
        // try the next place
      }
    }
    return { entry, serial };
  }

  private async target(
    anchor: TrustAnchor,
    ctx: ActionContext,
    action: string,
  ): Promise<Issued> {
    const serial = normalizeSerial(anchor.externalId);
    if (!serial) {
      throw new PermanentProviderError(
        `"${anchor.externalId}" is not a certificate serial number (hexadecimal).`,
      );
    }
    const entries = await this.guard(`${action} certificate ${serial}`, () =>
      this.readIndex(),
    );
    const entry = this.findEntry(entries, serial);
    if (!entry) {
      throw new PermanentProviderError(
        `Certificate ${serial} is not in the database ${this.options.database} of CA ${this.ca}; it was not issued by this CA.`,
      );
    }
    const issued = await this.issued(entry);
    if (
      anchor.fingerprint &&
      issued.fingerprint &&
      normalizeFingerprint(anchor.fingerprint) !==
        normalizeFingerprint(issued.fingerprint)
    ) {
      throw new PermanentProviderError(
        `Certificate ${serial} of CA ${this.ca} has fingerprint ${issued.fingerprint}, not the anchor's ${anchor.fingerprint}; refusing to ${action} another certificate.`,
      );
    }
    ctx.logger.debug?.(`x509 ${action} of certificate ${serial}`);
    return issued;
  }

  private base(issued: Issued): Record<string, unknown> {
    return {
      ca: this.ca,
      serial: issued.serial,
      subject: issued.entry.subject,
      fingerprint: issued.fingerprint,
    };
  }

  private passphraseArgs(): string[] {
    return this.options.caKeyPassphrase !== undefined
      ? ['-passin', `env:${PASSPHRASE_ENV}`]
      : [];
  }

  private openssl(
    args: string[],
    signal: AbortSignal | undefined,
    allowFailure = false,
  ): Promise<OpensslRun> {
    return runOpenssl(this.options.opensslPath, args, {
      timeoutMs: this.options.commandTimeoutMs,
      signal,
      passphrase: this.options.caKeyPassphrase,
      allowFailure,
      redact: this.redact,
    });
  }

  private async opensslRevoke(
    issued: Issued,
    reason: string,
    ctx: ActionContext,
    what: string,
  ) {
    if (!issued.file) {
      throw new PermanentProviderError(
        `The certificate file of ${issued.serial} is not in ${this.options.certsDir} (as ${issued.entry.serial}.pem), and openssl ca -revoke needs it. Set certsDir to where the CA keeps issued certificates by serial.`,
      );
    }
    await this.guard(`${what} certificate ${issued.serial}`, () =>
      this.openssl(
        [
          'ca',
          '-config',
          this.options.opensslConfig,
          ...this.passphraseArgs(),
          '-revoke',
          issued.file!,
          '-crl_reason',
          reason,
        ],
        ctx.signal,
      ),
    );
    const after = this.findEntry(await this.readIndex(), issued.serial);
    if (!after || after.status !== 'R') {
      throw new PermanentProviderError(
        `openssl ca -revoke did not mark certificate ${issued.serial} as revoked in ${this.options.database}: does opensslConfig (${this.options.opensslConfig}) name the same database?`,
      );
    }
  }

  /** Generates the CRL to a temporary file and renames it over crlPath. */
  private async publishCrl(signal: AbortSignal | undefined) {
    const target = this.options.crlPath;
    const tmp = join(
      dirname(target),
      `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    await this.guard('generate the CRL', async () => {
      try {
        await this.openssl(
          [
            'ca',
            '-config',
            this.options.opensslConfig,
            ...this.passphraseArgs(),
            '-gencrl',
            '-crldays',
            String(this.options.crlDays),
            '-out',
            tmp,
          ],
          signal,
        );
        await rename(tmp, target);
      } finally {
        await rm(tmp, { force: true });
      }
    });
  }

  /**
   * Publishes a CRL unless the current one, signed by the CA, already lists
   * the serial with the reason the database has.
   */
  private async ensureCrl(
    serial: string,
    ctx: ActionContext,
  ): Promise<{ published: boolean }> {
    const entry = this.findEntry(
      await this.guard('read the CA database', () => this.readIndex()),
      serial,
    );
    const wanted = entry ? revocationReason(entry) : undefined;
    try {
      const crl = await this.readCrl(ctx.signal);
      if (crl.signatureValid && crl.revoked.get(serial) === wanted) {
        return { published: false };
      }
    } catch {
      // no readable CRL yet: publish one
    }
    await this.publishCrl(ctx.signal);
    const crl = await this.guard('read the new CRL', () =>
      this.readCrl(ctx.signal),
    );
    if (!crl.revoked.has(serial)) {
      throw new PermanentProviderError(
        `The CRL generated by openssl ca does not list certificate ${serial}: does opensslConfig (${this.options.opensslConfig}) name the database ${this.options.database}?`,
      );
    }
    return { published: true };
  }

  /** Publishes a new CRL when the current one still lists the serial. */
  private async publishCrlIfListed(serial: string, ctx: ActionContext) {
    let listed = true;
    try {
      listed = (await this.readCrl(ctx.signal)).revoked.has(serial);
    } catch {
      listed = true;
    }
    if (!listed) return false;
    await this.publishCrl(ctx.signal);
    return true;
  }

  private async rewriteIndex(change: (text: string) => string) {
    const file = this.options.database;
    const text = await readFile(file, 'utf8');
    const next = change(text);
    if (next === text) return;
    const info = await stat(file);
    // openssl ca keeps the previous database as index.txt.old as well.
    await writeFile(`${file}.old`, text, { mode: info.mode & 0o777 });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, next, { mode: info.mode & 0o777 });
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Reads the published CRL: which serials it lists, and whether the CA signed it. */
  private async readCrl(signal: AbortSignal | undefined): Promise<CrlState> {
    await stat(this.options.crlPath);
    const run = await this.openssl(
      [
        'crl',
        '-in',
        this.options.crlPath,
        '-CAfile',
        this.options.caCert,
        '-noout',
        '-text',
      ],
      signal,
      true,
    );
    if (run.exitCode !== 0 && !/verify failure/i.test(run.stderr)) {
      throw new Error(`openssl crl failed: ${firstLines(run.stderr)}`);
    }
    const revoked = new Map<string, string>();
    let current: string | undefined;
    for (const line of run.stdout.split('\n')) {
      const s = /^\s*Serial Number:\s*([0-9A-Fa-f:]+)/.exec(line);
      if (s) {
        current = normalizeSerial(s[1]);
        if (current) revoked.set(current, 'unspecified');
        continue;
      }
      const r =
        /^\s*(Certificate Hold|Key Compromise|CA Compromise|Affiliation Changed|Superseded|Cessation Of Operation|Unspecified|Remove From CRL)\s*$/i.exec(
          line,
        );
      if (r && current) {
        const words = r[1].split(/\s+/);
        revoked.set(
          current,
          r[1] === 'CA Compromise'
            ? 'CACompromise'
            : words[0].toLowerCase() +
                words
                  .slice(1)
                  .map(w => w[0].toUpperCase() + w.slice(1).toLowerCase())
                  .join(''),
        );
      }
    }
    const next = /Next Update:\s*(.+)/.exec(run.stdout);
    return {
      revoked,
      nextUpdate: next ? new Date(next[1].trim()).toISOString() : undefined,
      signatureValid: /verify OK/.test(run.stderr + run.stdout),
    };
  }

  /**
   * `openssl verify -crl_check` against the CA and the published CRL: the
   * check a TLS server with `ca` and `crl` makes (error 23 is what Node
   * reports as CERT_REVOKED, 10 CERT_HAS_EXPIRED).
   */
  private async relyingPartyCheck(
    file: string,
    signal: AbortSignal | undefined,
  ) {
    const run = await this.openssl(
      [
        'verify',
        '-crl_check',
        '-purpose',
        'sslclient',
        '-CAfile',
        this.options.caCert,
        '-CRLfile',
        this.options.crlPath,
        file,
      ],
      signal,
      true,
    );
    const text = `${run.stdout}\n${run.stderr}`;
    const m = /error (\d+) at \d+ depth lookup: ?(.*)/.exec(text);
    if (run.exitCode === 0 && !m) return { ok: true };
    return {
      ok: false,
      error: m ? Number(m[1]) : undefined,
      message: m ? m[2].trim() : firstLines(text),
    };
  }

  private async ocspStatus(
    file: string,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const run = await this.openssl(
      [
        'ocsp',
        '-issuer',
        this.options.caCert,
        '-cert',
        file,
        '-url',
        this.options.ocspUrl!,
        '-CAfile',
        this.options.caCert,
        '-timeout',
        String(Math.max(1, Math.ceil(this.options.commandTimeoutMs / 2000))),
      ],
      signal,
      true,
    );
    const m = /:\s*(good|revoked|unknown)\s*$/m.exec(run.stdout);
    if (run.exitCode !== 0 || !m) return 'unreachable';
    if (!/Response verify OK/.test(run.stdout + run.stderr)) {
      return 'unverified-response';
    }
    return m[1];
  }

  private done(
    ctx: ActionContext,
    action: string,
    result: ActionResult,
  ): ActionResult {
    ctx.logger.info(`x509 ${action}: ${result.detail}`, {
      provider: this.id,
      changed: result.changed,
    });
    this.logger.debug?.(`x509 ${action} done`, { changed: result.changed });
    return result;
  }
}

/**
 * Builds an {@link X509Provider} from a `nhiOffboarding.providers` entry of
 * type `x509`.
 * @public
 */
export const x509ProviderFactory: TrustAnchorProviderFactory = ({
  id,
  config,
  logger,
}) => X509Provider.fromConfig(config, { id, logger });
