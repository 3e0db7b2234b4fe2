import {
  PHASE_TITLES,
  type PlannedStep,
  type StepPhase,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';

export interface PhaseGroup<T extends PlannedStep> {
  phase: StepPhase;
  title: string;
  steps: T[];
}

/** Steps grouped by control-chain phase, phases and steps in order. */
export function groupByPhase<T extends PlannedStep>(
  steps: readonly T[],
): PhaseGroup<T>[] {
  const groups = new Map<StepPhase, T[]>();
  for (const step of steps) {
    const list = groups.get(step.phase) ?? [];
    list.push(step);
    groups.set(step.phase, list);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([phase, list]) => ({
      phase,
      title: PHASE_TITLES[phase] ?? `Phase ${phase}`,
      steps: [...list].sort((a, b) => a.stage - b.stage),
    }));
}

/** Counts that tell a person what a plan does. */
export function summarizePlan(steps: readonly PlannedStep[]) {
  return {
    total: steps.length,
    revoked: steps.filter(s => s.action === 'revoke').length,
    rotated: steps.filter(s => s.action === 'rotate').length,
    manual: steps.filter(s => s.manual).length,
    afterQuarantine: steps.filter(s => s.afterQuarantine).length,
  };
}
