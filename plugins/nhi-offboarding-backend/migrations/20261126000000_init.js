// @ts-check

/**
 * Tables of the NHI Offboarding backend. Timestamps are stored as ISO 8601
 * strings so SQLite and PostgreSQL compare them the same way.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('nhi_anchors', table => {
    table.comment(
      'Trust anchors: access paths through which a system trusts an entity',
    );
    table.string('id', 64).primary();
    table.string('entity_ref', 512).notNullable().index();
    table.string('provider_id', 128).notNullable();
    table.string('kind', 64).notNullable();
    table.string('external_id', 512).notNullable();
    table.string('display_name', 512).notNullable();
    table
      .string('fingerprint', 256)
      .nullable()
      .comment('Never the secret itself');
    table.text('scopes').notNullable().defaultTo('[]');
    table.string('owner', 512).nullable();
    table.text('shared_with').notNullable().defaultTo('[]');
    table.boolean('manual').notNullable().defaultTo(false);
    table.string('source_created_at', 32).nullable();
    table.string('last_used_at', 32).nullable();
    table.string('expires_at', 32).nullable();
    table.string('status', 32).notNullable();
    table.string('discovered_at', 32).notNullable();
    table.string('discovered_by', 128).notNullable();
    table.string('last_verified_at', 32).nullable();
    table.string('last_verified_by', 128).nullable();
    table.string('last_verification', 32).nullable();
    table.unique(['entity_ref', 'provider_id', 'external_id']);
    table.index(['status'], 'nhi_anchors_status_idx');
  });

  await knex.schema.createTable('nhi_retirements', table => {
    table.comment('One retirement run of one entity');
    table.string('id', 64).primary();
    table.string('entity_ref', 512).notNullable().index();
    // Set while the run is active, null afterwards: a unique index on it
    // allows one active retirement per entity on every database.
    table.string('active_entity_ref', 512).nullable().unique();
    table.string('mode', 32).notNullable();
    table.text('reason').notNullable();
    table.string('status', 32).notNullable();
    table.text('status_reason').nullable();
    table.string('requested_by', 512).notNullable();
    table.boolean('legal_hold').notNullable().defaultTo(false);
    table.text('hold_reason').nullable();
    table.integer('quarantine_days').nullable();
    table.string('quarantine_until', 32).nullable();
    table.boolean('released').notNullable().defaultTo(false);
    table.integer('current_stage').notNullable().defaultTo(0);
    table.string('created_at', 32).notNullable();
    table.string('updated_at', 32).notNullable();
    table.string('completed_at', 32).nullable();
    table.index(['status', 'created_at'], 'nhi_retirements_status_idx');
    table.index(['created_at'], 'nhi_retirements_created_idx');
  });

  await knex.schema.createTable('nhi_steps', table => {
    table.comment(
      'Durable steps of a retirement, claimed by workers with a lease',
    );
    table.string('id', 64).primary();
    table
      .string('retirement_id', 64)
      .notNullable()
      .references('id')
      .inTable('nhi_retirements')
      .onDelete('CASCADE');
    table.string('anchor_id', 64).nullable();
    table.integer('stage').notNullable();
    table.integer('phase').notNullable();
    table.string('action', 32).notNullable();
    table.boolean('manual').notNullable().defaultTo(false);
    table.boolean('after_quarantine').notNullable().defaultTo(false);
    table.text('rationale').notNullable();
    table.string('status', 32).notNullable();
    table.integer('attempts').notNullable().defaultTo(0);
    table.text('last_error').nullable();
    table.string('outcome', 32).nullable();
    table.string('not_before', 32).nullable();
    table.string('lease_owner', 128).nullable();
    table.string('lease_expires_at', 32).nullable();
    table.string('first_attempt_at', 32).nullable();
    table.string('started_at', 32).nullable();
    table.string('finished_at', 32).nullable();
    table.index(['retirement_id', 'stage'], 'nhi_steps_retirement_stage_idx');
    table.index(['status', 'not_before'], 'nhi_steps_claim_idx');
  });

  await knex.schema.createTable('nhi_exceptions', table => {
    table.comment(
      'Exceptions to a step: justification, four-eyes approval, expiry',
    );
    table.string('id', 64).primary();
    table
      .string('retirement_id', 64)
      .notNullable()
      .references('id')
      .inTable('nhi_retirements')
      .onDelete('CASCADE');
    table.string('step_id', 64).notNullable().index();
    table.string('anchor_id', 64).nullable();
    table.text('justification').notNullable();
    table.string('expires_at', 32).notNullable();
    table.string('requested_by', 512).notNullable();
    table.string('requested_at', 32).notNullable();
    table.string('status', 32).notNullable();
    table.string('decided_by', 512).nullable();
    table.string('decided_at', 32).nullable();
    table.text('decision_note').nullable();
    table.index(['status', 'expires_at'], 'nhi_exceptions_status_idx');
  });

  await knex.schema.createTable('nhi_evidence', table => {
    table.comment('Append-only evidence, hash-chained per retirement');
    table.string('retirement_id', 64).notNullable();
    table.integer('seq').notNullable();
    table.string('kind', 32).notNullable();
    table.string('step_id', 64).nullable();
    table.string('anchor_id', 64).nullable();
    table.string('actor', 512).notNullable();
    table.string('at', 32).notNullable();
    table.text('summary').notNullable();
    table.text('data').notNullable();
    table.string('prev_hash', 64).notNullable();
    table.string('hash', 64).notNullable();
    table.primary(['retirement_id', 'seq']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('nhi_evidence');
  await knex.schema.dropTable('nhi_exceptions');
  await knex.schema.dropTable('nhi_steps');
  await knex.schema.dropTable('nhi_retirements');
  await knex.schema.dropTable('nhi_anchors');
};
