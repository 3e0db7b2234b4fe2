import { TransientProviderError } from '@nhi-offboarding/plugin-nhi-offboarding-node';

/**
 * Runs a provider call with an abort signal and a deadline. A call that
 * hangs is abandoned after `timeoutMs` (and told so through the signal) so
 * it can never hold a worker forever.
 */
export async function withTimeout<T>(
  call: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  what: string,
  parent?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call(controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new TransientProviderError(
            `${what} timed out after ${timeoutMs} ms`,
          );
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  }
}
