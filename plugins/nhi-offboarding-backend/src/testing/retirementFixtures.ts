import { randomUUID } from 'crypto';
import type { Knex } from 'knex';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import { anchorId } from '../discovery/AnchorDiscovery';
import { planRetirement } from '../planning/planRetirement';
import { ProviderRegistry } from '../providers/ProviderRegistry';
import { InMemoryCredentialSystem } from './InMemoryCredentialSystem';

/**
 * Test data: a retirement of API keys of the in-memory system `sys`, as
 * RetirementService.start would create it (anchors stored, plan, one
 * transaction). By default 60 keys named "Key i", well over two pages of 50
 * steps; or the given external ids, each named by its id.
 */
export async function createTestRetirement(
  store: RetirementStore,
  options: {
    entityRef: string;
    now: Date;
    count?: number;
    externalIds?: string[];
    anchorStatus?: TrustAnchor['status'];
    /** Anchors no system can revoke: their steps are owner attestations. */
    manual?: boolean;
    owner?: string;
    reason?: string;
  },
): Promise<{ id: string; anchors: TrustAnchor[] }> {
  const { entityRef, now } = options;
  const registry = new ProviderRegistry([new InMemoryCredentialSystem('sys')]);
  const named = options.externalIds?.map(k => ({ k, name: k, print: k }));
  const keys =
    named ??
    Array.from({ length: options.count ?? 60 }, (_, i) => ({
      k: `key-${i}`,
      name: `Key ${i}`,
      print: String(i),
    }));
  const anchors: TrustAnchor[] = keys.map(({ k, name, print }) => ({
    id: anchorId(entityRef, 'sys', k),
    entityRef,
    providerId: 'sys',
    kind: 'api-key',
    externalId: k,
    displayName: name,
    fingerprint: `sha256:${print}`,
    scopes: [],
    sharedWith: [],
    manual: options.manual ?? false,
    status: options.anchorStatus ?? 'active',
    discoveredAt: now.toISOString(),
    discoveredBy: 'sys',
  }));
  await store.upsertAnchors(anchors);
  const steps = planRetirement({
    anchors,
    mode: 'revoke',
    capabilitiesOf: pid => registry.capabilitiesOf(pid),
  }).map(s => ({ ...s, id: `stp_${randomUUID()}` }));
  const id = `ret_${randomUUID()}`;
  await store.createRetirement({
    id,
    entityRef,
    owner: options.owner,
    mode: 'revoke',
    reason: options.reason ?? 'test',
    requestedBy: 'user:default/alice',
    steps,
    anchors,
    now,
  });
  return { id, anchors };
}

/** Test setup: leaves a retirement as a finished run does, every anchor verified untrusted. */
export async function markCompleted(
  knex: Knex,
  retirementId: string,
  now: Date,
): Promise<void> {
  await knex('nhi_steps')
    .where('retirement_id', retirementId)
    .update({
      status: 'succeeded',
      outcome: knex.raw(
        "case when action = 'verify' then 'untrusted' else null end",
      ),
    });
  await knex('nhi_retirements').where('id', retirementId).update({
    status: 'completed',
    active_entity_ref: null,
    completed_at: now.toISOString(),
  });
}
