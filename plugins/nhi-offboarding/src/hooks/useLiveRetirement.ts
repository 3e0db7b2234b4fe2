import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi, useApiHolder } from '@backstage/core-plugin-api';
import { signalApiRef } from '@backstage/plugin-signals-react';
import {
  nhiRetirementSignalChannel,
  type Retirement,
  type RetirementStatus,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../api';

/** How often an active retirement is re-read when no signal arrives. */
export const RETIREMENT_POLL_INTERVAL_MS = 2000;

/** Statuses in which the engine works on its own, so the view must follow. */
export const LIVE_RETIREMENT_STATUSES: RetirementStatus[] = [
  'pending',
  'running',
];

/** The signal channel the backend publishes a retirement's changes on. */
export const retirementSignalChannel = nhiRetirementSignalChannel;

export function isLiveRetirement(retirement?: Retirement): boolean {
  return !!retirement && LIVE_RETIREMENT_STATUSES.includes(retirement.status);
}

/**
 * Calls `onChange` whenever a retirement may have changed: immediately when a
 * Backstage signal arrives on its channel (if the app has the signals API and
 * the backend publishes), and every `intervalMs` while `live` as the
 * fallback. Once the backend publishes signals, the poll can become a slow
 * safety net by raising `intervalMs`; callers do not change.
 */
export function useRetirementChanges(
  id: string | undefined,
  live: boolean,
  onChange: () => Promise<void> | void,
  intervalMs: number = RETIREMENT_POLL_INTERVAL_MS,
): void {
  const signalApi = useApiHolder().get(signalApiRef);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  useEffect(() => {
    if (!id || !signalApi) {
      return undefined;
    }
    const { unsubscribe } = signalApi.subscribe(
      retirementSignalChannel(id),
      () => {
        onChangeRef.current();
      },
    );
    return unsubscribe;
  }, [id, signalApi]);

  useEffect(() => {
    if (!id || !live) {
      return undefined;
    }
    // A timeout chain rather than an interval: a slow response never
    // overlaps the next request.
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        await onChangeRef.current();
      } finally {
        if (!stopped) {
          timer = setTimeout(tick, intervalMs);
        }
      }
    };
    timer = setTimeout(tick, intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id, live, intervalMs]);
}

/** @public */
export interface LiveRetirementState {
  retirement?: Retirement;
  /** The last failed read; the last good `retirement` stays shown. */
  error?: Error;
  loading: boolean;
  reload: () => Promise<void>;
  /** Shows a retirement an action returned, dropping older reads in flight. */
  replace: (retirement: Retirement) => void;
}

/**
 * One retirement with its steps, kept current while it runs.
 */
export function useLiveRetirement(
  id: string | undefined,
  options: { intervalMs?: number } = {},
): LiveRetirementState {
  const api = useApi(nhiOffboardingApiRef);
  const [state, setState] = useState<{
    id?: string;
    retirement?: Retirement;
    error?: Error;
  }>({});
  // Every read and every replace takes a number; only the newest may land.
  const generation = useRef(0);

  const reload = useCallback(async () => {
    if (!id) {
      return;
    }
    const mine = ++generation.current;
    try {
      const retirement = await api.getRetirement(id);
      if (mine === generation.current) {
        setState({ id, retirement });
      }
    } catch (error) {
      if (mine === generation.current) {
        setState(prev => ({
          id,
          retirement: prev.id === id ? prev.retirement : undefined,
          error: error as Error,
        }));
      }
    }
  }, [api, id]);

  const replace = useCallback((retirement: Retirement) => {
    generation.current++;
    setState({ id: retirement.id, retirement });
  }, []);

  useEffect(() => {
    reload();
  }, [reload]);

  const current = state.id === id ? state : {};
  useRetirementChanges(
    id,
    isLiveRetirement(current.retirement),
    reload,
    options.intervalMs,
  );

  return {
    retirement: current.retirement,
    error: current.error,
    loading: !!id && !current.retirement && !current.error,
    reload,
    replace,
  };
}
