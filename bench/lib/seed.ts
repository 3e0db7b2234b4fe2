/*
 * Starts retirements the way RetirementService.start does (store anchors,
 * plan with the registry's capabilities, createRetirement with random ids),
 * without catalog discovery: the anchors are given.
 */
import { randomUUID } from 'node:crypto';
import type {
  Retirement,
  TrustAnchor,
  TrustAnchorKind,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../../plugins/nhi-offboarding-backend/src/database/RetirementStore';
import { anchorId } from '../../plugins/nhi-offboarding-backend/src/discovery/AnchorDiscovery';
import { planRetirement } from '../../plugins/nhi-offboarding-backend/src/planning/planRetirement';
import type { ProviderRegistry } from '../../plugins/nhi-offboarding-backend/src/providers/ProviderRegistry';

export function makeAnchors(
  entityRef: string,
  providerId: string,
  count: number,
  kind: TrustAnchorKind = 'api-key',
  now = new Date(),
): TrustAnchor[] {
  const name = entityRef.split('/').pop();
  return Array.from({ length: count }, (_, i) => {
    const externalId = `${name}-key-${i}`;
    return {
      id: anchorId(entityRef, providerId, externalId),
      entityRef,
      providerId,
      kind,
      externalId,
      displayName: externalId,
      fingerprint: `sha256:${externalId}`,
      scopes: [],
      sharedWith: [],
      manual: false,
      status: 'active',
      discoveredAt: now.toISOString(),
      discoveredBy: providerId,
    };
  });
}

export async function startRetirement(
  store: RetirementStore,
  registry: ProviderRegistry,
  entityRef: string,
  anchors: TrustAnchor[],
  now = new Date(),
): Promise<Retirement> {
  await store.upsertAnchors(anchors);
  const steps = planRetirement({
    anchors,
    mode: 'revoke',
    capabilitiesOf: id => registry.capabilitiesOf(id),
  }).map(s => ({ ...s, id: `stp_${randomUUID()}` }));
  return store.createRetirement({
    id: `ret_${randomUUID()}`,
    entityRef,
    owner: 'group:default/bench',
    mode: 'revoke',
    reason: 'benchmark',
    requestedBy: 'user:default/bench',
    steps,
    anchors,
    now,
  });
}
