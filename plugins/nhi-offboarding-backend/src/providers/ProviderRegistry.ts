import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  TrustAnchorProvider,
  TrustAnchorProviderFactory,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import type { ProviderCapabilities } from '../planning/planRetirement';

/** Ids that would clash with the annotations a catalog Resource uses. */
const RESERVED_IDS = new Set(['provider', 'external-id']);
const ID_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

/** Public description of a configured provider (for the UI and the API). */
export interface ProviderInfo {
  id: string;
  type: string;
  manual: boolean;
  simulated: boolean;
}

/** The providers of this backend, by id. */
export class ProviderRegistry {
  private readonly byId = new Map<string, TrustAnchorProvider>();

  constructor(providers: TrustAnchorProvider[]) {
    for (const provider of providers) {
      if (!ID_PATTERN.test(provider.id) || RESERVED_IDS.has(provider.id)) {
        throw new Error(
          `Invalid NHI Offboarding provider id "${provider.id}": use lower-case letters, digits, '.', '_' or '-' (at most 63), not "provider" or "external-id"; it becomes the annotation nhi-offboarding/<id>`,
        );
      }
      if (this.byId.has(provider.id)) {
        throw new Error(
          `Two NHI Offboarding providers have the id "${provider.id}": ids must be unique`,
        );
      }
      this.byId.set(provider.id, provider);
    }
  }

  /**
   * Builds the providers listed in `nhiOffboarding.providers` with the
   * factories that modules registered, plus the ones added in code.
   */
  static async fromConfig(options: {
    config: Config;
    logger: LoggerService;
    factories: Map<string, TrustAnchorProviderFactory>;
    providers: TrustAnchorProvider[];
  }): Promise<ProviderRegistry> {
    const built: TrustAnchorProvider[] = [...options.providers];
    const entries =
      options.config.getOptionalConfigArray('nhiOffboarding.providers') ?? [];
    for (const entry of entries) {
      const id = entry.getString('id');
      const type = entry.getString('type');
      const factory = options.factories.get(type);
      if (!factory) {
        const known = [...options.factories.keys()].sort().join(', ') || 'none';
        throw new Error(
          `nhiOffboarding.providers entry "${id}" has type "${type}", which no installed module provides (known types: ${known})`,
        );
      }
      built.push(
        await factory({
          id,
          config: entry,
          logger: options.logger.child({ provider: id }),
        }),
      );
    }
    return new ProviderRegistry(built);
  }

  get(id: string): TrustAnchorProvider | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  list(): TrustAnchorProvider[] {
    return [...this.byId.values()];
  }

  info(): ProviderInfo[] {
    return this.list().map(p => ({
      id: p.id,
      type: p.type,
      manual: Boolean(p.manual),
      simulated: Boolean(p.simulated),
    }));
  }

  capabilitiesOf(id: string): ProviderCapabilities | undefined {
    const p = this.byId.get(id);
    if (!p) return undefined;
    return {
      manual: Boolean(p.manual),
      disable: typeof p.disable === 'function',
      revoke: typeof p.revoke === 'function',
      terminateSessions: typeof p.terminateSessions === 'function',
      rotate: typeof p.rotate === 'function',
      removeMemberships: typeof p.removeMemberships === 'function',
      verify: typeof p.verify === 'function',
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.list().map(p => p.close?.()));
  }
}
