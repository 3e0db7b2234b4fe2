// @ts-check

/**
 * A step keeps what the Retire tab shows of its anchor (name, kind,
 * provider) as the plan named it, so a page of steps is read from the steps
 * alone: joining each step to its anchor meant one lookup by id per step in
 * a table of a million anchors on every page not yet kept in memory. The
 * name is the one planned, as the evidence records it; a later rename by
 * discovery shows on the entity's anchors, not on a plan already made.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('nhi_steps', table => {
    table.string('anchor_name', 512).nullable();
    table.string('anchor_kind', 64).nullable();
    table.string('provider_id', 128).nullable();
  });
  // Steps planned before this migration: as their anchors are named now
  // (one pass over the steps; UPDATE … FROM on both databases). It rewrites
  // every step row once: on the benchmark's 660,500 steps (10,000
  // retirements) 49 s on PostgreSQL and 5 s on SQLite on a 2-core VM.
  await knex.raw(
    `update nhi_steps
        set anchor_name = a.display_name,
            anchor_kind = a.kind,
            provider_id = a.provider_id
       from nhi_anchors a
      where a.id = nhi_steps.anchor_id`,
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('nhi_steps', table => {
    table.dropColumn('anchor_name');
    table.dropColumn('anchor_kind');
    table.dropColumn('provider_id');
  });
};
