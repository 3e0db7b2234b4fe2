// @ts-check

/** @param {import('knex').Knex} knex */
function isPostgres(knex) {
  return ['pg', 'postgres', 'postgresql'].includes(
    String(knex.client.config.client),
  );
}

/**
 * A running retirement's steps change without evidence when a worker claims
 * one or an attempt ends, so its Retire-tab reads could not be kept in
 * memory (service/RetirementReads.ts). Each such write now stamps the step
 * with a number larger than any its retirement had (`change_seq`), and the
 * index (retirement_id, change_seq) gives a retirement's largest in one
 * seek: a change mark read with the row, like its newest evidence number.
 *
 * PostgreSQL takes the numbers from a sequence (writers run side by side);
 * SQLite, one writer at a time, from the retirement's own largest plus one.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_steps', table => {
    table.bigInteger('change_seq').notNullable().defaultTo(0);
    table.index(['retirement_id', 'change_seq'], 'nhi_steps_changes_idx');
  });
  if (isPostgres(knex)) {
    await knex.raw('CREATE SEQUENCE nhi_step_change_seq');
  }
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  if (isPostgres(knex)) {
    await knex.raw('DROP SEQUENCE nhi_step_change_seq');
  }
  await knex.schema.alterTable('nhi_steps', table => {
    table.dropIndex(['retirement_id', 'change_seq'], 'nhi_steps_changes_idx');
    table.dropColumn('change_seq');
  });
};
