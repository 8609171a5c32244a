// At-least-once delivery, as Event Hubs and Salesforce CDC behave: latency, redelivery, duplicates, reordering.
import type { Random } from './random.js'
import { Tally } from './stats.js'

export interface Delivery<T> {
  /** Unique per delivery. */
  readonly id: number
  /** The same for every copy and redelivery of one published message. */
  readonly messageId: number
  readonly body: T
  readonly publishedAt: number
  /** 1 for a copy's first delivery, then 2, 3... after each nack. */
  readonly attempt: number
  /** Why this delivery happens again: duplicate, worker_crash, or the failure that nacked it. */
  readonly cause?: string
  readonly channel: string
}

export interface ChannelOptions {
  /** Delivery latency after publish, [min, max] ms. */
  latencyMs: [number, number]
  /** Extra random delay up to this, so later messages overtake earlier ones (0: publish order kept). */
  reorderMs: number
  /** Probability that a message is delivered once more, later. */
  duplicates: number
  /** When the extra copy arrives after the first, [min, max] ms. */
  duplicateDelayMs: [number, number]
  /** After this many deliveries of one copy it is dead-lettered (counted, never silently dropped). */
  maxAttempts: number
}

interface Pending<T> {
  messageId: number
  seq: number
  body: T
  publishedAt: number
  availableAt: number
  attempt: number
  cause?: string
}

export interface DeadLetter {
  channel: string
  messageId: number
  attempts: number
  lastCause?: string
}

/** One stream of messages with a lease per delivery: ack ends it, nack redelivers it after a delay. */
export class Channel<T> {
  private pending: Pending<T>[] = []
  private readonly leased = new Map<number, Pending<T>>()
  private nextMessageId = 1
  private nextDeliveryId = 1
  private lastAvailableAt = 0
  private highestSeqTaken = 0
  readonly stats = {
    published: 0,
    delivered: 0,
    acked: 0,
    duplicatesInjected: 0,
    outOfOrder: 0,
    redeliveries: new Tally(),
  }
  readonly deadLetters: DeadLetter[] = []

  constructor(
    readonly name: string,
    private readonly rng: Random,
    private readonly options: ChannelOptions,
    private readonly notify: () => void,
  ) {}

  publish(body: T, delayMs = 0): void {
    const now = Date.now()
    const messageId = this.nextMessageId++
    const [min, max] = this.options.latencyMs
    let availableAt: number
    if (this.options.reorderMs > 0) {
      availableAt = now + delayMs + this.rng.between(min, max) + this.rng.between(0, this.options.reorderMs)
    } else {
      // In order: a message never becomes available before one published earlier.
      availableAt = Math.max(this.lastAvailableAt, now + delayMs + (min + max) / 2)
      this.lastAvailableAt = availableAt
    }
    this.stats.published++
    this.insert({ messageId, seq: messageId, body, publishedAt: now, availableAt, attempt: 1 })
    if (this.rng.chance(this.options.duplicates)) {
      const [dmin, dmax] = this.options.duplicateDelayMs
      this.stats.duplicatesInjected++
      this.insert({ messageId, seq: messageId, body, publishedAt: now, availableAt: availableAt + this.rng.between(dmin, dmax), attempt: 1, cause: 'duplicate' })
    }
  }

  private insert(entry: Pending<T>): void {
    this.pending.push(entry)
    this.notify()
  }

  /** The earliest message available now, leased to the caller; undefined when none is due. */
  takeReady(now = Date.now()): Delivery<T> | undefined {
    let best = -1
    for (let i = 0; i < this.pending.length; i++) {
      const entry = this.pending[i]
      if (entry.availableAt > now) continue
      if (best < 0 || entry.availableAt < this.pending[best].availableAt) best = i
    }
    if (best < 0) return undefined
    const [entry] = this.pending.splice(best, 1)
    const id = this.nextDeliveryId++
    this.leased.set(id, entry)
    this.stats.delivered++
    if (entry.attempt === 1 && entry.cause === undefined) {
      if (entry.seq < this.highestSeqTaken) this.stats.outOfOrder++
      this.highestSeqTaken = Math.max(this.highestSeqTaken, entry.seq)
    }
    if (entry.cause) this.stats.redeliveries.add(entry.cause)
    return { id, messageId: entry.messageId, body: entry.body, publishedAt: entry.publishedAt, attempt: entry.attempt, cause: entry.cause, channel: this.name }
  }

  /** When the next scheduled message becomes available, if any. */
  nextAvailableAt(): number | undefined {
    let next: number | undefined
    for (const entry of this.pending) if (next === undefined || entry.availableAt < next) next = entry.availableAt
    return next
  }

  ack(delivery: Delivery<T>): void {
    if (this.leased.delete(delivery.id)) this.stats.acked++
  }

  /** Gives the message back; it is delivered again after delayMs (a crashed worker's message: after its restart). */
  nack(delivery: Delivery<T>, delayMs: number, cause: string): void {
    const entry = this.leased.get(delivery.id)
    if (!entry) return
    this.leased.delete(delivery.id)
    if (entry.attempt >= this.options.maxAttempts) {
      this.deadLetters.push({ channel: this.name, messageId: entry.messageId, attempts: entry.attempt, lastCause: cause })
      return
    }
    this.insert({ ...entry, attempt: entry.attempt + 1, availableAt: Date.now() + delayMs, cause })
  }

  /** Nothing scheduled, nothing leased. */
  get idle(): boolean {
    return this.pending.length === 0 && this.leased.size === 0
  }

  get backlog(): number {
    return this.pending.length + this.leased.size
  }
}

/** Lets workers wait on several channels at once: woken by a publish, a nack, or the next scheduled message. */
export class Mailroom {
  private waiters: Array<() => void> = []
  readonly channels: Array<Channel<unknown>> = []

  readonly wake = (): void => {
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }

  add<T>(channel: Channel<T>): Channel<T> {
    this.channels.push(channel as Channel<unknown>)
    return channel
  }

  /** The earliest due message of any channel, waiting up to maxWaitMs; undefined when nothing came. */
  async take(maxWaitMs: number): Promise<Delivery<unknown> | undefined> {
    const deadline = Date.now() + maxWaitMs
    for (;;) {
      const now = Date.now()
      let bestChannel: Channel<unknown> | undefined
      let bestAt = Infinity
      for (const channel of this.channels) {
        const at = channel.nextAvailableAt()
        if (at !== undefined && at <= now && at < bestAt) {
          bestAt = at
          bestChannel = channel
        }
      }
      if (bestChannel) return bestChannel.takeReady(now)
      if (now >= deadline) return undefined
      let next = deadline
      for (const channel of this.channels) {
        const at = channel.nextAvailableAt()
        if (at !== undefined && at < next) next = at
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== done)
          resolve()
        }, Math.max(1, next - now))
        const done = () => {
          clearTimeout(timer)
          resolve()
        }
        this.waiters.push(done)
      })
    }
  }

  get idle(): boolean {
    return this.channels.every((channel) => channel.idle)
  }
}
