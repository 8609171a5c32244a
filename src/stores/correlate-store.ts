// The correlate half of the store contract: links, create reservations, the echo ledger, tombstones.
import type { ItemRef, LinkRecord, DecideInput, DecideResult, ConfirmInput, ConfirmResult } from '../domain/correlate-model.js'

export type * from '../domain/correlate-model.js'

/** A lapsed reservation is kept this long past its expiry, so a late counterpartHint still learns the creator's role. */
export const RESERVATION_GRACE_MS = 60_000

/**
 * How long an item's delete mark (the time its pair was deleted, which keys its next copy) lasts at least: longer
 * than a restore can come (Salesforce's recycle bin keeps a record 15 days), and never shorter than the tombstone.
 */
export const DELETE_MARK_MIN_TTL_MS = 30 * 24 * 3600_000

/**
 * Semantics every implementation honours (test/stores/correlate-contract.ts checks them):
 * - decide, in order: tombstoned (this item's pair was deleted); for a linked item: series_mismatch (its role
 *   and the counterpart's known role disagree on being a series), echo, delete, else update (a non-echo change
 *   with a fingerprint clears the item's ledger: later copies of that state are real edits); for an unlinked
 *   item: counterpartHint (conflicting_link when the hinted item is linked elsewhere, tombstoned when it is
 *   tombstoned, series_mismatch, else the pair is linked, see below), echo (echoBySource or the live ledger
 *   entry), create_in_flight (a live reservation, also for a delete), no_link_for_delete, series_occurrence,
 *   create (a new reservation replaces a lapsed one; the request's fingerprint and state are kept apart from it, as
 *   what the create writes, for createKeyTtlMs as its createKey is or until the pair is linked with a baseline,
 *   replacing the last create's; a create without a fingerprint drops them). An undelete of an item tombstoned by a
 *   confirm's replaces, while the pair it points at is linked, is skip / replaced (a second copy of that meeting).
 * - echo of a linked item (refines design.md, which also lets changedBy / changeOrigin decide when a state is
 *   sent): with a state (a fingerprint, not on a delete) the state alone decides: echo when it equals the item's
 *   live ledger entry (what we wrote into it last) or the baseline's fingerprint (nothing new since the last
 *   sync); then earlier_write (below); anything else is a person's change, even when echoBySource is set or a
 *   `created` hint names the counterpart (the flow read the item after our write and a person's). Without a state: echoBySource, or a
 *   `created` whose hint names the counterpart. An unlinked item has no state of ours to compare with, so there
 *   echoBySource still decides (else our own create, seen without its stamp, would be created back).
 * - the echo ledger holds one entry per item: a confirm's written fingerprint replaces the target's earlier one
 *   (the same live entry again changes nothing), and it matches as often as it repeats within echoWindowMs. The
 *   live entry it replaced is kept with the time it was replaced: a state equal to it within the request's leaseMs
 *   after that is skip / earlier_write (retryAfterMs: until then), as the flow most likely read it before our latest
 *   write landed, unless the request says it read the item again (reread); after that, or read again, it is a
 *   person setting the item back (flows read the current state). A delete, or a change without a state, never
 *   matches it; a non-echo change with a state clears it with the ledger.
 * - a hint link (our own create coming back before, or without, its confirm; or after an unlink): when what we wrote
 *   into the copy is known (the hinted item's create state, kept createKeyTtlMs or until the pair is linked with a
 *   baseline, so also after its reservation lapsed; after an unlink, the pair's baseline, kept createStateTtlMs), that
 *   state becomes
 *   both sides' baseline and its fingerprint the item's ledger entry; a state that differs from it is `update` (the
 *   copy changed since, a person's edit: the baseline lets the targetFields rule and /resolve-conflict keep it), else
 *   echo. Without it (a create asked without a state, none within createKeyTtlMs, or in the memory store pushed out
 *   by its bound) the item's state is taken as ours: echo, with that state as baseline (when sent as an object) and
 *   ledger entry, so any later change of the copy is an update. A delete is a linked delete (echo with
 *   echoBySource).
 * - the baseline's fingerprint is computed by the store when a confirm (or a hint link) stores the baseline, from
 *   the object as `fields` are hashed; links stored before it existed get one with their next baseline.
 * - createKey: granting a reservation remembers createKey -> this item for createKeyTtlMs (per tenant). A hint
 *   `{ createKey }` is first resolved to that item and then treated exactly like `{ system, itemId }` naming it; a
 *   createKey whose derived key (derivedCreateKey) was never handed out, expired, or handed out for an item of this
 *   item's own system counts as no hint. Unlink leaves the mapping: like a stamp left on the copy, it is a fact about
 *   who created what.
 * - createKey after a delete: a confirm that tombstones a pair marks both items with the time of that delete, for
 *   max(tombstoneTtlMs, DELETE_MARK_MIN_TTL_MS). A reservation of a marked item hands out the derived key with that
 *   time appended (createKeyAfterDelete), so a copy made anew after a delete (an undelete) never sends a deleted
 *   copy's Graph transactionId, while every retry of one copy's create keeps one key. A mark that keyed a reservation
 *   stays for good (until the item's next delete replaces it). Unlink leaves the mark, so a copy that still exists is
 *   found again by its key.
 * - confirm: conflicting_link when either side is linked to a third item (nothing changes); deleted tombstones
 *   both sides, unless it repeats one (both sides tombstoned as this pair, or one side so and the other unlinked
 *   since, as after an undelete: nothing changes, the restored item's reservation included); otherwise tombstoned
 *   when either side is tombstoned (a late confirm never revives a deleted pair; nothing changes); otherwise both sides are linked (either may be the source), the baseline replaced when given,
 *   the source's reservation dropped, the written fingerprint put in the target's ledger for echoWindowMs
 *   (replacing its entry).
 *   Repeating a confirm changes nothing (updatedAt included).
 * - unlink removes both sides' links or tombstones, reservations and ledgers; a linked pair's baseline becomes what
 *   both items' copies hold (for createStateTtlMs), so a copy coming back by its hint is compared with what we last
 *   synced.
 * - Every step is atomic: 20 concurrent decides for one new item give exactly one `create`.
 */
export interface CorrelateStore {
  decide(input: DecideInput): Promise<DecideResult>
  confirm(input: ConfirmInput): Promise<ConfirmResult>
  /** The item's link or tombstone, or null. */
  getLink(tenant: string, ref: ItemRef, now: number): Promise<LinkRecord | null>
  /** Forgets the pair both ways (an operator's reset): the item then counts as unlinked. */
  /** createStateTtlMs: how long the pair's baseline is kept as what its copies hold (createKeyTtlMs) */
  unlink(tenant: string, ref: ItemRef, now: number, createStateTtlMs: number): Promise<{ deleted: boolean }>
}
