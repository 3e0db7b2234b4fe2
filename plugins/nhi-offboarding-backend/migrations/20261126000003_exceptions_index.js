// @ts-check

/**
 * Exceptions are read per retirement (its steps, the seal's completion
 * check); without this index that read scans the whole table.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_exceptions', table => {
    table.index(['retirement_id'], 'nhi_exceptions_retirement_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('nhi_exceptions', table => {
    table.dropIndex(['retirement_id'], 'nhi_exceptions_retirement_idx');
  });
};
