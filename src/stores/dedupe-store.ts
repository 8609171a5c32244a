// The dedupe half of the store contract: claims with leases, commits, releases, the item record.
import type { ClaimInput, ClaimResult, CommitInput, CommitResult, DedupeRecord, WrittenInput } from '../domain/dedupe-model.js'
import type { ItemKey } from '../domain/keys.js'

export type * from '../domain/dedupe-model.js'

/**
 * Semantics every implementation honours (the contract suite in test/stores checks them):
 * - Rules in order: duplicate (version in the item's committed/unchanged set), stale (modifiedAt older than
 *   last.modifiedAt; or last was a delete and the event has no newer modifiedAt), in_flight (a claim whose
 *   expiresAt > now exists), unchanged (fingerprint equals last.fingerprint, not a gap, neither side a delete
 *   or undelete), process (grants a new claim; a lapsed claim is replaced).
 * - A token holds its claim until commit, release, or another claim is granted; a lapsed lease alone does not
 *   end it, so a late commit still succeeds when nobody else claimed since.
 * - commit with a superseded token: { committed: false, reason: 'lease_expired' } and nothing changes;
 *   commit repeated with the token that already committed: { committed: true } again;
 *   a token this item never issued (or one that was released): 'unknown_token'.
 * - recordWritten (a sync write into the item, from /correlate/confirm): `last` takes the written fingerprint
 *   with version 'sync-write' (a record is created when none exists); modifiedAt, changeType, the duplicate set
 *   and any held claim stay. A commit by the claim that held the item during such a write keeps no fingerprint
 *   unless it commits the written one (its state may predate the write).
 * - Every decision and every commit/release/write is appended to the item's history (newest first, 20 kept).
 * - Each step is atomic: 50 concurrent claims on one item give exactly one `process`.
 */
export interface DedupeStore {
  claim(input: ClaimInput): Promise<ClaimResult>
  /**
   * Claims several items in one round trip where the backend allows; results in input order, each claim made in that
   * order. Each claim is atomic; the call as a whole is not: other calls may run between its claims.
   */
  claimMany(inputs: ClaimInput[]): Promise<ClaimResult[]>
  commit(input: CommitInput): Promise<CommitResult>
  /** The sync wrote into the item: it now holds `fingerprint` (see domain/dedupe-rules.ts decideWritten). */
  recordWritten(input: WrittenInput): Promise<void>
  release(input: { key: ItemKey; token: string; now: number }): Promise<{ released: boolean }>
  get(key: ItemKey, now: number): Promise<DedupeRecord | null>
  forget(key: ItemKey): Promise<{ deleted: boolean }>
}
