import { randomBytes } from 'node:crypto';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  TrustAnchor,
  TrustAnchorKind,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { ActionContext } from '../provider';

/** @public */
export interface ProviderTestKitOptions {
  /** The provider id the anchors name. */
  providerId: string;
  /** The entity the anchors belong to. */
  entityRef: string;
  /** The default kind of {@link ProviderTestKit.anchorOf}'s anchors. */
  kind: TrustAnchorKind;
}

/**
 * What a provider test needs to prove a provider never leaks a secret: a
 * logger and a call wrapper that keep everything the provider said, and the
 * list of secrets that must never appear in it.
 * @public
 */
export interface ProviderTestKit {
  logger: LoggerService;
  /** Every secret in play (passwords, tokens, keys). */
  secrets: string[];
  /** Every result and error the provider gave through {@link ProviderTestKit.call}. */
  outputs: unknown[];
  logLines: string[];
  /** A fresh action context that logs into {@link ProviderTestKit.logger}. */
  ctx(): ActionContext;
  anchorOf(externalId: string, overrides?: Partial<TrustAnchor>): TrustAnchor;
  /** Awaits a provider call and records its result or error. */
  call<T>(promise: Promise<T>): Promise<T>;
  /** The error a provider call threw, recorded; fails if it did not throw. */
  failure(promise: Promise<unknown>): Promise<Error>;
  /** A new random secret, added to {@link ProviderTestKit.secrets}. */
  newSecret(prefix?: string): string;
  /** All recorded outputs and log lines as one text, to search for secrets. */
  transcript(): string;
}

/** @public */
export function createProviderTestKit(
  options: ProviderTestKitOptions,
): ProviderTestKit {
  const secrets: string[] = [];
  const outputs: unknown[] = [];
  const logLines: string[] = [];
  const record =
    () =>
    (message: string, meta?: unknown): void =>
      void logLines.push(`${message} ${JSON.stringify(meta ?? {})}`);
  const logger: LoggerService = {
    error: record(),
    warn: record(),
    info: record(),
    debug: record(),
    child: () => logger,
  };

  async function call<T>(promise: Promise<T>): Promise<T> {
    try {
      const result = await promise;
      outputs.push(result);
      return result;
    } catch (err) {
      outputs.push({
        name: (err as Error).name,
        message: (err as Error).message,
      });
      throw err;
    }
  }

  return {
    logger,
    secrets,
    outputs,
    logLines,
    ctx: () => ({
      retirementId: 'ret-1',
      stepId: 'step-1',
      signal: new AbortController().signal,
      logger,
    }),
    anchorOf: (externalId, overrides = {}) => ({
      id: `anchor-${externalId}`,
      entityRef: options.entityRef,
      providerId: options.providerId,
      kind: options.kind,
      externalId,
      displayName: externalId,
      scopes: [],
      sharedWith: [],
      manual: false,
      status: 'active',
      discoveredAt: new Date().toISOString(),
      discoveredBy: 'test',
      ...overrides,
    }),
    call,
    async failure(promise) {
      try {
        await call(promise);
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected the call to fail');
    },
    newSecret(prefix = 'pw') {
      const secret = `${prefix}-${randomBytes(10).toString('hex')}`;
      secrets.push(secret);
      return secret;
    },
    transcript: () => JSON.stringify(outputs) + logLines.join('\n'),
  };
}
