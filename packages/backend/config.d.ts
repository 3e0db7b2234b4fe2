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
      /**
       * demo: faults injected into the engine's calls (actions and
       * verifications, not discovery), to try the retry policy and timeouts.
       * Rates are probabilities from 0 to 1, together at most 1.
       */
      faults?: {
        /** A 5xx-like transient error. @default 0 */
        errorRate?: number;
        /** A 429-like refusal that says when to retry. @default 0 */
        rateLimitRate?: number;
        /** The Retry-After of a refusal, in milliseconds. @default 1000 */
        retryAfterMs?: number;
        /** An answer that comes only after slowMs. @default 0 */
        slowRate?: number;
        /** Delay of a slow answer, in milliseconds. @default 60000 */
        slowMs?: number;
        /** No answer ever (the call also ignores being aborted). @default 0 */
        hangRate?: number;
      };
      /**
       * demo: JSONL file that logs every action and verification call (ids
       * and times only), relative to packages/backend; for test harnesses.
       */
      callLogFile?: string;
      /** Cut-off of one call to this provider, in milliseconds (default: nhiOffboarding.engine.callTimeoutMs). */
      callTimeoutMs?: number;
      /** How long a change may take to show in verification, in milliseconds. */
      propagationWindowMs?: number;
      /** Calls in flight at once against this provider. */
      concurrency?: number;
      /** Calls per second at most. */
      ratePerSecond?: number;
    }>;
  };
}
