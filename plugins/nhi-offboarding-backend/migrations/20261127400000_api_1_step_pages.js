// @ts-check

/**
 * The Retire tab reads a retirement's steps page by page in stage order
 * (`retirement_id = ? AND (stage, id) > (?, ?) ORDER BY stage, id LIMIT n`)
 * and its progress as counts grouped by stage, status and outcome. One index
 * (retirement_id, stage, id, status, outcome) gives the page as a range of
 * the index with no sort, and the counts from the index alone (no step rows
 * read). It has the old (retirement_id, stage) index as its prefix, so that
 * one goes.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_steps', table => {
    table.index(
      ['retirement_id', 'stage', 'id', 'status', 'outcome'],
      'nhi_steps_retirement_order_idx',
    );
  });
  await knex.schema.alterTable('nhi_steps', table => {
    table.dropIndex(
      ['retirement_id', 'stage'],
      'nhi_steps_retirement_stage_idx',
    );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('nhi_steps', table => {
    table.index(['retirement_id', 'stage'], 'nhi_steps_retirement_stage_idx');
  });
  await knex.schema.alterTable('nhi_steps', table => {
    table.dropIndex(
      ['retirement_id', 'stage', 'id', 'status', 'outcome'],
      'nhi_steps_retirement_order_idx',
    );
  });
};
