import { randomUUID } from 'crypto';
import type { Knex } from 'knex';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import type { RetirementRow, StepRow } from '../database/tables';
import { sharedProviderGate } from '../engine/ProviderGate';
import { withTimeout } from '../engine/withTimeout';
import type { ProviderRegistry } from '../providers/ProviderRegistry';
import { STAGE } from '../planning/stages';
import {
  AnchorReverification,
  REVERIFIED_STATUSES,
  ReverificationVerdict,
} from './reverificationChange';

export interface ReverificationOptions {
  /** Retirements re-verified at once (their anchors go through the provider gate). */
  batchSize: number;
  /** A clean re-verification is written to the evidence at most this often. */
  recordEveryMs: number;
  callTimeoutMs: number;
}

export interface SweepResult {
  retirements: number;
  clean: number;
  drift: number;
  inconclusive: number;
  durationMs: number;
}

/**
 * Re-asks each system whether it still trusts the anchors of completed and
 * quarantined retirements (the ones their verify steps proved untrusted).
 * Runs from the scheduler (one instance at a time across backends); calls go
 * through a provider gate so each provider's concurrency and rate limits hold.
 */
export class ReverificationSweep {
  constructor(
    private readonly deps: {
      db: Knex;
      store: RetirementStore;
      providers: ProviderRegistry;
      logger: LoggerService;
      options: ReverificationOptions;
      clock?: () => Date;
    },
  ) {}

  /** Re-verifies every eligible retirement, page by page. */
  async run(signal?: AbortSignal): Promise<SweepResult> {
    const started = Date.now();
    const result: SweepResult = {
      retirements: 0,
      clean: 0,
      drift: 0,
      inconclusive: 0,
      durationMs: 0,
    };
    let afterId = '';
    for (;;) {
      if (signal?.aborted) break;
      const rows: Pick<RetirementRow, 'id'>[] = await this.deps
        .db<RetirementRow>('nhi_retirements')
        .whereIn('status', REVERIFIED_STATUSES)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(this.deps.options.batchSize)
        .select('id');
      if (rows.length === 0) break;
      afterId = rows[rows.length - 1].id;
      const verdicts = await Promise.all(
        rows.map(r => this.reverify(r.id, signal)),
      );
      for (const verdict of verdicts) {
        if (verdict === 'skipped') continue;
        result.retirements++;
        result[verdict]++;
      }
    }
    result.durationMs = Date.now() - started;
    return result;
  }

  /** Re-verifies one retirement now (also used by the API's "re-verify now"). */
  async reverify(
    retirementId: string,
    signal?: AbortSignal,
  ): Promise<ReverificationVerdict> {
    const anchors = await this.verifiedAnchorsOf(retirementId);
    const results = (
      await Promise.all(anchors.map(a => this.ask(a, retirementId, signal)))
    ).filter((r): r is AnchorReverification => !!r);
    if (results.length === 0) return 'skipped';
    try {
      return await this.deps.store.recordReverification(
        retirementId,
        {
          results,
          recordEveryMs: this.deps.options.recordEveryMs,
          newStepId: () => `stp_${randomUUID()}`,
        },
        this.now(),
      );
    } catch (error) {
      this.deps.logger.warn(
        `Re-verification of retirement ${retirementId} not recorded: ${error}`,
      );
      return 'inconclusive';
    }
  }

  /**
   * The anchors its verify steps proved untrusted: for a quarantine the
   * disabled identity, for a completed retirement every verified anchor.
   * Attested (manual) and excepted anchors cannot be re-asked.
   */
  private async verifiedAnchorsOf(
    retirementId: string,
  ): Promise<TrustAnchor[]> {
    const retirement = await this.deps
      .db<RetirementRow>('nhi_retirements')
      .where('id', retirementId)
      .first('status');
    if (!retirement || !REVERIFIED_STATUSES.includes(retirement.status)) {
      return [];
    }
    const query = this.deps
      .db<StepRow>('nhi_steps')
      .where({
        retirement_id: retirementId,
        action: 'verify',
        status: 'succeeded',
        outcome: 'untrusted',
      })
      .whereNotNull('anchor_id')
      .distinct('anchor_id');
    if (retirement.status === 'quarantined') {
      query.where('stage', STAGE.verifyDisabled);
    }
    const ids = (await query).map(r => r.anchor_id as string);
    return this.deps.store.getAnchors(ids);
  }

  private async ask(
    anchor: TrustAnchor,
    retirementId: string,
    signal?: AbortSignal,
  ): Promise<AnchorReverification | undefined> {
    const provider = this.deps.providers.get(anchor.providerId);
    if (!provider?.verify || provider.manual) return undefined;
    const base = {
      anchorId: anchor.id,
      providerId: anchor.providerId,
      externalId: anchor.externalId,
    };
    try {
      const answer = await sharedProviderGate(this.deps.providers).run(
        provider,
        () =>
          withTimeout(
            s =>
              provider.verify!(anchor, {
                retirementId,
                stepId: 'reverification',
                signal: s,
                logger: this.deps.logger,
              }),
            provider.limits?.callTimeoutMs ?? this.deps.options.callTimeoutMs,
            `re-verify on ${provider.id}`,
            signal,
          ),
      );
      return { ...base, ...answer };
    } catch (error) {
      // Fail closed: a system that cannot answer proves nothing either way.
      return {
        ...base,
        outcome: 'unknown',
        detail: (error as Error).message,
        observed: {},
      };
    }
  }

  private now(): Date {
    return this.deps.clock ? this.deps.clock() : new Date();
  }
}
