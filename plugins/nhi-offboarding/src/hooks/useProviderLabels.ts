import { useCallback } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { nhiOffboardingApiRef } from '../api';

/**
 * A function naming a provider for people: simulated providers say so, e.g.
 * "demo (simulation)". Falls back to the id while loading or on errors.
 */
export function useProviderLabels(): (providerId?: string) => string {
  const api = useApi(nhiOffboardingApiRef);
  const { value } = useAsync(() => api.getProviders(), [api]);
  return useCallback(
    (providerId?: string) => {
      if (!providerId) {
        return '—';
      }
      const provider = value?.find(p => p.id === providerId);
      if (provider?.simulated) {
        return `${providerId} (simulation)`;
      }
      if (provider?.manual) {
        return `${providerId} (manual)`;
      }
      return providerId;
    },
    [value],
  );
}
