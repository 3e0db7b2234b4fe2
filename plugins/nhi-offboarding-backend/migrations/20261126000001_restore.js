// @ts-check

/**
 * A quarantine can end by restoring access instead of revoking it.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_retirements', table => {
    table
      .boolean('restoring')
      .notNullable()
      .defaultTo(false)
      .comment(
        'Set when a quarantine is ended by re-enabling what it disabled',
      );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('nhi_retirements', table => {
    table.dropColumn('restoring');
  });
};
