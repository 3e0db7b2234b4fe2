// @ts-check

/**
 * The engine's claim reads open steps only; at scale nearly every step is
 * finished. A partial index of the open steps' ids (PostgreSQL reads it in
 * id order, SQLite as a covering list) keeps the claim as cheap with a
 * million finished steps as with none.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(
    "CREATE INDEX nhi_steps_open_id_idx ON nhi_steps (id) WHERE status IN ('pending', 'running')",
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX nhi_steps_open_id_idx');
};
