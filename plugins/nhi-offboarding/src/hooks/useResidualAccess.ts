import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import type { ResidualAccessItem } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../api';

/** Items asked for per request: a page is cheap, the estate may be huge. */
export const RESIDUAL_ACCESS_PAGE = 200;

export interface ResidualAccessState {
  items: ResidualAccessItem[];
  loading: boolean;
  error?: Error;
  /** True while the backend has more pages. */
  hasMore: boolean;
  loadMore: () => void;
}

/** Residual access page by page: the first page, then more on request. */
export function useResidualAccess(): ResidualAccessState {
  const api = useApi(nhiOffboardingApiRef);
  const [items, setItems] = useState<ResidualAccessItem[]>([]);
  const [cursor, setCursor] = useState<string>();
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error>();
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );

  const load = useCallback(
    async (after: string | undefined) => {
      setLoading(true);
      try {
        const page = await api.getResidualAccessPage({
          limit: RESIDUAL_ACCESS_PAGE,
          cursor: after,
        });
        if (!alive.current) return;
        setItems(prev => (after ? [...prev, ...page.items] : page.items));
        setCursor(page.nextCursor);
        setHasMore(!!page.nextCursor);
        setError(undefined);
      } catch (e) {
        if (alive.current) setError(e as Error);
      } finally {
        if (alive.current) setLoading(false);
      }
    },
    [api],
  );

  useEffect(() => {
    load(undefined);
  }, [load]);

  const loadMore = useCallback(() => {
    if (cursor && !loading) load(cursor);
  }, [cursor, loading, load]);

  return { items, loading, error, hasMore, loadMore };
}
