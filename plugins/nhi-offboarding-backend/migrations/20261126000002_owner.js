// @ts-check

/**
 * The owner of the entity when its retirement started, so platform teams can
 * filter retirements by owner without asking the catalog for each row.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_retirements', table => {
    table.string('entity_owner', 512).nullable();
    table.index(['entity_owner', 'created_at'], 'nhi_retirements_owner_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('nhi_retirements', table => {
    table.dropIndex(
      ['entity_owner', 'created_at'],
      'nhi_retirements_owner_idx',
    );
    table.dropColumn('entity_owner');
  });
};
