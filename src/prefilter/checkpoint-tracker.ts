// Per-partition checkpoint rule: the checkpoint reaches event N only when every notification of events <= N settled.

export interface CheckpointPosition {
  sequenceNumber: number
  offset: string
}

/** One received event; `pending` counts its notifications not yet forwarded or dropped. */
export interface EventSlot extends CheckpointPosition {
  pending: number
}

export class PartitionTracker {
  private queue: EventSlot[] = []
  private head = 0
  private settledUpTo?: CheckpointPosition
  private written?: CheckpointPosition
  private lastReceived?: CheckpointPosition
  private firstReceivedSeq?: number

  /** Registers an event in receive order with the number of notifications still to settle. */
  addEvent(sequenceNumber: number, offset: string, pending: number): EventSlot {
    const slot: EventSlot = { sequenceNumber, offset, pending }
    this.firstReceivedSeq ??= sequenceNumber
    this.lastReceived = { sequenceNumber, offset }
    this.queue.push(slot)
    if (pending === 0) this.advance()
    return slot
  }

  /** A position before anything received (see the pipeline's anchorBeforeFirst); ignored once something settled. */
  anchor(position: CheckpointPosition): void {
    this.settledUpTo ??= position
  }

  /** One notification of `slot` was forwarded or dropped; true when the checkpoint candidate moved. */
  settle(slot: EventSlot, count = 1): boolean {
    slot.pending -= count
    return slot.pending <= 0 ? this.advance() : false
  }

  /** The furthest position every earlier notification allows; undefined before the first settled event. */
  get candidate(): CheckpointPosition | undefined {
    return this.settledUpTo
  }

  /** The candidate if it moved past what was last written. */
  unwritten(): CheckpointPosition | undefined {
    const next = this.settledUpTo
    if (next === undefined) return undefined
    if (this.written !== undefined && this.written.sequenceNumber >= next.sequenceNumber) return undefined
    return next
  }

  markWritten(position: CheckpointPosition): void {
    if (this.written === undefined || position.sequenceNumber > this.written.sequenceNumber) this.written = position
  }

  get lastWritten(): CheckpointPosition | undefined {
    return this.written
  }

  get lastReceivedPosition(): CheckpointPosition | undefined {
    return this.lastReceived
  }

  /** Events received but not yet covered by a written checkpoint. */
  get lag(): number {
    if (this.lastReceived === undefined || this.firstReceivedSeq === undefined) return 0
    const base = this.written?.sequenceNumber ?? this.firstReceivedSeq - 1
    return Math.max(0, this.lastReceived.sequenceNumber - base)
  }

  /** Events still holding unsettled notifications (or waiting behind one). */
  get unsettledEvents(): number {
    return this.queue.length - this.head
  }

  private advance(): boolean {
    let moved = false
    while (this.head < this.queue.length && this.queue[this.head].pending <= 0) {
      const slot = this.queue[this.head]
      this.settledUpTo = { sequenceNumber: slot.sequenceNumber, offset: slot.offset }
      this.head += 1
      moved = true
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    return moved
  }
}
