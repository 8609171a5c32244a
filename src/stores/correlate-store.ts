// The correlate half of the store contract: links, create reservations, the echo ledger, tombstones.
import type { ItemRef, LinkRecord, DecideInput, DecideResult, ConfirmInput, ConfirmResult } from '../domain/correlate-model.js'

export type * from '../domain/correlate-model.js'

/** A lapsed reservation is kept this long past its expiry, so a late counterpartHint still learns the creator's role. */
export const RESERVATION_GRACE_MS = 60_000

/**
 * Semantics every implementation honours (test/stores/correlate-contract.ts checks them):
 * - decide, in order: tombstoned (this item's pair was deleted); for a linked item: series_mismatch (its role
 *   and the counterpart's known role disagree on being a series), echo (echoBySource, a live ledger fingerprint,
 *   or a `created` whose hint names the counterpart), delete, else update (a non-echo change with a fingerprint
 *   clears the item's ledger: later copies of that state are real edits); for an unlinked item: counterpartHint
 *   (conflicting_link when the hinted item is linked elsewhere, tombstoned when it is tombstoned, series_mismatch,
 *   else the pair is linked: echo, or delete when the change is a delete), echo, create_in_flight (a live
 *   reservation, also for a delete),
 *   no_link_for_delete, series_occurrence, create (a new reservation replaces a lapsed one).
 * - createKey: granting a reservation remembers createKey -> this item for createKeyTtlMs (per tenant). A hint
 *   `{ createKey }` is first resolved to that item and then treated exactly like `{ system, itemId }` naming it; a
 *   createKey never handed out, expired, or handed out for an item of this item's own system counts as no hint.
 *   Unlink leaves the mapping: like a stamp left on the copy, it is a fact about who created what.
 * - confirm: conflicting_link when either side is linked to a third item (nothing changes); deleted tombstones
 *   both sides; otherwise tombstoned when either side is tombstoned (a late confirm never revives a deleted
 *   pair; nothing changes); otherwise both sides are linked (either may be the source), the baseline replaced when given,
 *   the source's reservation dropped, the written fingerprint put in the target's ledger for echoWindowMs.
 *   Repeating a confirm changes nothing (updatedAt included).
 * - unlink removes both sides' links or tombstones, reservations and ledgers.
 * - Every step is atomic: 20 concurrent decides for one new item give exactly one `create`.
 */
export interface CorrelateStore {
  decide(input: DecideInput): Promise<DecideResult>
  confirm(input: ConfirmInput): Promise<ConfirmResult>
  /** The item's link or tombstone, or null. */
  getLink(tenant: string, ref: ItemRef, now: number): Promise<LinkRecord | null>
  /** Forgets the pair both ways (an operator's reset): the item then counts as unlinked. */
  unlink(tenant: string, ref: ItemRef, now: number): Promise<{ deleted: boolean }>
}
