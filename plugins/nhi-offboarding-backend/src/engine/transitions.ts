import type {
  RetirementMode,
  RetirementStatus,
  StepAction,
  StepException,
  StepStatus,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { FINAL_STAGE } from '../planning/stages';

/* Pure decisions of the engine, kept apart from the database so they can be
 * read and tested on their own. */

export interface StepState {
  id: string;
  anchorId?: string;
  stage: number;
  action: StepAction;
  status: StepStatus;
  outcome?: string;
  lastError?: string;
}

export interface RetirementState {
  status: RetirementStatus;
  mode: RetirementMode;
  currentStage: number;
  released: boolean;
  /** The quarantine ends by re-enabling, not revoking. */
  restoring: boolean;
  quarantineUntil?: string;
}

export interface Transition {
  status: RetirementStatus;
  currentStage: number;
  statusReason?: string;
}

const OPEN: StepStatus[] = ['pending', 'running', 'waiting'];

export function isOpen(status: StepStatus): boolean {
  return OPEN.includes(status);
}

/** What the transition rules need to know of a retirement's steps. */
export interface StepSummary {
  failed: number;
  /** The error of one failed step, to say why. */
  firstError?: string;
  open: number;
  /** The lowest stage that still has open steps. */
  lowestOpenStage?: number;
}

/** Summarises step states (the store computes the same with one query). */
export function summarizeSteps(steps: StepState[]): StepSummary {
  const failed = steps.filter(s => s.status === 'failed');
  const open = steps.filter(s => isOpen(s.status));
  return {
    failed: failed.length,
    firstError: failed[0]?.lastError,
    open: open.length,
    lowestOpenStage: open.length
      ? Math.min(...open.map(s => s.stage))
      : undefined,
  };
}

/**
 * Where a retirement goes next given its steps, or undefined when it stays.
 * Completion itself is decided by the seal step (see evaluateCompletion).
 */
export function decideTransition(
  retirement: RetirementState,
  steps: StepSummary,
  now: Date,
): Transition | undefined {
  if (
    !['pending', 'running', 'quarantined', 'needs-attention'].includes(
      retirement.status,
    )
  ) {
    return undefined;
  }
  if (steps.failed > 0) {
    return {
      status: 'needs-attention',
      currentStage: retirement.currentStage,
      statusReason: `${steps.failed} step(s) failed. First: ${
        steps.firstError ?? 'no reason recorded'
      }`,
    };
  }
  if (retirement.restoring && steps.open === 0) {
    return {
      status: 'cancelled',
      currentStage: retirement.currentStage,
      statusReason: 'Quarantine ended by restoring access: nothing was revoked',
    };
  }
  const nextStage = steps.lowestOpenStage ?? retirement.currentStage;
  const quarantineRunning =
    retirement.mode === 'quarantine' &&
    !retirement.released &&
    !!retirement.quarantineUntil &&
    new Date(retirement.quarantineUntil) > now;
  const status: RetirementStatus =
    nextStage >= FINAL_STAGE && quarantineRunning && !retirement.restoring
      ? 'quarantined'
      : 'running';
  if (status === retirement.status && nextStage === retirement.currentStage) {
    return undefined;
  }
  return { status, currentStage: nextStage };
}

export interface CompletionCheck {
  complete: boolean;
  verifiedBySystem: number;
  attested: number;
  excepted: number;
  /** Anchors that are neither verified, attested nor covered by an exception. */
  unresolved: string[];
}

/**
 * Fail closed: complete only when every anchor was verified untrusted by its
 * system, attested by its owner (manual anchors), or is covered by an
 * approved exception that has not expired.
 */
export function evaluateCompletion(
  steps: StepState[],
  exceptions: Pick<StepException, 'anchorId' | 'status' | 'expiresAt'>[],
  now: Date,
): CompletionCheck {
  const anchorIds = new Set(
    steps.filter(s => s.anchorId).map(s => s.anchorId as string),
  );
  const result: CompletionCheck = {
    complete: false,
    verifiedBySystem: 0,
    attested: 0,
    excepted: 0,
    unresolved: [],
  };
  for (const anchorId of anchorIds) {
    const own = steps.filter(s => s.anchorId === anchorId);
    const excepted = exceptions.some(
      e =>
        e.anchorId === anchorId &&
        e.status === 'approved' &&
        new Date(e.expiresAt) > now,
    );
    const finalVerify = own
      .filter(s => s.action === 'verify')
      .sort((a, b) => b.stage - a.stage)[0];
    const attests = own.filter(s => s.action === 'attest');
    if (
      excepted &&
      own.every(s => s.status === 'excepted' || s.status === 'succeeded')
    ) {
      result.excepted++;
    } else if (
      finalVerify &&
      finalVerify.status === 'succeeded' &&
      finalVerify.outcome === 'untrusted' &&
      attests.every(s => s.status === 'succeeded')
    ) {
      result.verifiedBySystem++;
    } else if (
      !finalVerify &&
      attests.length > 0 &&
      attests.every(s => s.status === 'succeeded' && s.outcome === 'attested')
    ) {
      result.attested++;
    } else {
      result.unresolved.push(anchorId);
    }
  }
  result.complete = result.unresolved.length === 0;
  return result;
}
