// @ts-check

/**
 * Automatic retirement triggers.
 *
 * - nhi_trigger_firings: every time a trigger fired, under a unique key, so a
 *   trigger seen twice (an event delivered again, a sweep re-run after a
 *   crash) starts one retirement or one proposal. A proposal is a firing that
 *   waits for an owner to confirm or dismiss it.
 * - nhi_trigger_entities: what the catalog watch saw last of each entity
 *   (lifecycle and a small snapshot), the baseline against which lifecycle
 *   changes and disappearances are detected.
 * - nhi_retirements.origin: which trigger started a retirement (JSON).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('nhi_trigger_firings', table => {
    table.comment('Trigger firings, unique by key (one retirement per firing)');
    table.string('id', 64).primary();
    table.string('key', 512).notNullable().unique();
    table.string('trigger', 32).notNullable();
    table.string('entity_ref', 512).notNullable().index();
    table.string('action', 16).notNullable();
    table
      .string('status', 16)
      .notNullable()
      .comment('pending | started | proposed | dismissed | skipped | rejected');
    table.text('detail').nullable();
    table.text('request').notNullable().comment('mode, reason, quarantineDays');
    table.text('snapshot').nullable().comment('the entity as last seen');
    table.string('retirement_id', 64).nullable();
    table.string('decided_by', 512).nullable();
    table.string('created_at', 32).notNullable();
    table.string('updated_at', 32).notNullable();
    table.index(['status', 'created_at'], 'nhi_trigger_firings_status_idx');
  });

  await knex.schema.createTable('nhi_trigger_entities', table => {
    table.comment('Last-seen catalog state for the lifecycle/orphan triggers');
    table.string('entity_ref', 512).primary();
    table.string('lifecycle', 128).nullable();
    table.text('snapshot').notNullable();
    table.integer('version').notNullable().defaultTo(0);
    table.string('seen_at', 32).notNullable();
  });

  await knex.schema.alterTable('nhi_retirements', table => {
    table.text('origin').nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('nhi_retirements', table => {
    table.dropColumn('origin');
  });
  await knex.schema.dropTable('nhi_trigger_entities');
  await knex.schema.dropTable('nhi_trigger_firings');
};
