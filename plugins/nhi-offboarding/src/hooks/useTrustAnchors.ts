import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef, type DiscoveryProblem } from '../api';

/** @public */
export interface TrustAnchorsState {
  anchors?: TrustAnchor[];
  /** Providers the last read could not ask. */
  problems: DiscoveryProblem[];
  error?: Error;
  /** True while the first read runs. */
  loading: boolean;
  /** True while a re-read or a re-discovery runs (the old list stays). */
  refreshing: boolean;
  /** True while a re-discovery the user asked for runs. */
  rediscovering: boolean;
  /** Re-reads what the backend knows. */
  reload: () => Promise<void>;
  /** Asks the providers again (`refresh=true`), then shows the result. */
  rediscover: () => Promise<void>;
}

/** The trust anchors of one entity. */
export function useTrustAnchors(entityRef: string): TrustAnchorsState {
  const api = useApi(nhiOffboardingApiRef);
  const [state, setState] = useState<{
    entityRef?: string;
    anchors?: TrustAnchor[];
    problems?: DiscoveryProblem[];
    error?: Error;
  }>({});
  const [refreshing, setRefreshing] = useState(false);
  const [rediscovering, setRediscovering] = useState(false);
  const generation = useRef(0);

  const read = useCallback(
    async (refresh: boolean) => {
      const mine = ++generation.current;
      setRefreshing(true);
      setRediscovering(refresh);
      try {
        const result = await api.getTrustAnchors(entityRef, { refresh });
        if (mine === generation.current) {
          setState({
            entityRef,
            anchors: result.items,
            problems: result.problems,
          });
        }
      } catch (error) {
        if (mine === generation.current) {
          setState(prev => ({
            entityRef,
            anchors: prev.entityRef === entityRef ? prev.anchors : undefined,
            problems: prev.entityRef === entityRef ? prev.problems : undefined,
            error: error as Error,
          }));
        }
      } finally {
        if (mine === generation.current) {
          setRefreshing(false);
          setRediscovering(false);
        }
      }
    },
    [api, entityRef],
  );

  useEffect(() => {
    read(false);
  }, [read]);

  const current = state.entityRef === entityRef ? state : {};
  return {
    anchors: current.anchors,
    problems: current.problems ?? [],
    error: current.error,
    loading: !current.anchors && !current.error,
    refreshing,
    rediscovering,
    reload: useCallback(() => read(false), [read]),
    rediscover: useCallback(() => read(true), [read]),
  };
}
