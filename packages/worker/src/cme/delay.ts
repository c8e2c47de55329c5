import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`; an abort rejects with the signal's own reason (as every CME call does). */
export async function delay(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}
