// @ts-check

/**
 * Every step's end summarises its retirement's open and failed steps
 * (RetirementStore summarizeStepsOf: retirement_id = ? AND status IN (...)).
 * This index answers it from the open and failed steps alone, however many
 * steps the retirement has.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_steps', table => {
    table.index(['retirement_id', 'status'], 'nhi_steps_retirement_status_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('nhi_steps', table => {
    table.dropIndex(
      ['retirement_id', 'status'],
      'nhi_steps_retirement_status_idx',
    );
  });
};
