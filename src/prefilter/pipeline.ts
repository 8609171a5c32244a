// The pre-filter without the SDK: events in, notifications sorted and collapsed, forwards out, checkpoints behind them.
import { type CheckpointPosition, type EventSlot, PartitionTracker } from './checkpoint-tracker.js'
import { type Burst, BurstCollapser } from './collapse.js'
import type { Delivery } from './delivery.js'
import { toChangeOutbound, toLifecycleOutbound } from './messages.js'
import { classifyNotification, type DropReason, readNotificationCollection } from './notifications.js'
import { sleep, type Scheduler, type TimerHandle } from './scheduler.js'

/** What the pipeline needs of a received event (a subset of the SDK's ReceivedEventData). */
export interface ReceivedEvent {
  sequenceNumber: number
  offset: string
  enqueuedTimeUtc: Date
  body: unknown
}

export type CheckpointWriter = (position: CheckpointPosition) => Promise<void>

export interface PipelineHooks {
  received(events: number, notifications: number): void
  /** `where`: the event that held the dropped notification (checkpointed past it: say so in the log) */
  dropped(reason: DropReason, count: number, where: { partitionId: string; sequenceNumber: number }): void
  /** notifications merged into another one's message */
  collapsed(count: number): void
  checkpointed(partitionId: string, position: CheckpointPosition): void
  checkpointFailed(partitionId: string, error: unknown): void
}

export interface PipelineOptions {
  clientStates: readonly string[]
  quietMs: number
  maxWaitMs: number
  scheduler: Scheduler
  delivery: Delivery
  hooks?: Partial<PipelineHooks>
  /** receiving pauses while this many notifications wait to be forwarded */
  maxUnsettled?: number
  checkpointRetryMs?: number
}

type HandleState = 'open' | 'closed' | 'lost' | 'superseded'

/** One claimed partition; checkpoints are written only while it is open or closed by our own shutdown. */
export class PartitionHandle {
  readonly partitionId: string
  readonly tracker = new PartitionTracker()
  state: HandleState = 'open'
  readonly write: CheckpointWriter
  writing?: Promise<void>
  dirty = false
  /** write a checkpoint just before the first event received (the partition has none yet, or its listing failed) */
  anchorPending: boolean
  retryTimer?: TimerHandle

  constructor(partitionId: string, write: CheckpointWriter, anchor: boolean) {
    this.partitionId = partitionId
    this.write = write
    this.anchorPending = anchor
  }

  get writesCheckpoints(): boolean {
    return this.state === 'open' || this.state === 'closed'
  }
}

interface Token {
  handle: PartitionHandle
  slot: EventSlot
}

export interface PartitionStatus {
  partitionId: string
  state: HandleState
  lastReceivedSequenceNumber?: number
  checkpointSequenceNumber?: number
  checkpointLag: number
  unsettledEvents: number
}

export class Pipeline {
  private readonly clientStates: ReadonlySet<string>
  private readonly scheduler: Scheduler
  private readonly delivery: Delivery
  private readonly hooks: Partial<PipelineHooks>
  private readonly collapser: BurstCollapser<Token>
  private readonly maxUnsettled: number
  private readonly checkpointRetryMs: number
  private readonly partitions = new Map<string, PartitionHandle>()
  private timer?: TimerHandle
  private timerAt?: number
  private unsettled = 0
  private roomWaiters: Array<() => void> = []
  private flushing = false
  private stopped = false

  constructor(options: PipelineOptions) {
    this.clientStates = new Set(options.clientStates)
    this.scheduler = options.scheduler
    this.delivery = options.delivery
    this.hooks = options.hooks ?? {}
    this.collapser = new BurstCollapser<Token>({ quietMs: options.quietMs, maxWaitMs: options.maxWaitMs })
    this.maxUnsettled = Math.max(1, options.maxUnsettled ?? 50_000)
    this.checkpointRetryMs = options.checkpointRetryMs ?? 1_000
  }

  /**
   * Starts tracking a partition the consumer just claimed; an older handle of the same id stops checkpointing.
   * `anchor` (the partition has no checkpoint, or its checkpoints could not be listed; consumer.ts needsAnchor): see
   * anchorBeforeFirst.
   */
  openPartition(partitionId: string, write: CheckpointWriter, options: { anchor?: boolean } = {}): PartitionHandle {
    const previous = this.partitions.get(partitionId)
    if (previous && previous.state !== 'lost') previous.state = 'superseded'
    const handle = new PartitionHandle(partitionId, write, options.anchor ?? false)
    this.partitions.set(partitionId, handle)
    return handle
  }

  /**
   * `ownership_lost`: another consumer reads it now, so this one writes no more checkpoints for it (they could move
   * the new owner's backwards). `shutdown`: our own stop; what we still forward is checkpointed.
   */
  closePartition(handle: PartitionHandle, reason: 'ownership_lost' | 'shutdown'): void {
    if (reason === 'ownership_lost') handle.state = 'lost'
    else if (handle.state === 'open') handle.state = 'closed'
  }

  /** Takes one batch of a partition, in order. Never throws: bad bodies become counted drops. */
  ingest(handle: PartitionHandle, events: readonly ReceivedEvent[]): void {
    if (events.length === 0) return
    if (handle.anchorPending) this.anchorBeforeFirst(handle, events[0])
    const now = this.scheduler.now()
    let notifications = 0
    for (const event of events) {
      const elements = readNotificationCollection(event.body)
      if (elements === undefined) {
        this.hooks.dropped?.('unparsable', 1, { partitionId: handle.partitionId, sequenceNumber: event.sequenceNumber })
        handle.tracker.addEvent(event.sequenceNumber, event.offset, 0)
        continue
      }
      notifications += elements.length
      const enqueuedAt = toMillis(event.enqueuedTimeUtc, now)
      // One placeholder notification holds the event open while its elements are sorted.
      const slot = handle.tracker.addEvent(event.sequenceNumber, event.offset, 1)
      for (const raw of elements) {
        const item = classifyNotification(raw, this.clientStates)
        if (item.kind === 'drop') {
          this.hooks.dropped?.(item.reason, 1, { partitionId: handle.partitionId, sequenceNumber: event.sequenceNumber })
          continue
        }
        slot.pending += 1
        this.unsettled += 1
        const token: Token = { handle, slot }
        if (item.kind === 'lifecycle') {
          this.delivery.enqueue(toLifecycleOutbound(item, enqueuedAt), () => this.settle([token]))
        } else {
          this.collapser.add(item, enqueuedAt, token, now)
        }
      }
      handle.tracker.settle(slot)
    }
    this.hooks.received?.(events.length, notifications)
    this.scheduleCheckpoint(handle)
    if (this.flushing) this.emit(this.collapser.takeAll())
    else this.armTimer()
  }

  /** Resolves when fewer notifications wait than the limit (or on stop): the consumer's backpressure. */
  waitForRoom(): Promise<void> {
    if (this.unsettled < this.maxUnsettled || this.stopped) return Promise.resolve()
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }

  /** Emits every waiting burst now; later arrivals are emitted as they come (shutdown). */
  flush(): void {
    this.flushing = true
    this.clearTimer()
    this.emit(this.collapser.takeAll())
  }

  /**
   * Shutdown: flush, wait for forwards until `timeoutMs` minus a reserve for the last checkpoint writes, give up on
   * what is still failing, write the checkpoints of what was forwarded. True when everything was forwarded.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.flush()
    const started = this.scheduler.now()
    const reserve = Math.min(1_000, Math.floor(timeoutMs / 5))
    const timeout = new AbortController()
    await Promise.race([this.delivery.whenIdle(), sleep(this.scheduler, Math.max(0, timeoutMs - reserve), timeout.signal)])
    timeout.abort()
    const complete = this.delivery.pending === 0
    if (!complete) this.delivery.abort()
    const left = Math.max(reserve, timeoutMs - (this.scheduler.now() - started))
    const writes = new AbortController()
    await Promise.race([this.writeAllCheckpoints(), sleep(this.scheduler, left, writes.signal)])
    writes.abort()
    this.stop()
    return complete
  }

  /** Clears timers and releases waiters; no more checkpoint retries. */
  stop(): void {
    this.stopped = true
    this.clearTimer()
    for (const handle of this.partitions.values()) {
      if (handle.retryTimer !== undefined) this.scheduler.clearTimeout(handle.retryTimer)
      handle.retryTimer = undefined
    }
    this.wakeRoom()
  }

  get waitingItems(): number {
    return this.collapser.size
  }

  get unsettledNotifications(): number {
    return this.unsettled
  }

  partitionStatus(): PartitionStatus[] {
    return [...this.partitions.values()].map((handle) => ({
      partitionId: handle.partitionId,
      state: handle.state,
      lastReceivedSequenceNumber: handle.tracker.lastReceivedPosition?.sequenceNumber,
      checkpointSequenceNumber: handle.tracker.lastWritten?.sequenceNumber,
      checkpointLag: handle.tracker.lag,
      unsettledEvents: handle.tracker.unsettledEvents,
    }))
  }

  /**
   * Without a checkpoint a restart starts at PREFILTER_START_POSITION again; from "latest" that would skip what this
   * run received but could not forward. So the first event's predecessor is checkpointed at once. The service's
   * offsets are increasing byte positions, so "offset - 1" lies between the two events; any other offset format
   * is left alone.
   */
  private anchorBeforeFirst(handle: PartitionHandle, first: ReceivedEvent): void {
    handle.anchorPending = false
    if (typeof first.offset !== 'string' || !/^\d{1,30}$/.test(first.offset)) return
    handle.tracker.anchor({ sequenceNumber: first.sequenceNumber - 1, offset: (BigInt(first.offset) - 1n).toString() })
  }

  private emit(bursts: Burst<Token>[]): void {
    let merged = 0
    for (const burst of bursts) {
      merged += burst.collapsed - 1
      const tokens = burst.tokens
      this.delivery.enqueue(toChangeOutbound(burst), () => this.settle(tokens))
    }
    if (merged > 0) this.hooks.collapsed?.(merged)
  }

  private settle(tokens: readonly Token[]): void {
    const moved = new Set<PartitionHandle>()
    for (const { handle, slot } of tokens) {
      if (handle.tracker.settle(slot)) moved.add(handle)
    }
    this.unsettled -= tokens.length
    for (const handle of moved) this.scheduleCheckpoint(handle)
    if (this.unsettled < this.maxUnsettled) this.wakeRoom()
  }

  /** One write in flight per partition; a newer position found meanwhile is written right after. */
  private scheduleCheckpoint(handle: PartitionHandle): void {
    if (!handle.writesCheckpoints) return
    if (handle.writing) {
      handle.dirty = true
      return
    }
    const position = handle.tracker.unwritten()
    if (position === undefined) return
    handle.dirty = false
    handle.writing = handle
      .write(position)
      .then(
        () => {
          handle.tracker.markWritten(position)
          this.hooks.checkpointed?.(handle.partitionId, position)
        },
        (error: unknown) => {
          this.hooks.checkpointFailed?.(handle.partitionId, error)
          if (handle.retryTimer === undefined && !this.stopped) {
            handle.retryTimer = this.scheduler.setTimeout(() => {
              handle.retryTimer = undefined
              this.scheduleCheckpoint(handle)
            }, this.checkpointRetryMs)
          }
        },
      )
      .finally(() => {
        handle.writing = undefined
        if (handle.dirty) this.scheduleCheckpoint(handle)
      })
  }

  private async writeAllCheckpoints(): Promise<void> {
    for (;;) {
      const busy = [...this.partitions.values()].filter((handle) => handle.writesCheckpoints)
      for (const handle of busy) this.scheduleCheckpoint(handle)
      const writes = busy.map((handle) => handle.writing).filter((write) => write !== undefined)
      if (writes.length === 0) return
      await Promise.all(writes)
      // A failed write would loop here until the drain deadline; one retry round is enough.
      if (busy.every((handle) => handle.tracker.unwritten() === undefined || handle.retryTimer !== undefined)) return
    }
  }

  private armTimer(): void {
    const due = this.collapser.nextDueAt()
    if (due === undefined) return this.clearTimer()
    if (this.timerAt !== undefined && this.timerAt <= due) return
    this.clearTimer()
    this.timerAt = due
    this.timer = this.scheduler.setTimeout(() => this.onTimer(), Math.max(0, due - this.scheduler.now()))
  }

  private onTimer(): void {
    this.timer = undefined
    this.timerAt = undefined
    if (this.stopped) return
    this.emit(this.collapser.takeDue(this.scheduler.now()))
    this.armTimer()
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.scheduler.clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = undefined
  }

  private wakeRoom(): void {
    const waiters = this.roomWaiters
    this.roomWaiters = []
    for (const wake of waiters) wake()
  }
}

function toMillis(value: unknown, fallback: number): number {
  if (value instanceof Date) {
    const ms = value.getTime()
    return Number.isNaN(ms) ? fallback : ms
  }
  if (typeof value === 'number' && Number.isFinite(value)) return value
  return fallback
}
