// Delivers outbound messages through a forwarder: bounded concurrency, in order per lane, retried until they succeed.
import { setMaxListeners } from 'node:events'
import { retryDelayMs, type BackoffOptions } from './backoff.js'
import type { Outbound } from './messages.js'
import { sleep, type Scheduler } from './scheduler.js'

export interface Forwarder {
  readonly kind: 'http' | 'eventhub'
  /** Resolves when the target took the message; throws (ideally a ForwardError) otherwise. */
  forward(outbound: Outbound, signal: AbortSignal): Promise<void>
  close(): Promise<void>
}

/** A failed forward; `reason` is a metric label, `retryAfterMs` what the target asked for. */
export class ForwardError extends Error {
  readonly reason: string
  readonly retryAfterMs?: number

  constructor(message: string, reason: string, retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ForwardError'
    this.reason = reason
    this.retryAfterMs = retryAfterMs
  }
}

export interface DeliveryHooks {
  forwarded(outbound: Outbound, attempts: number): void
  failed(outbound: Outbound, error: ForwardError, attempt: number, delayMs: number): void
  /** a hook or completion callback threw */
  error(error: unknown): void
}

export interface DeliveryOptions {
  forwarder: Forwarder
  scheduler: Scheduler
  /** messages in flight at once (different lanes) */
  concurrency?: number
  backoff?: BackoffOptions
  hooks?: Partial<DeliveryHooks>
}

interface Job {
  outbound: Outbound
  onDone: () => void
  attempts: number
  firstFailureAt?: number
}

export interface DeliveryFailure {
  reason: string
  message: string
  at: number
}

const asForwardError = (error: unknown): ForwardError =>
  error instanceof ForwardError
    ? error
    : new ForwardError(error instanceof Error ? error.message : String(error), 'error', undefined, { cause: error })

/**
 * Never gives up on a message on its own: a failing message is retried with backoff until it succeeds or `abort()`
 * (shutdown grace over). Messages whose `onDone` never ran are simply not checkpointed.
 */
export class Delivery {
  private readonly forwarder: Forwarder
  private readonly scheduler: Scheduler
  private readonly concurrency: number
  private readonly backoff: BackoffOptions
  private readonly hooks: Partial<DeliveryHooks>
  private readonly lanes = new Map<string, Job[]>()
  private ready: string[] = []
  private readyHead = 0
  private active = 0
  private queued = 0
  private readonly running = new Set<Job>()
  private readonly controller = new AbortController()
  private idleWaiters: Array<() => void> = []
  private failure?: DeliveryFailure

  constructor(options: DeliveryOptions) {
    this.forwarder = options.forwarder
    this.scheduler = options.scheduler
    this.concurrency = Math.max(1, options.concurrency ?? 8)
    this.backoff = options.backoff ?? {}
    this.hooks = options.hooks ?? {}
    // Every message in flight or backing off listens to this one signal.
    setMaxListeners(0, this.controller.signal)
  }

  /** Messages queued or in flight. */
  get pending(): number {
    return this.queued
  }

  get aborted(): boolean {
    return this.controller.signal.aborted
  }

  /** The last failure seen, kept for status pages. */
  get lastFailure(): DeliveryFailure | undefined {
    return this.failure
  }

  /** When the oldest message still failing first failed; undefined while nothing fails. */
  failingSince(): number | undefined {
    let since: number | undefined
    for (const job of this.running) {
      if (job.firstFailureAt !== undefined && (since === undefined || job.firstFailureAt < since)) since = job.firstFailureAt
    }
    return since
  }

  enqueue(outbound: Outbound, onDone: () => void): void {
    if (this.aborted) return
    const job: Job = { outbound, onDone, attempts: 0 }
    this.queued += 1
    const lane = this.lanes.get(outbound.lane)
    if (lane) lane.push(job)
    else {
      this.lanes.set(outbound.lane, [job])
      this.ready.push(outbound.lane)
    }
    this.pump()
  }

  /** Resolves once nothing is queued or in flight (or after abort). */
  whenIdle(): Promise<void> {
    if (this.queued === 0 || this.aborted) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Stops retrying and cancels requests in flight; what did not succeed stays unforwarded (and uncheckpointed). */
  abort(): void {
    this.controller.abort()
    this.wakeIdle()
  }

  private pump(): void {
    while (this.active < this.concurrency && this.readyHead < this.ready.length && !this.aborted) {
      const laneKey = this.ready[this.readyHead]
      this.readyHead += 1
      const job = this.lanes.get(laneKey)?.[0]
      if (!job) continue
      this.active += 1
      void this.run(laneKey, job)
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead)
      this.readyHead = 0
    }
  }

  private async run(laneKey: string, job: Job): Promise<void> {
    const signal = this.controller.signal
    this.running.add(job)
    let delivered = false
    while (!signal.aborted) {
      job.attempts += 1
      try {
        await this.forwarder.forward(job.outbound, signal)
        delivered = true
        break
      } catch (caught) {
        if (signal.aborted) break
        const error = asForwardError(caught)
        const now = this.scheduler.now()
        job.firstFailureAt ??= now
        this.failure = { reason: error.reason, message: error.message, at: now }
        const delay = retryDelayMs(job.attempts, error.retryAfterMs, this.backoff)
        this.safely(() => this.hooks.failed?.(job.outbound, error, job.attempts, delay))
        await sleep(this.scheduler, delay, signal)
      }
    }
    this.running.delete(job)
    this.active -= 1
    if (!delivered) return
    this.queued -= 1
    this.safely(() => this.hooks.forwarded?.(job.outbound, job.attempts))
    this.safely(job.onDone)
    const lane = this.lanes.get(laneKey)
    lane?.shift()
    if (lane && lane.length > 0) this.ready.push(laneKey)
    else this.lanes.delete(laneKey)
    this.pump()
    if (this.queued === 0) this.wakeIdle()
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const wake of waiters) wake()
  }

  // Hooks and callbacks belong to other layers; their bugs must not wedge a lane.
  private safely(fn: () => void): void {
    try {
      fn()
    } catch (error) {
      try {
        this.hooks.error?.(error)
      } catch {
        // nothing left to report to
      }
    }
  }
}
