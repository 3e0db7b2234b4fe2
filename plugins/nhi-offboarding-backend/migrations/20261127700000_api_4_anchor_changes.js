// @ts-check

/** @param {import('knex').Knex} knex */
function isPostgres(knex) {
  return ['pg', 'postgres', 'postgresql'].includes(
    String(knex.client.config.client),
  );
}

/**
 * The anchors of an entity, as the Retire tab reads them, are kept in
 * memory under a change mark read on every request, as a retirement's steps
 * are (..._api_3_step_changes.js): every write of an anchor stamps it with
 * a number larger than any of its entity's anchors had (`change_seq`), and
 * the index (entity_ref, change_seq) gives an entity's largest in one seek.
 * Anchors are never deleted and never change entity, so the mark only grows.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_anchors', table => {
    table.bigInteger('change_seq').notNullable().defaultTo(0);
    table.index(['entity_ref', 'change_seq'], 'nhi_anchors_changes_idx');
  });
  if (isPostgres(knex)) {
    await knex.raw('CREATE SEQUENCE nhi_anchor_change_seq');
  }
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  if (isPostgres(knex)) {
    await knex.raw('DROP SEQUENCE nhi_anchor_change_seq');
  }
  await knex.schema.alterTable('nhi_anchors', table => {
    table.dropIndex(['entity_ref', 'change_seq'], 'nhi_anchors_changes_idx');
    table.dropColumn('change_seq');
  });
};
