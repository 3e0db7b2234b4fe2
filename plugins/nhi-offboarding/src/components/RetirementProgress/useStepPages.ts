import { useCallback, useEffect, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import type {
  Retirement,
  RetirementStep,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';

/** Steps per "Load more". */
export const STEP_PAGE_SIZE = 100;

export interface StepPages {
  /** The retirement's first page and the further steps asked for. */
  steps: RetirementStep[];
  hasMore: boolean;
  loading: boolean;
  error?: Error;
  loadMore: () => void;
}

/**
 * The steps of a retirement beyond the first page it came with. The further
 * steps are re-read whenever the retirement changes (its first page and
 * `stepsNextCursor` are new then), so a long run stays live as far as the
 * reader scrolled.
 */
export function useStepPages(retirement: Retirement): StepPages {
  const api = useApi(nhiOffboardingApiRef);
  const [wanted, setWanted] = useState(0);
  const [more, setMore] = useState<{
    steps: RetirementStep[];
    nextCursor?: string;
  }>({ steps: [] });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<Error>();
  const first = retirement.steps ?? [];
  const firstCursor = retirement.stepsNextCursor;

  useEffect(() => {
    if (!firstCursor || wanted === 0) {
      setMore({ steps: [] });
      return undefined;
    }
    let cancelled = false;
    (async () => {
      setLoading(true);
      try {
        const steps: RetirementStep[] = [];
        let cursor: string | undefined = firstCursor;
        while (cursor && steps.length < wanted) {
          const page = await api.getRetirementSteps(retirement.id, {
            limit: Math.min(500, wanted - steps.length),
            cursor,
          });
          steps.push(...page.items);
          cursor = page.nextCursor;
        }
        if (!cancelled) {
          setMore({ steps, nextCursor: cursor });
          setError(undefined);
        }
      } catch (e) {
        if (!cancelled) setError(e as Error);
      } finally {
        if (!cancelled) setLoading(false);
      }
    })();
    return () => {
      cancelled = true;
    };
    // updatedAt: re-read what is shown when the retirement changed.
  }, [api, retirement.id, retirement.updatedAt, firstCursor, wanted]);

  const loadMore = useCallback(() => setWanted(w => w + STEP_PAGE_SIZE), []);
  const hasMore = !!firstCursor && (wanted === 0 || !!more.nextCursor);
  return {
    steps: firstCursor ? [...first, ...more.steps] : first,
    hasMore,
    loading,
    error,
    loadMore,
  };
}
