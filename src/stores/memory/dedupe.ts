// The embedded DedupeStore: the shared rules applied to items in a bounded TTL map. Each method runs its
// read-decide-write synchronously, so it is atomic within the one process that owns the map; a large claimMany runs
// its claims in several turns of the event loop, each claim atomic.
import { setImmediate as nextTurn } from 'node:timers/promises'
import {
  HISTORY_LIMIT,
  REMEMBERED_TOKEN_LIMIT,
  VERSION_LIMIT,
  decideClaim,
  decideCommit,
  decideRelease,
  decideWritten,
  supersededHistory,
  type DedupeItemState,
  type HeldClaim,
  type SeenVersion,
} from '../../domain/dedupe-rules.js'
import { itemMapKey, type ItemKey } from '../../domain/keys.js'
import { giveBackClaims } from '../give-back.js'
import type {
  ClaimInput,
  ClaimResult,
  CommitInput,
  CommitResult,
  DedupeRecord,
  DedupeStore,
  HistoryEntry,
  LastCommitted,
  WrittenInput,
} from '../dedupe-store.js'
import { createNonce } from '../nonce.js'
import { BoundedTtlSlots, type TtlSlot } from './bounded-map.js'

// Kept lean, since the store holds up to MEMORY_MAX_ITEMS of these: a class gives every item the same compact
// shape, optional parts are created only when needed, and the item is its own slot in the bounded map.
class MemoryItem implements DedupeItemState, TtlSlot {
  /** set before each write to the map: the record lives DEDUPE_TTL from its last write (lifetimeEnd) */
  expiresAt = 0
  seq = 0
  claim?: HeldClaim = undefined
  last?: LastCommitted = undefined
  committedTokens?: string[] = undefined
  releasedTokens?: string[] = undefined
  writtenUnderClaim?: string = undefined
  /** the last VERSION_LIMIT recordings of committed or unchanged versions, oldest first */
  versions?: string[] = undefined
  /** the subset of versions recorded as unchanged */
  unchanged?: string[] = undefined
  /** the newest decision; each links to the one before it, HISTORY_LIMIT at most */
  history?: HistoryNode = undefined
  meta?: Record<string, string> = undefined

  /**
   * The size bound passes over an item while its claim lives: dropping it would let a second writer claim the item
   * and leave the first one's commit unknown_token. Once the claim is released or committed the item is an ordinary
   * entry again, with no call to the map.
   */
  get keepUntil(): number {
    return this.claim?.expiresAt ?? 0
  }
}

/**
 * The most claims of one claimMany decided in one turn of the event loop. The claims of a /dedupe/batch whose
 * Salesforce change events fan out to tens of thousands of items would otherwise hold the loop as long as they take
 * (a few hundred ms for 50,000), and every other request (other workers' claims, /healthz) would wait for them.
 * Each claim stays atomic; the call as a whole is not, on either store (the Redis store sends a call's claims in
 * several scripts). A call of up to 1,000 claims (a batch of up to 500 single-item events) takes one turn.
 */
export const CLAIMS_PER_TURN = 1_000

export interface MemoryDedupeOptions {
  maxItems: number
}

export class MemoryDedupeStore implements DedupeStore {
  private readonly items: BoundedTtlSlots<MemoryItem>

  constructor(options: MemoryDedupeOptions) {
    this.items = new BoundedTtlSlots<MemoryItem>({ maxEntries: options.maxItems })
  }

  /** Items held (expired ones not yet swept included); for metrics and tests. */
  get size(): number {
    return this.items.size
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    return this.claimNow(input)
  }

  async claimMany(inputs: ClaimInput[]): Promise<ClaimResult[]> {
    const results: ClaimResult[] = []
    try {
      for (let start = 0; start < inputs.length; start += CLAIMS_PER_TURN) {
        // The other requests read meanwhile go first; the rest of this call's claims then run in order, each at the
        // `now` it was given. A batch's claims share one `now`, so a later turn never finds an earlier turn's claim
        // lapsed however long the turns take: one batch grants one item one claim at most.
        if (start > 0) await nextTurn()
        const end = Math.min(inputs.length, start + CLAIMS_PER_TURN)
        for (let i = start; i < end; i++) results.push(this.claimNow(inputs[i]))
      }
    } catch (error) {
      // the caller hears only the failure, so the claims granted before it go back, as on Redis (a claim throws only
      // on a fault; one that throws after taking its item keeps it for its lease)
      giveBackClaims(
        this,
        results.flatMap((result, i) =>
          result.decision === 'process' && result.claim ? [{ key: inputs[i].key, token: result.claim.token, now: inputs[i].now }] : [],
        ),
      )
      throw error
    }
    return results
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    const id = itemMapKey(input.key)
    const item = this.items.peek(id, input.now)
    const outcome = decideCommit(item, input)
    if (!item || !outcome.commit) return outcome.result
    const { last, token, history, claimedVersion, covered } = outcome.commit
    item.last = last
    item.claim = undefined
    item.writtenUnderClaim = undefined
    if (covered !== undefined) for (const version of covered) rememberVersion(item, version, 'committed')
    if (claimedVersion !== undefined) rememberVersion(item, claimedVersion, 'committed')
    rememberVersion(item, last.version, 'committed')
    item.committedTokens = rememberToken(item.committedTokens, token)
    pushHistory(item, history)
    this.write(id, item, input.now + input.ttlMs, input.now)
    return outcome.result
  }

  async release(input: { key: ItemKey; token: string; now: number }): Promise<{ released: boolean }> {
    const id = itemMapKey(input.key)
    const item = this.items.get(id, input.now)
    const outcome = decideRelease(item, input.token, input.now)
    if (item && outcome.history) {
      item.claim = undefined // the size bound no longer passes over it (keepUntil)
      item.writtenUnderClaim = undefined
      item.releasedTokens = rememberToken(item.releasedTokens, input.token)
      pushHistory(item, outcome.history)
    }
    return { released: outcome.released }
  }

  async recordWritten(input: WrittenInput): Promise<void> {
    const id = itemMapKey(input.key)
    const existing = this.items.peek(id, input.now)
    const outcome = decideWritten(existing, input)
    if (!outcome) return
    const item = existing ?? new MemoryItem()
    item.last = outcome.last
    if (outcome.underClaim) item.writtenUnderClaim = outcome.underClaim
    pushHistory(item, outcome.history)
    this.write(id, item, lifetimeEnd(item, input), input.now)
  }

  async get(key: ItemKey, now: number): Promise<DedupeRecord | null> {
    const item = this.items.peek(itemMapKey(key), now)
    if (!item) return null
    const record: DedupeRecord = { key, history: historyOf(item) }
    if (item.last) record.last = { ...item.last }
    if (item.claim) record.claim = { version: item.claim.version, expiresAt: item.claim.expiresAt }
    if (item.meta) record.meta = { ...item.meta }
    return record
  }

  async forget(key: ItemKey): Promise<{ deleted: boolean }> {
    return { deleted: this.items.delete(itemMapKey(key)) }
  }

  /** Every write to the map: the item is its own slot, so its expiry is set with the write, never apart from it. */
  private write(id: string, item: MemoryItem, expiresAt: number, now: number): void {
    item.expiresAt = expiresAt
    this.items.set(id, item, now)
  }

  private claimNow(input: ClaimInput): ClaimResult {
    const id = itemMapKey(input.key)
    // peek, not get: the set below marks the item as used anyway
    const existing = this.items.peek(id, input.now)
    const outcome = decideClaim(existing, findVersion(existing, input.version), input, createNonce())
    const item = existing ?? new MemoryItem()
    if (outcome.grant) {
      item.seq = outcome.grant.seq
      item.claim = outcome.grant.claim
    }
    if (outcome.unchanged) {
      item.last = outcome.unchanged.last
      rememberVersion(item, outcome.unchanged.version, 'unchanged')
    }
    if (input.meta) item.meta = { ...input.meta }
    const superseded = supersededHistory(input, outcome.result.decision)
    if (superseded !== undefined) for (const entry of superseded) pushHistory(item, entry)
    pushHistory(item, outcome.history)
    this.write(id, item, lifetimeEnd(item, input), input.now)
    return outcome.result
  }
}

/** A record lives DEDUPE_TTL from its last write, and never ends before its live claim: a lease may outlast the TTL. */
function lifetimeEnd(item: MemoryItem, input: { now: number; ttlMs: number }): number {
  const end = input.now + input.ttlMs
  const held = item.claim?.expiresAt
  return held !== undefined && held > end ? held : end
}

function findVersion(item: MemoryItem | undefined, version: string): SeenVersion {
  if (!item?.versions?.includes(version)) return undefined
  return item.unchanged?.includes(version) ? 'unchanged' : 'committed'
}

// Lists are rebuilt at their exact length with slice/concat: push, unshift and spread reserve room for more
// entries, which across MEMORY_MAX_ITEMS items costs more than the copying.
// The window holds the last VERSION_LIMIT recordings, repeats included, as the Redis store's ring does.
function rememberVersion(item: MemoryItem, version: string, kind: 'committed' | 'unchanged'): void {
  item.versions = (item.versions ?? []).slice(-(VERSION_LIMIT - 1)).concat([version])
  const unchanged = item.unchanged?.filter((other) => other !== version && item.versions!.includes(other))
  item.unchanged = kind === 'unchanged' ? (unchanged ?? []).concat([version]) : unchanged?.length ? unchanged : undefined
}

function rememberToken(tokens: string[] | undefined, token: string): string[] {
  return (tokens ?? []).slice(-(REMEMBERED_TOKEN_LIMIT - 1)).concat([token])
}

/**
 * One history entry as the store keeps it: linked to the entry before it, so an item's first decision is one object,
 * not an entry in an array (a list and its storage live as long as the item, and every object an item keeps costs a
 * claim time: `npx tsx bench/claim-floor.ts`).
 */
class HistoryNode implements HistoryEntry {
  readonly at: number
  readonly decision: HistoryEntry['decision']
  readonly version: string
  readonly reason: HistoryEntry['reason']
  older?: HistoryNode

  constructor(entry: HistoryEntry, older: HistoryNode | undefined) {
    this.at = entry.at
    this.decision = entry.decision
    this.version = entry.version
    this.reason = entry.reason
    this.older = older
  }
}

function pushHistory(item: MemoryItem, entry: HistoryEntry): void {
  item.history = new HistoryNode(entry, item.history)
  // the chain ends at HISTORY_LIMIT entries: cut it below the last one kept
  let node: HistoryNode | undefined = item.history
  for (let kept = 1; node !== undefined && kept < HISTORY_LIMIT; kept++) node = node.older
  if (node !== undefined) node.older = undefined
}

/** The item's history, newest first, as plain entries. */
function historyOf(item: MemoryItem): HistoryEntry[] {
  const entries: HistoryEntry[] = []
  for (let node = item.history; node !== undefined; node = node.older) {
    entries.push({ at: node.at, decision: node.decision, version: node.version, reason: node.reason })
  }
  return entries
}
