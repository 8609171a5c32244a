// The dedupe model: decisions, reasons, claim/commit inputs and results, the item record (types only).
import type { ItemKey } from './keys.js'

export type DedupeDecision = 'process' | 'duplicate' | 'stale' | 'unchanged' | 'in_flight'

/** Why a decision was taken; the route turns it into a sentence (domain/dedupe-reasons.ts). */
export type DedupeReasonCode =
  | 'new_version' // process: nothing newer committed, no live claim
  | 'claim_lapsed' // process: an earlier claim lapsed without commit; this delivery takes over
  | 'gap_event' // process: Salesforce GAP_* event, re-read the record
  | 'gap_overflow' // process: Salesforce GAP_OVERFLOW, resync the object
  | 'version_committed' // duplicate: this version was committed
  | 'version_unchanged' // duplicate: this version was recorded as unchanged
  | 'older_than_committed' // stale: modifiedAt older than the committed one
  | 'item_deleted' // stale: item deleted and this event is not newer
  | 'claim_live' // in_flight: another live claim holds the item
  | 'same_fingerprint' // unchanged: synced fields did not move

export interface ClaimInput {
  key: ItemKey
  version: string
  /** epoch ms; orders versions of one item */
  modifiedAt?: number
  changeType?: 'created' | 'updated' | 'deleted' | 'undeleted'
  fingerprint?: string
  /** Salesforce GAP_* (and GAP_OVERFLOW): never `unchanged` */
  gap?: boolean
  overflow?: boolean
  leaseMs: number
  /** epoch ms, the caller's clock */
  now: number
  /** record lifetime, refreshed on every write */
  ttlMs: number
  /** extra facts kept on the record (e.g. the Graph notification's tenantId) */
  meta?: Record<string, string>
  /**
   * Versions of older events for the item that this claim's write supersedes (a batch's superseded events): its
   * commit records them as committed too, so their redelivery is a duplicate, not a second write.
   */
  covers?: readonly string[]
  /**
   * Versions of the item's older events in the same batch that this event's decision supersedes, nearest first (at
   * most SUPERSEDED_HISTORY_LIMIT): the item's history records them as `superseded`, unless this one is a duplicate,
   * when the batch decides an older event next (batch-collapse.ts, PastDuplicates), or in_flight, when the batch
   * answers them in_flight too.
   */
  superseded?: readonly string[]
}

export interface LastCommitted {
  version: string
  modifiedAt?: number
  fingerprint?: string
  changeType?: string
  committedAt: number
}

export interface ClaimResult {
  decision: DedupeDecision
  reason: DedupeReasonCode
  /** with process */
  claim?: { token: string; expiresAt: number }
  /** with in_flight: ms until the live claim expires (at least 1) */
  retryAfterMs?: number
  last?: LastCommitted
}

export interface CommitInput {
  key: ItemKey
  token: string
  /** override what the claim recorded (what was actually written) */
  version?: string
  modifiedAt?: number
  fingerprint?: string
  now: number
  ttlMs: number
}

export type CommitResult = { committed: true } | { committed: false; reason: 'lease_expired' | 'unknown_token' }

/** A sync write into the item, recorded by /correlate/confirm: the item now holds `fingerprint`. */
export interface WrittenInput {
  key: ItemKey
  fingerprint: string
  now: number
  ttlMs: number
}

export interface HistoryEntry {
  at: number
  decision: DedupeDecision | 'superseded' | 'committed' | 'released' | 'written'
  version: string
  reason: DedupeReasonCode | 'superseded' | 'committed' | 'released' | 'written'
}

export interface DedupeRecord {
  key: ItemKey
  last?: LastCommitted
  claim?: { version: string; expiresAt: number }
  /** newest first, at most 20 */
  history: HistoryEntry[]
  meta?: Record<string, string>
}
