// Burst collapse: merges the change notifications of one (tenantId, itemId) until the item is quiet or waited too long.
import type { ChangeNotification, ChangeType } from './notifications.js'

export interface CollapseOptions {
  /** emit an item this long after its last notification */
  quietMs: number
  /** ... but no later than this long after its first one */
  maxWaitMs: number
}

/** One collapsed burst; `tokens` holds one caller token per merged notification (used to settle checkpoints). */
export interface Burst<T> {
  tenantId: string
  itemId: string
  subscriptionId: string
  resource: string
  changeType: ChangeType
  etag?: string
  /** every distinct etag merged, in arrival order */
  etags: string[]
  collapsed: number
  firstEnqueuedAt: number
  lastEnqueuedAt: number
  firstSeenAt: number
  lastSeenAt: number
  tokens: T[]
}

interface Slot<T> extends Burst<T> {
  done: boolean
}

/**
 * created+updated stays created, anything followed by (or preceded by) deleted is deleted: a GET after a delete
 * answers 404 whatever came later, so a late update must not resurrect the item.
 */
export function mergeChangeType(earlier: ChangeType, later: ChangeType): ChangeType {
  if (earlier === 'deleted' || later === 'deleted') return 'deleted'
  if (earlier === 'created' || later === 'created') return 'created'
  return 'updated'
}

/** Length-prefixed so no tenant/item pair can collide with another. */
export const burstKey = (tenantId: string, itemId: string): string => `${tenantId.length}:${tenantId}${itemId}`

/**
 * Pure and clock-free: every call takes `now`. Two orders give O(1) due checks: the map is kept in order of last
 * notification (re-inserted on every add), the FIFO in order of first notification.
 */
export class BurstCollapser<T> {
  private readonly quietMs: number
  private readonly maxWaitMs: number
  private readonly open = new Map<string, Slot<T>>()
  private fifo: Slot<T>[] = []
  private head = 0

  constructor(options: CollapseOptions) {
    this.quietMs = Math.max(0, options.quietMs)
    this.maxWaitMs = Math.max(this.quietMs, options.maxWaitMs)
  }

  /** Items waiting to be emitted. */
  get size(): number {
    return this.open.size
  }

  add(change: ChangeNotification, enqueuedAt: number, token: T, now: number): void {
    const key = burstKey(change.tenantId, change.itemId)
    const slot = this.open.get(key)
    if (slot === undefined) {
      const fresh: Slot<T> = {
        tenantId: change.tenantId,
        itemId: change.itemId,
        subscriptionId: change.subscriptionId,
        resource: change.resource,
        changeType: change.changeType,
        etag: change.etag,
        etags: change.etag === undefined ? [] : [change.etag],
        collapsed: 1,
        firstEnqueuedAt: enqueuedAt,
        lastEnqueuedAt: enqueuedAt,
        firstSeenAt: now,
        lastSeenAt: now,
        tokens: [token],
        done: false,
      }
      this.open.set(key, fresh)
      this.fifo.push(fresh)
      return
    }
    slot.changeType = mergeChangeType(slot.changeType, change.changeType)
    slot.subscriptionId = change.subscriptionId
    if (change.resource) slot.resource = change.resource
    if (change.etag !== undefined) {
      slot.etag = change.etag
      if (!slot.etags.includes(change.etag)) slot.etags.push(change.etag)
    }
    slot.collapsed += 1
    if (enqueuedAt < slot.firstEnqueuedAt) slot.firstEnqueuedAt = enqueuedAt
    if (enqueuedAt > slot.lastEnqueuedAt) slot.lastEnqueuedAt = enqueuedAt
    slot.lastSeenAt = now
    slot.tokens.push(token)
    // Move to the end: the map stays ordered by last notification.
    this.open.delete(key)
    this.open.set(key, slot)
  }

  /** When the next item falls due, or undefined when nothing waits. */
  nextDueAt(): number | undefined {
    this.skipDone()
    let due: number | undefined
    for (const slot of this.open.values()) {
      due = slot.lastSeenAt + this.quietMs
      break
    }
    if (this.head < this.fifo.length) {
      const byAge = this.fifo[this.head].firstSeenAt + this.maxWaitMs
      if (due === undefined || byAge < due) due = byAge
    }
    return due
  }

  /** Removes and returns every item that was quiet for quietMs or open for maxWaitMs at `now`. */
  takeDue(now: number): Burst<T>[] {
    const out: Burst<T>[] = []
    for (const [key, slot] of this.open) {
      if (slot.lastSeenAt + this.quietMs > now) break
      this.open.delete(key)
      slot.done = true
      out.push(slot)
    }
    while (this.head < this.fifo.length) {
      const slot = this.fifo[this.head]
      if (!slot.done) {
        if (slot.firstSeenAt + this.maxWaitMs > now) break
        this.open.delete(burstKey(slot.tenantId, slot.itemId))
        slot.done = true
        out.push(slot)
      }
      this.head += 1
    }
    this.compact()
    return out
  }

  /** Removes and returns everything (shutdown flush). */
  takeAll(): Burst<T>[] {
    const out: Burst<T>[] = [...this.open.values()]
    this.open.clear()
    this.fifo = []
    this.head = 0
    return out
  }

  private skipDone(): void {
    while (this.head < this.fifo.length && this.fifo[this.head].done) this.head += 1
    this.compact()
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head)
      this.head = 0
    }
  }
}
