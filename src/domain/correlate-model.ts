// The correlate model: systems, series roles, actions and reasons, links, decide/confirm inputs and results (types only).


export type CorrelateSystem = 'outlook' | 'salesforce'

/** How an item sits in a recurring series; decides what it may be linked to (domain/correlate-series.ts). */
export type SeriesRole = 'single' | 'series_master' | 'occurrence' | 'exception'

export interface ItemRef {
  system: CorrelateSystem
  itemId: string
}

/**
 * What an item says about the create that made it: the source item's id (the stamp our create wrote), or the
 * createKey our create was made with (a Graph transactionId, a Salesforce external-id value). Either names the
 * source item; a createKey is resolved by the store, which remembers whom it issued each one to.
 */
export type CounterpartHint = ItemRef | { createKey: string }

export type CorrelateAction = 'create' | 'update' | 'delete' | 'resolve' | 'skip'

/** Every reason /correlate answers with; the store decides all but child_event and both_changed. */
export type CorrelateReason =
  | 'new_item' // create: unlinked, no live reservation; you hold the reservation now
  | 'linked' // update / delete: the counterpart is target
  | 'both_changed' // resolve: targetFields differ from the baseline (decided after the store, in the domain)
  | 'echo' // skip: our own write coming back, or a state with nothing new since the last sync
  | 'create_in_flight' // skip: another live reservation is creating the counterpart; retry
  | 'earlier_write' // skip: the state is our write before the latest, read before that one landed (or set back just now); read again
  | 'no_link_for_delete' // skip: delete of an item that was never linked
  | 'tombstoned' // skip: the pair was deleted
  | 'replaced' // skip: an undelete of an item a resolution made anew while it was deleted: a second copy
  | 'conflicting_link' // skip: counterpartHint names an item linked to another counterpart
  | 'series_occurrence' // skip: an unlinked occurrence is never created alone; its series creates it
  | 'series_mismatch' // skip: a series master would be paired with a non-series item (or the reverse)
  | 'child_event' // skip: a Salesforce invitee's child event (decided in the domain)

export interface LinkRecord {
  tenant: string
  outlook: string
  salesforce: string
  state: 'linked' | 'tombstoned'
  baseline?: Record<string, unknown>
  /** the series role each side was last seen with, when known */
  roles: Partial<Record<CorrelateSystem, SeriesRole>>
  linkedAt: number
  updatedAt: number
}

export interface DecideInput {
  tenant: string
  system: CorrelateSystem
  itemId: string
  /**
   * An undelete brings the item back: like an update it updates a link and creates when unlinked, and where its
   * pair was deleted (a tombstone) it creates a new counterpart, the tombstone of the item itself ending.
   */
  changeType: 'created' | 'updated' | 'deleted' | 'undeleted'
  /**
   * The item's state now, when the request carried one (fields, event, record or fingerprint). With a state, the
   * state decides whether a change of a linked item is our echo; the source signals (echoBySource) no longer do.
   */
  fingerprint?: string
  /**
   * The same state as an object, when the request carried one (fields as given, or event / record read into the
   * canonical item): kept with a create reservation as what the create writes, and used as the baseline when a
   * counterpartHint links a pair.
   */
  state?: Record<string, unknown>
  /** changedBy / changeOrigin proved an echo (decided in the domain); it decides alone only without a state */
  echoBySource: boolean
  counterpartHint?: CounterpartHint
  role?: SeriesRole
  /** the reservation handed out with `create` */
  token: string
  /** the item's derived createKey (deriveCreateKey); after a delete the store appends its time (createKeyAfterDelete) */
  createKey: string
  leaseMs: number
  /** the state was read again after an earlier_write answer: a state equal to our earlier write is a change */
  reread?: boolean
  /**
   * the /dedupe claim token the change is processed under: kept with a reservation it takes, and the same token asking
   * again while that reservation lives gets it again (create) instead of create_in_flight
   */
  claimToken?: string
  /** how long the store remembers which source item a createKey it handed out belongs to (DEDUPE_TTL) */
  createKeyTtlMs: number
  /** how long what a counterpartHint link records as written into the item counts as its echo (ECHO_WINDOW) */
  echoWindowMs: number
  /** epoch ms, the caller's clock */
  now: number
}

export interface DecideResult {
  action: Exclude<CorrelateAction, 'resolve'>
  reason: Exclude<CorrelateReason, 'both_changed' | 'child_event'>
  target: { system: CorrelateSystem; itemId: string | null }
  /** with create only */
  reservation?: { token: string; expiresAt: number; createKey: string }
  /** with create_in_flight: ms until the live reservation lapses; with earlier_write: ms until the state counts as a change (at least 1) */
  retryAfterMs?: number
  /** the link this item is in (or the one that conflicts), when there is one */
  link?: LinkRecord
  /**
   * With update or delete: this call linked the pair (a counterpartHint naming our create), so the flow, which found
   * the item unlinked when it looked, read no counterpart state to send as targetFields.
   */
  linkedNow?: true
}

export interface ConfirmInput {
  tenant: string
  source: ItemRef
  target: ItemRef
  /** fingerprint of what was written into target: the echo ledger (it replaces the target's earlier entry) */
  writtenFingerprint?: string
  baseline?: Record<string, unknown>
  reservationToken?: string
  deleted?: boolean
  /**
   * The item the target replaces as the source's counterpart (a /resolve-conflict create, made because that item is
   * gone): when the source is linked to it, it is tombstoned and marked with the delete time (as a delete confirm
   * marks it), and the source is linked to the target.
   */
  replaces?: ItemRef
  now: number
  /** how long a written fingerprint counts as our echo (ECHO_WINDOW) */
  echoWindowMs: number
  /** how long a tombstone outlives the pair's delete */
  tombstoneTtlMs: number
}

export type ConfirmResult =
  | { linked: true; link: LinkRecord }
  | {
      linked: false
      link: LinkRecord
      reason?: 'conflicting_link' | 'tombstoned'
      /** the target is linked to another item: the write is no echo of ours there, for /correlate nor for /dedupe */
      targetLinkedElsewhere?: true
    }
