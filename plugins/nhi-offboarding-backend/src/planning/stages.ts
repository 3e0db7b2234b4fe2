/**
 * The order in which a retirement's steps run. A stage starts only when every
 * step of the stages before it has ended, so the control chain holds:
 * disable before ending sessions, both before removing memberships, those
 * before revoking or rotating secrets, all of it before verification.
 */
export const STAGE = {
  disable: 1,
  terminateSessions: 2,
  /** Quarantine only: prove the identity is disabled before waiting. */
  verifyDisabled: 3,
  removeMemberships: 4,
  secrets: 5,
  verify: 6,
  seal: 7,
  /** After a quarantine is ended by restoring access: re-enable what was disabled. */
  restore: 8,
} as const;

/**
 * Steps from this stage on are final (not reversible): they wait for the end
 * of a quarantine and are blocked by a legal hold.
 */
export const FINAL_STAGE = STAGE.removeMemberships;
