// @ts-check

/**
 * Indexes for the API at scale (bench/api-scale.ts, 1M anchors):
 * - residual access pages through live anchors in id order: a partial index
 *   of live anchors' ids skips the revoked ones instead of filtering them;
 * - the retirement list is ordered by (created_at, id): one index gives the
 *   page without a sort.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(
    "CREATE INDEX nhi_anchors_live_id_idx ON nhi_anchors (id) WHERE status IN ('active', 'unknown')",
  );
  await knex.schema.alterTable('nhi_retirements', table => {
    table.index(['created_at', 'id'], 'nhi_retirements_created_id_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX nhi_anchors_live_id_idx');
  await knex.schema.alterTable('nhi_retirements', table => {
    table.dropIndex(['created_at', 'id'], 'nhi_retirements_created_id_idx');
  });
};
