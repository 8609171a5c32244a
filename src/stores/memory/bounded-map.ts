// String-keyed maps with a size bound (least recently used goes first) and per-entry expiry, for the memory stores.
// Expiry is checked lazily on access against the caller's clock, and each write also sweeps a few entries, so
// expired entries leave without timers even when nobody reads them again.
//
// BoundedTtlSlots keeps values that carry their own expiry (a slot); BoundedTtlMap wraps any value in one. The dedupe
// store's items are slots themselves: every object an item keeps is copied by the scavenger and costs a claim time
// (`npx tsx bench/claim-floor.ts`), and the wrapper would be one more per item.

/** What BoundedTtlSlots needs of a value: when it expires, and until when the size bound passes over it. */
export interface TtlSlot {
  expiresAt: number
  /** until then the size bound passes over the entry while it has passes to spend (KEEP_PASS_EARNED); 0 for none */
  readonly keepUntil: number
}

interface Entry<V> extends TtlSlot {
  value: V
  keepUntil: number
}

/**
 * Passing over a kept entry moves it to the newest end and spends one pass; each entry the bound drops earns
 * KEEP_PASS_EARNED, and up to maxEntries are saved (a new map starts with them all). A kept entry comes round again
 * only after the entries ahead of it have gone, so while fewer than one entry in seventeen is kept the passes earned
 * cover them, a burst of kept entries included. Without a pass to spend the oldest entry is dropped even if kept, so
 * the bound always holds. When most entries are kept (`npm run bench` claims and never commits) a write costs a
 * sixteenth of a move more: at a quarter, a claim on a full store cost about 0.5 us more, in an ad-hoc A/B.
 */
export const KEEP_PASS_EARNED = 1 / 16

export interface BoundedMapOptions<V> {
  maxEntries: number
  /** entries inspected for expiry per write (default 2): more than the one a write adds keeps the sweep ahead */
  sweepPerWrite?: number
  /** told about entries dropped by the size bound (not by expiry or delete) */
  onEvict?: (key: string, value: V) => void
}

/** Values that are their own slots: the map holds them as they are. */
export class BoundedTtlSlots<S extends TtlSlot> {
  // A Map iterates in insertion order, so re-inserting on use makes the first entry the least recently used.
  private readonly entries = new Map<string, S>()
  private readonly maxEntries: number
  private readonly sweepPerWrite: number
  private readonly onEvict?: (key: string, slot: S) => void
  private cursor?: Iterator<[string, S]>
  private oldest?: Iterator<[string, S]>
  private passes: number

  constructor(options: BoundedMapOptions<S>) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
    this.maxEntries = options.maxEntries
    this.passes = options.maxEntries
    this.sweepPerWrite = options.sweepPerWrite ?? 2
    this.onEvict = options.onEvict
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size
  }

  /** The live slot, marked as recently used; an expired one is dropped and reads as absent. */
  get(key: string, now: number): S | undefined {
    const slot = this.entries.get(key)
    if (!slot) return undefined
    this.entries.delete(key)
    if (slot.expiresAt <= now) return undefined
    this.entries.set(key, slot)
    return slot
  }

  /** The live slot without changing its place in the eviction order. */
  peek(key: string, now: number): S | undefined {
    const slot = this.entries.get(key)
    if (!slot || slot.expiresAt <= now) return undefined
    return slot
  }

  /** The slot held under the key, expired or not, without changing its place. */
  peekAny(key: string): S | undefined {
    return this.entries.get(key)
  }

  /**
   * Writes the slot under the key as the most recently used. Its expiresAt and keepUntil are read from the slot
   * whenever the map needs them.
   */
  set(key: string, slot: S, now: number): void {
    // a key already held moves to the newest end (a Map's set would leave it in its place)
    this.entries.delete(key)
    this.entries.set(key, slot)
    this.sweep(now)
    this.evictOverflow(now, key)
  }

  delete(key: string): boolean {
    return this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
    this.cursor = undefined
    this.oldest = undefined
  }

  /** Advances a resumable scan by a few entries, dropping the expired ones it meets. */
  private sweep(now: number): void {
    for (let step = 0; step < this.sweepPerWrite; step++) {
      this.cursor ??= this.entries.entries()
      const next = this.cursor.next()
      if (next.done) {
        this.cursor = undefined
        return
      }
      const [key, slot] = next.value
      if (slot.expiresAt <= now) this.entries.delete(key)
    }
  }

  // A fresh iterator would start at the front and step over every hole earlier deletions left there (V8
  // compacts a Map's table only when it grows), making each eviction O(deleted); a kept iterator walks them once.
  // The entry just written is never the one dropped: it is at the front only when every other entry was passed over.
  private evictOverflow(now: number, written: string): void {
    while (this.entries.size > this.maxEntries) {
      this.oldest ??= this.entries.entries()
      const next = this.oldest.next()
      if (next.done) {
        this.oldest = undefined
        continue
      }
      const [key, slot] = next.value
      this.entries.delete(key)
      if (key === written) {
        this.entries.set(key, slot)
        continue
      }
      if (slot.keepUntil > now && slot.expiresAt > now && this.passes >= 1) {
        this.passes--
        this.entries.set(key, slot)
        continue
      }
      this.passes = Math.min(this.maxEntries, this.passes + KEEP_PASS_EARNED)
      this.onEvict?.(key, slot)
    }
  }
}

/** Any value, in a slot of its own. */
export class BoundedTtlMap<V> {
  private readonly slots: BoundedTtlSlots<Entry<V>>

  constructor(options: BoundedMapOptions<V>) {
    const { onEvict } = options
    this.slots = new BoundedTtlSlots<Entry<V>>({ ...options, onEvict: onEvict && ((key, entry) => onEvict(key, entry.value)) })
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.slots.size
  }

  /** The live value, marked as recently used; an expired entry is dropped and reads as absent. */
  get(key: string, now: number): V | undefined {
    return this.slots.get(key, now)?.value
  }

  /** The live value without changing its place in the eviction order. */
  peek(key: string, now: number): V | undefined {
    return this.slots.peek(key, now)?.value
  }

  /** `keepUntil`: until then the size bound passes over the entry while it has passes to spend (KEEP_PASS_EARNED). */
  set(key: string, value: V, expiresAt: number, now: number, keepUntil = 0): void {
    this.slots.set(key, { value, expiresAt, keepUntil }, now)
  }

  /** Ends the entry's keepUntil early (a claim released before its lease ran out); its place stays. */
  unkeep(key: string): void {
    const entry = this.slots.peekAny(key)
    if (entry) entry.keepUntil = 0
  }

  delete(key: string): boolean {
    return this.slots.delete(key)
  }

  clear(): void {
    this.slots.clear()
  }
}
