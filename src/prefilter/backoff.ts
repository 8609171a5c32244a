// Retry timing for forwards: exponential from 200 ms to 30 s with jitter, or what the target asked for.

export const MIN_BACKOFF_MS = 200
export const MAX_BACKOFF_MS = 30_000
/** A Retry-After beyond this is treated as a typo or a hostile answer, not a plan. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000

export interface BackoffOptions {
  minMs?: number
  maxMs?: number
  /** 0..1; injected so tests are deterministic */
  random?: () => number
}

/**
 * Delay before retry number `attempt` (1 = first retry). Jitter spreads retries of many sidecars (80-100% of the
 * step), and a Retry-After from the target wins over the schedule.
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, options: BackoffOptions = {}): number {
  const minMs = options.minMs ?? MIN_BACKOFF_MS
  const maxMs = options.maxMs ?? MAX_BACKOFF_MS
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    return Math.min(Math.max(retryAfterMs, minMs), MAX_RETRY_AFTER_MS)
  }
  const step = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30))
  const random = options.random ?? Math.random
  return Math.max(minMs, Math.round(step * (0.8 + 0.2 * random())))
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined) return undefined
  const text = header.trim()
  if (text === '') return undefined
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // An HTTP date always names its month; Date.parse alone would read "-1" as a year.
  if (!/[a-z]{3}/i.test(text)) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}
