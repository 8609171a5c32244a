// A string-keyed map with a size bound (least recently used goes first) and per-entry expiry, for the memory store.
// Expiry is checked lazily on access against the caller's clock, and each write also sweeps a few entries, so
// expired entries leave without timers even when nobody reads them again.

interface Entry<V> {
  value: V
  expiresAt: number
  /** until then the size bound passes over the entry (a live claim); 0 for none */
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

export class BoundedTtlMap<V> {
  // A Map iterates in insertion order, so re-inserting on use makes the first entry the least recently used.
  private readonly entries = new Map<string, Entry<V>>()
  private readonly maxEntries: number
  private readonly sweepPerWrite: number
  private readonly onEvict?: (key: string, value: V) => void
  private cursor?: Iterator<[string, Entry<V>]>
  private oldest?: Iterator<[string, Entry<V>]>
  private passes: number

  constructor(options: BoundedMapOptions<V>) {
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

  /** The live value, marked as recently used; an expired entry is dropped and reads as absent. */
  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= now) {
      this.entries.delete(key)
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  /** The live value without changing its place in the eviction order. */
  peek(key: string, now: number): V | undefined {
    const entry = this.entries.get(key)
    if (!entry || entry.expiresAt <= now) return undefined
    return entry.value
  }

  /** `keepUntil`: until then the size bound passes over the entry while it has passes to spend (KEEP_PASS_EARNED). */
  set(key: string, value: V, expiresAt: number, now: number, keepUntil = 0): void {
    const entry = this.entries.get(key)
    if (entry) {
      this.entries.delete(key)
      entry.value = value
      entry.expiresAt = expiresAt
      entry.keepUntil = keepUntil
      this.entries.set(key, entry)
    } else {
      this.entries.set(key, { value, expiresAt, keepUntil })
    }
    this.sweep(now)
    this.evictOverflow(now, key)
  }

  /** Ends the entry's keepUntil early (a claim released before its lease ran out); its place stays. */
  unkeep(key: string): void {
    const entry = this.entries.get(key)
    if (entry) entry.keepUntil = 0
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
      const [key, entry] = next.value
      if (entry.expiresAt <= now) this.entries.delete(key)
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
      const [key, entry] = next.value
      this.entries.delete(key)
      if (key === written) {
        this.entries.set(key, entry)
        continue
      }
      if (entry.keepUntil > now && entry.expiresAt > now && this.passes >= 1) {
        this.passes--
        this.entries.set(key, entry)
        continue
      }
      this.passes = Math.min(this.maxEntries, this.passes + KEEP_PASS_EARNED)
      this.onEvict?.(key, entry.value)
    }
  }
}
