// @ts-check

/**
 * Residual access pages through live anchors in id order and, for each,
 * needs only its entity and owner to judge it (bench/api-scale.ts: a page
 * read 100-1,000 whole anchor rows to keep a few). The partial index of live
 * anchors now carries (id, entity_ref, owner), so the scan reads the index
 * alone and only the anchors that are residual are read whole. It has the
 * old index (id) as its prefix, so that one goes.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(
    "CREATE INDEX nhi_anchors_live_refs_idx ON nhi_anchors (id, entity_ref, owner) WHERE status IN ('active', 'unknown')",
  );
  await knex.raw('DROP INDEX nhi_anchors_live_id_idx');
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(
    "CREATE INDEX nhi_anchors_live_id_idx ON nhi_anchors (id) WHERE status IN ('active', 'unknown')",
  );
  await knex.raw('DROP INDEX nhi_anchors_live_refs_idx');
};
