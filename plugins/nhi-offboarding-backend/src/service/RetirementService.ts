import { randomUUID } from 'crypto';
import { ConflictError } from '@backstage/errors';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import type {
  PlannedStep,
  Retirement,
  RetirementMode,
  RetirementOrigin,
  StepException,
  TrustAnchor,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import type {
  AnchorDiscovery,
  DiscoveryProblem,
} from '../discovery/AnchorDiscovery';
import type { ProviderRegistry } from '../providers/ProviderRegistry';
import { planRetirement } from '../planning/planRetirement';
import { StoredAnchorTexts } from './StoredAnchorTexts';
import type { TaggedRead } from './entityTags';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * What the API can do, without HTTP and without permission checks (the
 * router does those): discovery, planning, starting and steering runs.
 */
export class RetirementService {
  private readonly storedAnchors: StoredAnchorTexts;

  constructor(
    private readonly options: {
      store: RetirementStore;
      discovery: AnchorDiscovery;
      providers: ProviderRegistry;
      /** Called after a change that gives the engine work. */
      onWork: () => void;
      clock?: () => Date;
    },
  ) {
    this.storedAnchors = new StoredAnchorTexts(options.store);
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  /**
   * Stored anchors as the API's JSON text ({ items, problems }), tagged
   * with their change mark; discovered first when asked to or when none are
   * stored yet (only then is the entity loaded; no tag of ours). Stored
   * ones come from StoredAnchorTexts.
   */
  async anchorsRead(
    entityRef: string,
    refresh: boolean,
    loadEntity: () => Promise<Entity>,
  ): Promise<TaggedRead> {
    if (!refresh) {
      const stored = await this.storedAnchors.read(entityRef);
      if (stored) return stored;
    }
    const discovered = JSON.stringify(
      await this.options.discovery.discover(await loadEntity()),
    );
    return { text: async () => discovered };
  }

  /** The dry run: the same plan a retirement would run, nothing started. */
  async plan(
    entity: Entity,
    mode: RetirementMode,
  ): Promise<{
    steps: PlannedStep[];
    anchors: TrustAnchor[];
    problems: DiscoveryProblem[];
  }> {
    const { items, problems } = await this.options.discovery.discover(entity, {
      persist: false,
    });
    return { steps: this.planFor(items, mode), anchors: items, problems };
  }

  async start(input: {
    entity: Entity;
    mode: RetirementMode;
    reason: string;
    quarantineDays?: number;
    actor: string;
    origin?: RetirementOrigin;
    /**
     * The anchors to act on, instead of discovering them: for an entity that
     * left the catalog, whose stored anchors are all that is known.
     */
    anchors?: TrustAnchor[];
  }): Promise<Retirement> {
    // A request that is bound to be refused must not change anything,
    // not even the stored discovery results.
    await this.options.store.assertNoActiveRetirement(
      stringifyEntityRef(input.entity),
    );
    // A trigger for an entity that left the catalog passes the anchors it
    // last knew: there is nothing left to discover from.
    let anchors = input.anchors;
    if (!anchors) {
      const { items, problems } = await this.options.discovery.discover(
        input.entity,
      );
      await this.refuseIncompleteInventory(input.entity, problems);
      anchors = items;
    }
    const now = this.now();
    const steps = this.planFor(anchors, input.mode).map(s => ({
      ...s,
      id: `stp_${randomUUID()}`,
    }));
    const retirement = await this.options.store.createRetirement({
      id: `ret_${randomUUID()}`,
      entityRef: stringifyEntityRef(input.entity),
      owner: ownerOf(input.entity),
      mode: input.mode,
      reason: input.reason,
      requestedBy: input.actor,
      quarantineDays:
        input.mode === 'quarantine' ? input.quarantineDays : undefined,
      quarantineUntil:
        input.mode === 'quarantine'
          ? new Date(now.getTime() + (input.quarantineDays ?? 0) * DAY_MS)
          : undefined,
      steps,
      anchors,
      now,
      origin: input.origin,
    });
    this.options.onWork();
    return retirement;
  }

  /**
   * Fail closed: when a provider that the catalog links the entity's
   * credentials to could not be asked, a retirement would leave those
   * credentials out and still complete. It must not start.
   */
  private async refuseIncompleteInventory(
    entity: Entity,
    problems: DiscoveryProblem[],
  ): Promise<void> {
    if (problems.length === 0) return;
    const linked = await this.options.discovery.linkedProviderIds(entity);
    const blocking = problems.filter(p => linked.has(p.providerId));
    if (blocking.length === 0) return;
    const unreachable = blocking
      .map(p => `provider ${p.providerId} could not be asked (${p.message})`)
      .join('; ');
    throw new ConflictError(
      `Cannot retire ${stringifyEntityRef(entity)} now: the catalog links ` +
        `credentials of it to a provider that did not answer: ${unreachable}. ` +
        'A retirement would leave those credentials out; start it again when the provider answers.',
    );
  }

  async cancel(id: string, actor: string, reason: string) {
    await this.options.store.cancel(id, actor, reason, this.now());
    return this.get(id);
  }

  async retry(id: string, actor: string) {
    await this.options.store.retry(id, actor, this.now());
    this.options.onWork();
    return this.get(id);
  }

  /** Ends a quarantine now: with the final revoke, or by restoring access. */
  async release(id: string, actor: string, outcome: 'revoke' | 'restore') {
    if (outcome === 'restore') {
      await this.options.store.restore(
        id,
        actor,
        this.now(),
        () => `stp_${randomUUID()}`,
      );
    } else {
      await this.options.store.release(id, actor, this.now());
    }
    this.options.onWork();
    return this.get(id);
  }

  async setHold(id: string, actor: string, hold: boolean, reason: string) {
    await this.options.store.setHold(id, actor, hold, reason, this.now());
    this.options.onWork();
    return this.get(id);
  }

  requestException(input: {
    retirementId: string;
    stepId: string;
    justification: string;
    expiresAt: Date;
    actor: string;
  }): Promise<StepException> {
    return this.options.store.requestException({
      ...input,
      id: `exc_${randomUUID()}`,
      now: this.now(),
    });
  }

  async decideException(input: {
    retirementId: string;
    stepId: string;
    approve: boolean;
    note: string;
    actor: string;
  }): Promise<StepException> {
    const decided = await this.options.store.decideException({
      ...input,
      now: this.now(),
    });
    this.options.onWork();
    return decided;
  }

  async attest(input: {
    retirementId: string;
    stepId: string;
    note: string;
    actor: string;
  }) {
    await this.options.store.attest({ ...input, now: this.now() });
    this.options.onWork();
    return this.get(input.retirementId);
  }

  async get(id: string): Promise<Retirement> {
    return (await this.options.store.getRetirement(id, { withSteps: true }))!;
  }

  private planFor(anchors: TrustAnchor[], mode: RetirementMode): PlannedStep[] {
    return planRetirement({
      anchors,
      mode,
      capabilitiesOf: id => this.options.providers.capabilitiesOf(id),
    });
  }
}

/** The entity's spec.owner as a full ref (`team-a` means group:<namespace>/team-a). */
export function ownerOf(entity: Entity): string | undefined {
  const owner = entity.spec?.owner;
  if (typeof owner !== 'string' || !owner) return undefined;
  try {
    return stringifyEntityRef(
      parseEntityRef(owner, {
        defaultKind: 'group',
        defaultNamespace: entity.metadata.namespace ?? 'default',
      }),
    );
  } catch {
    return undefined;
  }
}
