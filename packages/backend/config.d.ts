export interface Config {
  nhiOffboarding?: {
    /** The permission policy of the demo portal (packages/backend). */
    demoPolicy?: {
      /**
       * Members of this group may do everything, including legal holds and
       * exception approvals. Others may retire the entities they own.
       * @default group:default/platform-team
       */
      platformGroup?: string;
    };
    /**
     * Credential systems. Entries of `type: demo` are SIMULATED credential
     * stores (module packages/backend/src/modules/demoProvider): they revoke
     * nothing real, and everything they report is marked "(simulated)".
     */
    providers?: Array<{
      /** Instance id; entities link anchors with the annotation `nhi-offboarding/<id>`. */
      id: string;
      type: string;
      /** demo: simulated latency of every call, in milliseconds. @default 0 */
      latencyMs?: number;
      /** demo: probability (0 to 1) that a call fails with a transient error. @default 0 */
      failureRate?: number;
      /**
       * demo: when an injected failure happens: before the change, after it
       * (a lost response), or either. @default before
       */
      failureMode?: 'before' | 'after' | 'either';
      /**
       * demo: JSON file that keeps the simulated credentials across restarts,
       * relative to packages/backend. @default .data/demo-credentials-<id>.json
       */
      stateFile?: string;
      /** Calls in flight at once against this provider. */
      concurrency?: number;
      /** Calls per second at most. */
      ratePerSecond?: number;
    }>;
  };
}
