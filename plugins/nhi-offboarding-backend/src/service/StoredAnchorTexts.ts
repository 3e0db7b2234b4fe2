import type { RetirementStore } from '../database/RetirementStore';
import { LruCache } from './LruCache';
import { TaggedRead, etagOfKey } from './entityTags';

/**
 * The anchors stored for an entity as the API's JSON text
 * (`{ items, problems: [] }`), kept in memory under the entity's change mark
 * (RetirementStore.anchorsMark), read on every request: every write of an
 * anchor stamps it with a larger number, so the mark changes with every
 * change to them and an old mark does not come back. As with the Retire
 * tab's other reads (RetirementReads), the mark comes from the database, so
 * this holds across replicas.
 */
export class StoredAnchorTexts {
  private readonly texts: LruCache<string>;

  constructor(
    private readonly store: RetirementStore,
    /** Characters of JSON text kept at most. */
    maxChars = 32 * 1024 * 1024,
  ) {
    this.texts = new LruCache<string>(maxChars, text => text.length);
  }

  /**
   * The stored anchors as a read tagged with the entity's change mark, or
   * undefined when no anchor of the entity is stored.
   */
  async read(entityRef: string): Promise<Required<TaggedRead> | undefined> {
    const mark = await this.store.anchorsMark(entityRef);
    if (mark === undefined) return undefined;
    const key = `${entityRef}|${mark}`;
    return {
      etag: etagOfKey(`anchors|${key}`),
      text: () => this.textOf(entityRef, key),
    };
  }

  private async textOf(entityRef: string, key: string): Promise<string> {
    const kept = this.texts.get(key);
    if (kept) return kept;
    // Read after the mark: never older than the mark says.
    const items = await this.store.listAnchorsJson(entityRef);
    const text = `{"items":[${items.join(',')}],"problems":[]}`;
    this.texts.set(key, text);
    return text;
  }
}
