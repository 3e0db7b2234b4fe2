import { type ReactNode } from 'react';
import { act, renderHook, waitFor } from '@testing-library/react';
import { TestApiProvider } from '@backstage/test-utils';
import { signalApiRef, type SignalApi } from '@backstage/plugin-signals-react';
import { nhiOffboardingApiRef } from '../api';
import { mockApi, retirement } from '../__testUtils__/fixtures';
import {
  RETIREMENT_POLL_INTERVAL_MS,
  retirementSignalChannel,
  useLiveRetirement,
} from './useLiveRetirement';

describe('useLiveRetirement', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('polls every 2 s while the retirement runs, and stops when it is done', async () => {
    jest.useFakeTimers();
    const api = mockApi({
      getRetirement: jest
        .fn()
        .mockResolvedValueOnce(retirement({ status: 'pending' }))
        .mockResolvedValueOnce(retirement({ status: 'running' }))
        .mockResolvedValue(retirement({ status: 'completed' })),
    });
    const wrapper = ({ children }: { children: ReactNode }) => (
      <TestApiProvider apis={[[nhiOffboardingApiRef, api]]}>
        {children}
      </TestApiProvider>
    );
    const { result } = renderHook(() => useLiveRetirement('r1'), { wrapper });
    expect(result.current.loading).toBe(true);
    await waitFor(() =>
      expect(result.current.retirement?.status).toBe('pending'),
    );
    expect(api.getRetirement).toHaveBeenCalledTimes(1);

    await act(async () => {
      await jest.advanceTimersByTimeAsync(RETIREMENT_POLL_INTERVAL_MS);
    });
    expect(result.current.retirement?.status).toBe('running');
    await act(async () => {
      await jest.advanceTimersByTimeAsync(RETIREMENT_POLL_INTERVAL_MS);
    });
    expect(result.current.retirement?.status).toBe('completed');
    expect(api.getRetirement).toHaveBeenCalledTimes(3);

    await act(async () => {
      await jest.advanceTimersByTimeAsync(10 * RETIREMENT_POLL_INTERVAL_MS);
    });
    expect(api.getRetirement).toHaveBeenCalledTimes(3);
  });

  it('re-reads at once when a signal arrives, and never polls a settled retirement', async () => {
    jest.useFakeTimers();
    let onSignal: (() => void) | undefined;
    const unsubscribe = jest.fn();
    const signalApi: SignalApi = {
      subscribe: jest.fn((channel: string, cb: () => void) => {
        expect(channel).toBe(retirementSignalChannel('r1'));
        onSignal = cb;
        return { unsubscribe };
      }),
    };
    const api = mockApi({
      getRetirement: jest
        .fn()
        .mockResolvedValueOnce(retirement({ status: 'quarantined' }))
        .mockResolvedValue(retirement({ status: 'completed' })),
    });
    const wrapper = ({ children }: { children: ReactNode }) => (
      <TestApiProvider
        apis={[
          [nhiOffboardingApiRef, api],
          [signalApiRef, signalApi],
        ]}
      >
        {children}
      </TestApiProvider>
    );
    const { result, unmount } = renderHook(() => useLiveRetirement('r1'), {
      wrapper,
    });
    await waitFor(() =>
      expect(result.current.retirement?.status).toBe('quarantined'),
    );
    await act(async () => {
      await jest.advanceTimersByTimeAsync(5 * RETIREMENT_POLL_INTERVAL_MS);
    });
    expect(api.getRetirement).toHaveBeenCalledTimes(1);

    await act(async () => {
      onSignal!();
    });
    await waitFor(() =>
      expect(result.current.retirement?.status).toBe('completed'),
    );
    unmount();
    expect(unsubscribe).toHaveBeenCalled();
  });

  it('keeps the last good retirement when a poll fails, and lets an action result win', async () => {
    const api = mockApi({
      getRetirement: jest
        .fn()
        .mockResolvedValueOnce(retirement({ status: 'needs-attention' }))
        .mockRejectedValueOnce(new Error('network down')),
    });
    const wrapper = ({ children }: { children: ReactNode }) => (
      <TestApiProvider apis={[[nhiOffboardingApiRef, api]]}>
        {children}
      </TestApiProvider>
    );
    const { result } = renderHook(() => useLiveRetirement('r1'), { wrapper });
    await waitFor(() =>
      expect(result.current.retirement?.status).toBe('needs-attention'),
    );
    await act(async () => {
      await result.current.reload();
    });
    expect(result.current.error?.message).toBe('network down');
    expect(result.current.retirement?.status).toBe('needs-attention');

    act(() => result.current.replace(retirement({ status: 'running' })));
    expect(result.current.retirement?.status).toBe('running');
    expect(result.current.error).toBeUndefined();
  });
});
