// What the fake calendars' APIs fail with, and the injector that decides when a sync write fails.
import type { Random } from './random.js'
import { Tally } from './stats.js'
import type { Side } from './truth.js'

/**
 * unavailable: 429/503 before anything happened (retry). landed_timeout: the write happened but the answer was
 * lost (retry, and the retry repeats it). not_found: the item is gone. precondition_failed: If-Match /
 * If-Unmodified-Since did not hold. rejected: a permanent 400 (bad input).
 */
export type FakeErrorKind = 'unavailable' | 'landed_timeout' | 'not_found' | 'precondition_failed' | 'rejected'

export class FakeApiError extends Error {
  /**
   * Set by the worker's retries on the error that ends them when an earlier attempt's answer was lost: that attempt
   * may have landed. `writeSeq`, the landed write's, is the simulation's bookkeeping, which no real flow has.
   */
  afterLostAnswer?: { writeSeq?: number }

  constructor(
    readonly system: Side,
    readonly kind: FakeErrorKind,
    message: string,
    /** landed_timeout: the sequence number of the write that landed (bookkeeping only) */
    readonly writeSeq?: number,
  ) {
    super(`${system}: ${kind}: ${message}`)
    this.name = 'FakeApiError'
  }

  get transient(): boolean {
    return this.kind === 'unavailable' || this.kind === 'landed_timeout'
  }
}

/** Per-write failures at a rate (some after the write landed) plus outage windows in which every write fails. */
export class WriteFaults {
  readonly injected = new Tally()
  private outages: Array<{ from: number; to: number }> = []

  constructor(
    private readonly system: Side,
    private readonly rng: Random,
    private readonly rate: number,
  ) {}

  get enabled(): boolean {
    return this.rate > 0
  }

  addOutage(from: number, durationMs: number): void {
    this.outages.push({ from, to: from + durationMs })
  }

  /** Throws for a failure before the write; returns true when the write must land and then report a timeout. */
  beforeWrite(op: string): boolean {
    const now = Date.now()
    if (this.outages.some((o) => now >= o.from && now < o.to)) {
      this.injected.add('outage')
      throw new FakeApiError(this.system, 'unavailable', `${op} refused: service unavailable (outage)`)
    }
    if (!this.rng.chance(this.rate)) return false
    // A third of the failures happen after the write landed: the retry repeats a write that already happened.
    if (this.rng.chance(1 / 3)) {
      this.injected.add('landed_timeout')
      return true
    }
    this.injected.add('unavailable')
    throw new FakeApiError(this.system, 'unavailable', `${op} refused: 503 / 429`)
  }

  landedTimeout(op: string, writeSeq: number): FakeApiError {
    return new FakeApiError(this.system, 'landed_timeout', `${op} timed out after the write landed`, writeSeq)
  }
}
