// @ts-check

/**
 * Governance: when a finished retirement's anchors were last re-verified
 * (and when a re-verification was last written to the evidence, so clean
 * re-checks do not grow the chain every hour), when drift was found, and
 * recorded ownership reassignments of shared anchors, which discovery
 * must not overwrite with the system's view.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_retirements', table => {
    table.string('last_reverified_at', 32).nullable();
    table.string('reverification_recorded_at', 32).nullable();
    table.string('drift_detected_at', 32).nullable();
    table.index(
      ['status', 'last_reverified_at'],
      'nhi_retirements_reverify_idx',
    );
  });
  await knex.schema.createTable('nhi_anchor_owners', table => {
    table.comment('Recorded owner reassignments of shared anchors');
    table.string('anchor_id', 64).primary();
    table.string('owner', 512).notNullable();
    table.string('previous_owner', 512).nullable();
    table.string('retirement_id', 64).notNullable();
    table.string('reassigned_by', 512).notNullable();
    table.string('reassigned_at', 32).notNullable();
    table.index(['owner'], 'nhi_anchor_owners_owner_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('nhi_anchor_owners');
  await knex.schema.alterTable('nhi_retirements', table => {
    table.dropIndex(
      ['status', 'last_reverified_at'],
      'nhi_retirements_reverify_idx',
    );
    table.dropColumn('last_reverified_at');
    table.dropColumn('reverification_recorded_at');
    table.dropColumn('drift_detected_at');
  });
};
