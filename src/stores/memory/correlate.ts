// The embedded CorrelateStore: links kept both ways, create reservations, the echo ledger and tombstones in bounded maps.
// Mirrors redis/correlate-scripts.ts rule for rule; the shared contract suite holds both to the same answers.
import { createKeyAfterDelete, derivedCreateKey } from '../../domain/correlate-key.js'
import { fingerprintBaseline, otherSystem, rolesClash } from '../../domain/correlate-rules.js'
import { itemMapKey, parseItemMapKey } from '../../domain/keys.js'
import {
  DELETE_MARK_MIN_TTL_MS,
  RESERVATION_GRACE_MS,
  type ConfirmInput,
  type ConfirmResult,
  type CorrelateStore,
  type CorrelateSystem,
  type CounterpartHint,
  type DecideInput,
  type DecideResult,
  type ItemRef,
  type LinkRecord,
  type SeriesRole,
} from '../correlate-store.js'
import { BoundedTtlMap } from './bounded-map.js'

/** One side of a pair: what this item is linked to. Both sides are written together and hold the same facts. */
interface Side {
  counterpart: string
  state: 'linked' | 'tombstoned'
  /** JSON text: stored as given, compared as text for idempotent confirms, never shared with callers */
  baseline?: string
  /** the baseline's fingerprint: a change with this state brings nothing new */
  baselineFingerprint?: string
  role?: SeriesRole
  counterpartRole?: SeriesRole
  linkedAt: number
  updatedAt: number
  /** a tombstone made by a confirm's replaces: the pair lives on with a copy made while this item was deleted */
  replaced?: true
}

interface Reservation {
  token: string
  expiresAt: number
  createKey: string
  role?: SeriesRole
  /** the claimToken of the /correlate that took it: the same claim asking again gets it again */
  by?: string
}

/**
 * What we wrote into an unlinked item's copy: the source's state when /correlate answered create (fingerprint, and
 * JSON text), kept from the create until the pair is linked with a baseline (at most createKeyTtlMs); after an
 * unlink, the pair's baseline.
 */
interface CreateState {
  fingerprint: string
  state?: string
}

/**
 * The echo ledger of one item: the latest write into it, since flows read the item's current state, and the write it
 * replaced with when (a read of that one may still be on its way for one lease: earlier_write).
 */
interface LedgerEntry {
  fingerprint: string
  expiresAt: number
  previous?: { fingerprint: string; replacedAt: number }
}

const FOREVER = Number.POSITIVE_INFINITY

export class MemoryCorrelateStore implements CorrelateStore {
  private readonly links: BoundedTtlMap<Side>
  private readonly reservations: BoundedTtlMap<Reservation>
  private readonly ledger: BoundedTtlMap<LedgerEntry>
  /** createKey (as derived, without a delete time) -> the item whose reservation it was handed out with */
  private readonly createKeys: BoundedTtlMap<ItemRef>
  /**
   * item -> what we wrote into its copy (CreateState), not only while its reservation lives: the copy coming back by a
   * hint after the reservation lapsed, or after an unlink, is still told from a person's edit
   */
  private readonly created: BoundedTtlMap<CreateState>
  /** item -> when its last pair was deleted: what keys its next copy (createKeyAfterDelete) */
  private readonly deletedAt: BoundedTtlMap<number>

  constructor(options: { maxItems: number }) {
    // A pair is two entries; evicting one side drops the other, so no half-link ever answers.
    this.links = new BoundedTtlMap<Side>({
      maxEntries: options.maxItems * 2,
      onEvict: (key, side) => this.dropCounterpart(key, side),
    })
    this.reservations = new BoundedTtlMap<Reservation>({ maxEntries: options.maxItems })
    this.ledger = new BoundedTtlMap<LedgerEntry>({ maxEntries: options.maxItems })
    this.createKeys = new BoundedTtlMap<ItemRef>({ maxEntries: options.maxItems })
    this.created = new BoundedTtlMap<CreateState>({ maxEntries: options.maxItems })
    // as many as the links hold: a delete marks both items, as it tombstones both
    this.deletedAt = new BoundedTtlMap<number>({ maxEntries: options.maxItems * 2 })
  }

  async decide(input: DecideInput): Promise<DecideResult> {
    const { tenant, system, itemId, now } = input
    const other = otherSystem(system)
    const selfKey = keyOf(tenant, system, itemId)
    let self = this.links.get(selfKey, now)
    let hint = this.resolveHint(tenant, other, input.counterpartHint, now)
    // With a state the state decides: the source signals say who wrote last, not whether a person wrote since.
    const byState = input.fingerprint !== undefined && input.changeType !== 'deleted'

    if (self?.state === 'tombstoned') {
      if (input.changeType !== 'undeleted') {
        return { action: 'skip', reason: 'tombstoned', target: { system: other, itemId: self.counterpart }, link: toLink(tenant, system, itemId, self) }
      }
      // Restored after a resolution made it anew: the meeting lives on in that copy (while the pair does), so this one
      // is a second.
      if (self.replaced && this.links.peek(keyOf(tenant, other, self.counterpart), now)?.state === 'linked') {
        return { action: 'skip', reason: 'replaced', target: { system: other, itemId: self.counterpart }, link: toLink(tenant, system, itemId, self) }
      }
      // Restored after its pair was deleted: its own tombstone ends and it is created anew on the other side. The old
      // counterpart's tombstone stays, so that item's late events are still skipped. What we last wrote into the item
      // is no echo of its state as restored.
      this.links.delete(selfKey)
      this.ledger.delete(selfKey)
      self = undefined
    }

    if (self) {
      const target = { system: other, itemId: self.counterpart }
      if (rolesClash(input.role, self.counterpartRole)) {
        return { action: 'skip', reason: 'series_mismatch', target, link: toLink(tenant, system, itemId, self) }
      }
      if (input.role && input.role !== self.role) this.learnRole(tenant, system, itemId, self, input.role, now)
      const hintNamesCounterpart = input.changeType === 'created' && hint?.itemId === self.counterpart
      const link = toLink(tenant, system, itemId, self)
      const echo = byState
        ? this.inLedger(selfKey, input.fingerprint, now) || input.fingerprint === self.baselineFingerprint
        : input.echoBySource || hintNamesCounterpart
      if (echo) return { action: 'skip', reason: 'echo', target, link }
      const wait = byState && !input.reread ? this.earlierWrite(selfKey, input.fingerprint, input.leaseMs, now) : undefined
      if (wait !== undefined) return { action: 'skip', reason: 'earlier_write', target, link, retryAfterMs: wait }
      if (input.changeType === 'deleted') return { action: 'delete', reason: 'linked', target, link }
      // The item moved past what we wrote: a later change back to that state is a person's edit, not our echo.
      if (input.fingerprint !== undefined) this.ledger.delete(selfKey)
      return { action: 'update', reason: 'linked', target, link }
    }

    // An unlinked item restored from the recycle bin is created anew: the stamp it carries names a counterpart its delete
    // took away (or one linked since to another item).
    if (input.changeType === 'undeleted') hint = undefined
    const hinted = hint ? this.links.get(keyOf(tenant, hint.system, hint.itemId), now) : undefined
    // A hint naming the tombstone of this item's own deleted pair: the item came back (an undelete, or a change of it
    // while its re-create is in flight or after it failed) and is unlinked like any new item.
    if (hinted?.state === 'tombstoned' && hinted.counterpart === itemId) hint = undefined

    if (hint) {
      const hintKey = keyOf(tenant, hint.system, hint.itemId)
      const target = { system: other, itemId: hint.itemId }
      if (hinted?.state === 'linked' && hinted.counterpart !== itemId) {
        return { action: 'skip', reason: 'conflicting_link', target, link: toLink(tenant, hint.system, hint.itemId, hinted) }
      }
      if (hinted?.state === 'tombstoned') {
        return { action: 'skip', reason: 'tombstoned', target, link: toLink(tenant, hint.system, hint.itemId, hinted) }
      }
      const reservation = this.reservations.get(hintKey, now)
      const hintRole = reservation?.role ?? hinted?.role
      if (rolesClash(input.role, hintRole)) return { action: 'skip', reason: 'series_mismatch', target }
      // Our own create coming back before (or without) its confirm: link the pair now, with what the create wrote.
      const made = linkHinted(input, byState, this.created.get(hintKey, now))
      const side = (counterpart: string, role?: SeriesRole, counterpartRole?: SeriesRole): Side => ({
        counterpart,
        state: 'linked',
        baseline: made.baseline,
        baselineFingerprint: made.baselineFingerprint,
        role,
        counterpartRole,
        linkedAt: now,
        updatedAt: now,
      })
      const mine = side(hint.itemId, input.role, hintRole)
      this.links.set(selfKey, mine, FOREVER, now)
      this.links.set(hintKey, side(itemId, hintRole, input.role), FOREVER, now)
      this.reservations.delete(hintKey)
      // linked now with a baseline, the link holds what we wrote (an unlink puts it back here)
      if (made.baselineFingerprint !== undefined) this.created.delete(hintKey)
      this.ledger.delete(selfKey)
      const link = toLink(tenant, system, itemId, mine)
      // The stamp proves the pair, so a delete of the copy is a linked delete.
      if (input.changeType === 'deleted') {
        return input.echoBySource ? { action: 'skip', reason: 'echo', target, link } : { action: 'delete', reason: 'linked', target, link, linkedNow: true }
      }
      if (!made.echo) return { action: 'update', reason: 'linked', target, link, linkedNow: true }
      if (made.written !== undefined) this.record(selfKey, made.written, now + input.echoWindowMs, now)
      return { action: 'skip', reason: 'echo', target, link }
    }

    const unlinked = { system: other, itemId: null }
    if (input.echoBySource || this.inLedger(selfKey, input.fingerprint, now)) return { action: 'skip', reason: 'echo', target: unlinked }
    const held = this.reservations.get(selfKey, now)
    if (held && held.expiresAt > now) {
      // The same claim asking again (its answer was lost) gets the reservation it took, writing what it sends now:
      // only a create, and only with half a lease (the request's) or more left, as a write begun near the end could
      // land after the reservation lapsed and the next worker created the same copy.
      const again =
        input.claimToken !== undefined &&
        held.by === input.claimToken &&
        input.changeType !== 'deleted' &&
        input.role !== 'occurrence' &&
        input.role !== 'exception' &&
        held.expiresAt - now >= input.leaseMs / 2
      if (!again) return { action: 'skip', reason: 'create_in_flight', target: unlinked, retryAfterMs: Math.max(1, held.expiresAt - now) }
      this.rememberCreated(selfKey, input, now)
      return { action: 'create', reason: 'new_item', target: unlinked, reservation: { token: held.token, expiresAt: held.expiresAt, createKey: held.createKey } }
    }
    if (input.changeType === 'deleted') return { action: 'skip', reason: 'no_link_for_delete', target: unlinked }
    if (input.role === 'occurrence' || input.role === 'exception') return { action: 'skip', reason: 'series_occurrence', target: unlinked }
    const deletedAt = this.deletedAt.peek(selfKey, now)
    // A mark that keys a copy stays for good: that copy's retries, and a create after an unlink, must find its key.
    if (deletedAt !== undefined) this.deletedAt.set(selfKey, deletedAt, FOREVER, now)
    const createKey = createKeyAfterDelete(input.createKey, deletedAt)
    const reservation = { token: input.token, expiresAt: now + input.leaseMs, createKey }
    // kept past the size bound while it lives, as a dedupe claim is: dropping it would let a second worker create
    this.reservations.set(selfKey, { ...reservation, role: input.role, by: input.claimToken }, reservation.expiresAt + RESERVATION_GRACE_MS, now, reservation.expiresAt)
    this.createKeys.set(createKeyOf(tenant, input.createKey), { system, itemId }, now + input.createKeyTtlMs, now)
    this.rememberCreated(selfKey, input, now)
    return { action: 'create', reason: 'new_item', target: unlinked, reservation }
  }

  /** What a create writes replaces the last one's; a create asked without a state writes what we cannot know. */
  private rememberCreated(selfKey: string, input: DecideInput, now: number): void {
    if (input.fingerprint === undefined) {
      this.created.delete(selfKey)
    } else {
      const state = input.state === undefined ? undefined : JSON.stringify(input.state)
      this.created.set(selfKey, { fingerprint: input.fingerprint, state }, now + input.createKeyTtlMs, now)
    }
  }

  async confirm(input: ConfirmInput): Promise<ConfirmResult> {
    const { tenant, source, target, now } = input
    const sourceKey = keyOf(tenant, source.system, source.itemId)
    const targetKey = keyOf(tenant, target.system, target.itemId)
    const fromSource = this.links.get(sourceKey, now)
    const fromTarget = this.links.get(targetKey, now)
    // The write landed whatever the link's answer: its echo must be known even when the confirm is refused, or the
    // copy's own change event (before the flow deletes the extra copy) would be created on the other side once more.
    // Not on a target linked to another item, though: that pair's own side must hear that it was overwritten.
    const targetElsewhere = fromTarget?.state === 'linked' && fromTarget.counterpart !== source.itemId
    const recordWrite = () => {
      if (input.writtenFingerprint !== undefined) this.record(targetKey, input.writtenFingerprint, now + input.echoWindowMs, now)
    }
    // A resolution's create replacing the source's counterpart, which is gone: that item is tombstoned, pointing at the
    // source, and the source is free for the target.
    const replaced = input.replaces
    const relink =
      replaced !== undefined &&
      !input.deleted &&
      !targetElsewhere &&
      fromTarget?.state !== 'tombstoned' &&
      fromSource?.state === 'linked' &&
      fromSource.counterpart === replaced.itemId &&
      replaced.itemId !== target.itemId
    if (relink) {
      const replacedKey = keyOf(tenant, replaced.system, replaced.itemId)
      const old = this.links.get(replacedKey, now) ?? { ...fromSource, role: fromSource.counterpartRole, counterpartRole: fromSource.role }
      this.links.set(replacedKey, { ...old, counterpart: source.itemId, state: 'tombstoned', updatedAt: now, replaced: true }, now + input.tombstoneTtlMs, now)
      // as after any delete: a copy made anew of the replaced item (restored) gets a createKey of its own, where the
      // old one would find the source itself (Graph returns the event it made for a transactionId it knows)
      this.deletedAt.set(replacedKey, now, now + Math.max(input.tombstoneTtlMs, DELETE_MARK_MIN_TTL_MS), now)
    }
    if (!relink && fromSource?.state === 'linked' && fromSource.counterpart !== target.itemId) {
      const link = toLink(tenant, source.system, source.itemId, fromSource)
      if (targetElsewhere) return { linked: false, reason: 'conflicting_link', link, targetLinkedElsewhere: true }
      recordWrite()
      return { linked: false, reason: 'conflicting_link', link }
    }
    if (targetElsewhere) {
      return { linked: false, reason: 'conflicting_link', link: toLink(tenant, target.system, target.itemId, fromTarget), targetLinkedElsewhere: true }
    }
    const samePair = fromSource?.counterpart === target.itemId && fromTarget?.counterpart === source.itemId
    const sourceRole = fromSource?.role ?? this.reservations.get(sourceKey, now)?.role
    const targetRole = fromTarget?.role
    const baseline = input.baseline === undefined ? undefined : JSON.stringify(input.baseline)
    const write = (state: Side['state'], linkedAt: number, expiresAt: number): Side => {
      const kept = fromSource?.counterpart === target.itemId ? fromSource : fromTarget?.counterpart === source.itemId ? fromTarget : undefined
      const sourceSide: Side = {
        counterpart: target.itemId,
        state,
        baseline: baseline ?? kept?.baseline,
        baselineFingerprint: baseline === undefined ? kept?.baselineFingerprint : fingerprintBaseline(input.baseline as Record<string, unknown>),
        role: sourceRole,
        counterpartRole: targetRole,
        linkedAt,
        updatedAt: now,
      }
      this.links.set(sourceKey, sourceSide, expiresAt, now)
      this.links.set(targetKey, { ...sourceSide, counterpart: source.itemId, role: targetRole, counterpartRole: sourceRole }, expiresAt, now)
      return sourceSide
    }

    if (input.deleted) {
      // A repeat: the pair's tombstones, or one of them with the other item unlinked since (restored, its copy in the
      // making). Tombstoning that item again would drop its re-create.
      const dead = (side: Side | undefined, counterpart: string) => side?.state === 'tombstoned' && side.counterpart === counterpart
      const repeat =
        (dead(fromSource, target.itemId) && dead(fromTarget, source.itemId)) || (dead(fromSource, target.itemId) && !fromTarget) || (dead(fromTarget, source.itemId) && !fromSource)
      if (repeat) {
        return fromSource
          ? { linked: false, link: toLink(tenant, source.system, source.itemId, fromSource) }
          : { linked: false, link: toLink(tenant, target.system, target.itemId, fromTarget as Side) }
      }
      this.reservations.delete(sourceKey)
      this.reservations.delete(targetKey)
      this.created.delete(sourceKey)
      this.created.delete(targetKey)
      const linkedAt = samePair && fromSource ? fromSource.linkedAt : now
      const side = write('tombstoned', linkedAt, now + input.tombstoneTtlMs)
      // the copy is gone: a copy made anew of either item gets a createKey of its own
      const markUntil = now + Math.max(input.tombstoneTtlMs, DELETE_MARK_MIN_TTL_MS)
      this.deletedAt.set(sourceKey, now, markUntil, now)
      this.deletedAt.set(targetKey, now, markUntil, now)
      return { linked: false, link: toLink(tenant, source.system, source.itemId, side) }
    }

    const dead = fromSource?.state === 'tombstoned' ? fromSource : fromTarget?.state === 'tombstoned' ? fromTarget : undefined
    if (dead) {
      recordWrite()
      const [system, itemId] = dead === fromSource ? [source.system, source.itemId] : [target.system, target.itemId]
      return { linked: false, reason: 'tombstoned', link: toLink(tenant, system, itemId, dead) }
    }
    this.reservations.delete(sourceKey)
    // Past the checks above, the same pair means both sides are linked to each other already.
    let side = fromSource as Side
    if (!samePair || (baseline !== undefined && baseline !== side.baseline)) {
      side = write('linked', samePair ? side.linkedAt : now, FOREVER)
    }
    // Linked with a baseline, the link holds what we wrote (an unlink puts it back as what the copies hold).
    if (side.baselineFingerprint !== undefined) {
      this.created.delete(sourceKey)
      this.created.delete(targetKey)
    }
    recordWrite()
    return { linked: true, link: toLink(tenant, source.system, source.itemId, side) }
  }

  async getLink(tenant: string, ref: ItemRef, now: number): Promise<LinkRecord | null> {
    const side = this.links.peek(keyOf(tenant, ref.system, ref.itemId), now)
    return side ? toLink(tenant, ref.system, ref.itemId, side) : null
  }

  async unlink(tenant: string, ref: ItemRef, now: number, createStateTtlMs: number): Promise<{ deleted: boolean }> {
    const selfKey = keyOf(tenant, ref.system, ref.itemId)
    const side = this.links.peek(selfKey, now)
    if (side) {
      const counterpartKey = keyOf(tenant, otherSystem(ref.system), side.counterpart)
      this.dropCounterpart(selfKey, side)
      this.reservations.delete(counterpartKey)
      this.ledger.delete(counterpartKey)
      // What we last synced into either copy is the pair's baseline: a copy coming back by its hint is compared with it.
      if (side.state === 'linked' && side.baselineFingerprint !== undefined) {
        const synced = { fingerprint: side.baselineFingerprint, state: side.baseline }
        this.created.set(selfKey, synced, now + createStateTtlMs, now)
        this.created.set(counterpartKey, synced, now + createStateTtlMs, now)
      }
    }
    this.links.delete(selfKey)
    this.reservations.delete(selfKey)
    this.ledger.delete(selfKey)
    return { deleted: side !== undefined }
  }

  /** The counterpart a hint names: given outright, or the item a createKey was handed out for; only the other system counts. */
  private resolveHint(tenant: string, other: CorrelateSystem, hint: CounterpartHint | undefined, now: number): ItemRef | undefined {
    if (!hint) return undefined
    const ref = 'createKey' in hint ? this.createKeys.get(createKeyOf(tenant, derivedCreateKey(hint.createKey)), now) : hint
    return ref?.system === other ? ref : undefined
  }

  private inLedger(key: string, fingerprint: string | undefined, now: number): boolean {
    if (fingerprint === undefined) return false
    const entry = this.ledger.get(key, now)
    return entry !== undefined && entry.fingerprint === fingerprint && entry.expiresAt > now
  }

  /**
   * With a state equal to the write a later one replaced less than a lease ago: ms until it counts as a change. The
   * flow read it before our latest write landed (or a person set it back just now, which waits out the lease).
   */
  private earlierWrite(key: string, fingerprint: string | undefined, leaseMs: number, now: number): number | undefined {
    const previous = this.ledger.get(key, now)?.previous
    if (fingerprint === undefined || previous?.fingerprint !== fingerprint) return undefined
    const until = previous.replacedAt + leaseMs
    return until > now ? until - now : undefined
  }

  /**
   * Replaces the item's entry with this write, keeping the live one it replaces as `previous`; the same live entry is
   * left as it is, so a repeated confirm changes nothing.
   */
  private record(key: string, fingerprint: string, expiresAt: number, now: number): void {
    const live = this.ledger.get(key, now)
    if (live !== undefined && live.fingerprint === fingerprint && live.expiresAt > now) return
    const previous = live !== undefined && live.expiresAt > now ? { fingerprint: live.fingerprint, replacedAt: now } : undefined
    this.ledger.set(key, { fingerprint, expiresAt, previous }, expiresAt, now)
  }

  /** Records the role this item now shows on both sides of its link. */
  private learnRole(tenant: string, system: CorrelateSystem, itemId: string, self: Side, role: SeriesRole, now: number): void {
    self.role = role
    const counterpart = this.links.peek(keyOf(tenant, otherSystem(system), self.counterpart), now)
    if (counterpart && counterpart.counterpart === itemId) counterpart.counterpartRole = role
  }

  /** Removes the other side of `key`'s pair when it still points back at it. */
  private dropCounterpart(key: string, side: Side): void {
    const { tenant, system, itemId } = parseItemMapKey(key)
    const counterpartKey = keyOf(tenant, otherSystem(system as CorrelateSystem), side.counterpart)
    const counterpart = this.links.peek(counterpartKey, Number.NEGATIVE_INFINITY)
    if (counterpart && counterpart.counterpart === itemId) this.links.delete(counterpartKey)
  }
}

const keyOf = (tenant: string, system: CorrelateSystem, itemId: string) => itemMapKey({ tenant, system, itemId })

/** How a counterpartHint links a pair: the baseline, the fingerprint recorded as written into the item, echo or not. */
interface HintedLink {
  baseline?: string
  baselineFingerprint?: string
  written?: string
  echo: boolean
}

/**
 * When what we wrote into the copy is known (CreateState: the create's state, through a lapsed reservation; after an
 * unlink the pair's baseline), that is the baseline and the echo ledger entry, and a state that differs from it is a
 * person's edit of the copy (an update). Without it (the create was asked without a state, or longer ago than
 * createKeyTtlMs, or pushed out by the bound) the copy's state is taken as what we wrote: echo, and that state is
 * recorded as baseline and ledger entry, so any later edit of the copy is an update.
 */
function linkHinted(input: DecideInput, byState: boolean, created: CreateState | undefined): HintedLink {
  if (created !== undefined) {
    const { fingerprint, state } = created
    return {
      baseline: state,
      baselineFingerprint: state === undefined ? undefined : fingerprint,
      written: fingerprint,
      echo: !byState || input.fingerprint === fingerprint,
    }
  }
  if (!byState) return { echo: true }
  return {
    baseline: input.state === undefined ? undefined : JSON.stringify(input.state),
    baselineFingerprint: input.state === undefined ? undefined : input.fingerprint,
    written: input.fingerprint,
    echo: true,
  }
}
/** A tenant holds no NUL (its schema forbids it), so this cannot collide across tenants. */
const createKeyOf = (tenant: string, createKey: string) => `${tenant}\u0000${createKey}`

function toLink(tenant: string, system: CorrelateSystem, itemId: string, side: Side): LinkRecord {
  const outlook = system === 'outlook' ? itemId : side.counterpart
  const salesforce = system === 'salesforce' ? itemId : side.counterpart
  const roles: LinkRecord['roles'] = {}
  if (side.role) roles[system] = side.role
  if (side.counterpartRole) roles[otherSystem(system)] = side.counterpartRole
  return {
    tenant,
    outlook,
    salesforce,
    state: side.state,
    baseline: side.baseline === undefined ? undefined : (JSON.parse(side.baseline) as Record<string, unknown>),
    roles,
    linkedAt: side.linkedAt,
    updatedAt: side.updatedAt,
  }
}
