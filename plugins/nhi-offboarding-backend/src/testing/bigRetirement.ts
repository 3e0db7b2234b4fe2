import { randomUUID } from 'crypto';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';
import { anchorId } from '../discovery/AnchorDiscovery';
import { planRetirement } from '../planning/planRetirement';
import { ProviderRegistry } from '../providers/ProviderRegistry';
import { InMemoryCredentialSystem } from './InMemoryCredentialSystem';

/**
 * Test data: a retirement of `count` API keys of one in-memory system, as
 * RetirementService.start would create it (anchors stored, plan, one
 * transaction). 60 keys make well over two pages of 50 steps.
 */
export async function createBigRetirement(
  store: RetirementStore,
  options: { entityRef: string; count?: number; now: Date; reason?: string },
): Promise<{ id: string; anchors: TrustAnchor[] }> {
  const { entityRef, now } = options;
  const registry = new ProviderRegistry([new InMemoryCredentialSystem('sys')]);
  const anchors: TrustAnchor[] = Array.from(
    { length: options.count ?? 60 },
    (_, i) => ({
      id: anchorId(entityRef, 'sys', `key-${i}`),
      entityRef,
      providerId: 'sys',
      kind: 'api-key',
      externalId: `key-${i}`,
      displayName: `Key ${i}`,
      fingerprint: `sha256:${i}`,
      scopes: [],
      sharedWith: [],
      manual: false,
      status: 'active',
      discoveredAt: now.toISOString(),
      discoveredBy: 'sys',
    }),
  );
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
    mode: 'revoke',
    reason: options.reason ?? 'test',
    requestedBy: 'user:default/alice',
    steps,
    anchors,
    now,
  });
  return { id, anchors };
}
