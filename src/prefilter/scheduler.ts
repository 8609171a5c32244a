// The clock and timers the pre-filter runs on; injected so tests drive time instead of waiting for it.

export type TimerHandle = unknown

export interface Scheduler {
  now(): number
  setTimeout(callback: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** A sleep that a shutdown can cut short; resolves true when it slept the whole time. */
export function sleep(scheduler: Scheduler, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const onAbort = () => {
      scheduler.clearTimeout(handle)
      resolve(false)
    }
    const handle = scheduler.setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
