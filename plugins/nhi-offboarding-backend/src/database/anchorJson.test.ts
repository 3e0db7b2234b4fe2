import { TestDatabases } from '@backstage/backend-test-utils';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { RetirementStore } from './RetirementStore';
import { applyDatabaseMigrations } from './migrations';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const entityRef = 'component:default/json-shapes';

/** Anchors with every optional field set and unset, and awkward text. */
function anchors(): TrustAnchor[] {
  const bare: TrustAnchor = {
    id: 'anc_bare',
    entityRef,
    providerId: 'github',
    kind: 'deploy-key',
    externalId: 'a-bare',
    displayName: 'Bare',
    scopes: [],
    sharedWith: [],
    manual: false,
    status: 'active',
    discoveredAt: '2026-11-01T00:00:00.000Z',
    discoveredBy: 'github',
  };
  const full: TrustAnchor = {
    ...bare,
    id: 'anc_full',
    externalId: 'b-full',
    displayName: 'Quote " back\\slash \n new line, tab \t, é, 日本, 😀',
    fingerprint: 'sha256:abc',
    scopes: ['repo', 'read:org', 'with "quotes"'],
    owner: 'group:default/payments',
    sharedWith: ['component:default/other'],
    manual: true,
    createdAt: '2025-01-01T00:00:00.000Z',
    lastUsedAt: '2026-10-01T00:00:00.000Z',
    expiresAt: '2027-01-01T00:00:00.000Z',
    status: 'revoked',
    lastVerifiedAt: '2026-11-02T00:00:00.000Z',
    lastVerifiedBy: 'github',
    lastVerification: 'untrusted',
  };
  const control: TrustAnchor = {
    ...bare,
    id: 'anc_control',
    externalId: 'c-control',
    displayName: 'bell \u0007 and nul-free \u001f',
    status: 'unknown',
  };
  return [bare, full, control];
}

describe.each(databases.eachSupportedId())(
  'anchors as JSON built by %p',
  databaseId => {
    it('gives the JSON of the anchors the store reads, fields in the same order', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const store = new RetirementStore(knex);
      await store.upsertAnchors(anchors());

      const read = await store.listAnchors(entityRef);
      expect(read).toEqual(anchors());
      const texts = await store.listAnchorsJson(entityRef);
      expect(texts).toHaveLength(3);
      texts.forEach((text, i) => {
        expect(JSON.parse(text)).toEqual(read[i]);
        // Left-out fields stay out (not null), and the keys keep their order.
        expect(Object.keys(JSON.parse(text))).toEqual(Object.keys(read[i]));
      });
      expect(JSON.parse(texts[0])).not.toHaveProperty('owner');
      expect(JSON.parse(texts[1]).manual).toBe(true);
      expect(JSON.parse(texts[0]).manual).toBe(false);

      const byId = await store.getAnchorsJson(['anc_full', 'anc_control']);
      expect(byId.map(r => r.id).sort()).toEqual(['anc_control', 'anc_full']);
      for (const row of byId) {
        const anchor = read.find(a => a.id === row.id)!;
        expect(row.status).toBe(anchor.status);
        expect(JSON.parse(row.json)).toEqual(anchor);
      }
      expect(await store.getAnchorsJson([])).toEqual([]);
      expect(await store.listAnchorsJson('component:default/none')).toEqual([]);
    });
  },
);
