// Collapses several events for one item inside a batch: only the newest may be processed.
import { itemMapKey, type ItemKey } from './keys.js'

export interface Collapsible {
  key: ItemKey
  modifiedAt?: number
}

/**
 * Each item's positions, newest first; items in the order they first appear. Newer means the later modifiedAt where
 * both events have one, otherwise the later position. So that the order is one order even when only some events
 * carry modifiedAt, an event without one ranks as the newest modifiedAt before it in the batch (or below every
 * modifiedAt when none came before), and ties go to the later position: [10 000, none, 5 000] ranks the undated
 * event first, then 10 000, then 5 000, where the pairwise rule alone would go round in a circle.
 */
export function newestFirstByItem(events: Collapsible[]): number[][] {
  // Most items have one event: a position alone until a second one comes.
  const positions = new Map<string, number | number[]>()
  for (let pos = 0; pos < events.length; pos++) {
    // each key string made once: hashing a freshly joined string is most of a lookup's cost
    const id = itemMapKey(events[pos].key)
    const seen = positions.get(id)
    if (seen === undefined) positions.set(id, pos)
    else if (typeof seen === 'number') positions.set(id, [seen, pos])
    else seen.push(pos)
  }
  const groups: number[][] = []
  for (const seen of positions.values()) groups.push(typeof seen === 'number' ? [seen] : newestFirst(events, seen))
  return groups
}

/** One item's positions (ascending), newest first. */
function newestFirst(events: Collapsible[], positions: number[]): number[] {
  let newestSoFar = -Infinity
  const ranked = positions.map((pos) => {
    const { modifiedAt } = events[pos]
    const rank = modifiedAt ?? newestSoFar
    if (modifiedAt !== undefined && modifiedAt > newestSoFar) newestSoFar = modifiedAt
    return { pos, rank }
  })
  return ranked.sort((a, b) => b.rank - a.rank || b.pos - a.pos).map((entry) => entry.pos)
}

export interface Resendable extends Collapsible {
  version: string
  changeType?: string
  gap?: boolean
  overflow?: boolean
}

/** Deletes, undeletes and Salesforce gap events say more than "the item changed": only a claim of their kind covers them. */
const kindOf = (event: Resendable) =>
  event.overflow ? 'overflow' : event.gap ? 'gap' : event.changeType === 'deleted' || event.changeType === 'undeleted' ? event.changeType : 'change'

/**
 * At most this many superseded versions ride on one claim: enough for a burst of edits to one item, few enough to
 * leave most of the item's window of remembered versions (VERSION_LIMIT) to its own history.
 */
export const COVER_LIMIT = 10

/**
 * The versions a claim for `group[index]` supersedes (ClaimInput.covers): those of the item's events ranked below it,
 * each once and not its own, nearest first, at most COVER_LIMIT. Left out: a dated event older than a dated claim (once
 * the claim commits, its modifiedAt already makes that event stale), unless it is a gap event (never stale by
 * modifiedAt), and a delete, undelete or gap event below a claim of another kind (a write of an update does not carry
 * a delete, nor does it re-read what a gap event asks for; a decided update takes a gap's re-read, see gapBelow). An
 * undelete's claim covers the gap events below it: its write restores the whole record.
 */
export function coveredVersions(events: Resendable[], group: readonly number[], index: number): string[] | undefined {
  const claimed = events[group[index]]
  const claimedKind = kindOf(claimed)
  const covered: string[] = []
  for (let i = index + 1; i < group.length && covered.length < COVER_LIMIT; i++) {
    const event = events[group[i]]
    const { version, modifiedAt } = event
    if (version === claimed.version || covered.includes(version)) continue
    // (a gap event is never stale by modifiedAt, so it is covered whatever its time)
    if (modifiedAt !== undefined && claimed.modifiedAt !== undefined && modifiedAt < claimed.modifiedAt && !event.gap) continue
    const kind = kindOf(event)
    // (an undelete's write restores the whole record, which holds what a gap event's re-read would: see gapBelow)
    if (kind !== 'change' && kind !== claimedKind && !(kind === 'gap' && claimedKind === 'undeleted')) continue
    covered.push(version)
  }
  return covered.length > 0 ? covered : undefined
}

/**
 * Whether the decided event `group[index]` must carry the re-read of a Salesforce gap event ranked below it (no
 * state; re-read the record): a newer change's own fields do not hold what the gap event could not deliver. Not a
 * delete (the record is gone) nor an undelete (it carries the whole record as restored), nor a gap event itself.
 */
export function gapBelow(events: Resendable[], group: readonly number[], index: number): boolean {
  const decided = events[group[index]]
  if (decided.gap || decided.changeType === 'deleted' || decided.changeType === 'undeleted') return false
  for (let i = index + 1; i < group.length; i++) if (events[group[i]].gap) return true
  return false
}

/**
 * An undelete is not superseded by the item's newer changes in the batch: a change of a record that was deleted and
 * restored is synced only once the pair is restored (/correlate skips an update on a tombstoned pair), and its own
 * fields do not say the record came back. So an item whose newest undelete has changes, and no delete, ranked above it
 * is decided as two groups (newest first each): the undelete with the events below it, then the events above it.
 * Claimed in that order in one store call, the newer group's claim finds the item held by the undelete's (in_flight:
 * send it again once the undelete is committed), or, when the undelete needs no write (a duplicate, stale), is decided
 * as it would be alone. Returns the groups in the order their claims must run, and the splits made.
 */
export function undeleteFirst(events: Resendable[], groups: number[][]): { groups: number[][]; splits: Array<{ undelete: number[]; newer: number[] }> } {
  const splits: Array<{ undelete: number[]; newer: number[] }> = []
  const ordered: number[][] = []
  for (const group of groups) {
    const at = group.length === 1 ? -1 : undeleteBelowChanges(events, group)
    if (at <= 0) {
      ordered.push(group)
      continue
    }
    const split = { undelete: group.slice(at), newer: group.slice(0, at) }
    splits.push(split)
    ordered.push(split.undelete, split.newer)
  }
  return { groups: ordered, splits }
}

/** The index in `group` (newest first) of the newest undelete with no delete ranked above it, or -1. */
function undeleteBelowChanges(events: Resendable[], group: readonly number[]): number {
  for (let i = 0; i < group.length; i++) {
    const { changeType } = events[group[i]]
    if (changeType === 'deleted') return -1
    if (changeType === 'undeleted') return i
  }
  return -1
}

/**
 * The versions of the item's events ranked below `group[index]`, each once and not its own, nearest first, at most
 * `limit` (ClaimInput.superseded: the item's history records them as superseded by that event's decision).
 */
export function supersededVersions(events: Resendable[], group: readonly number[], index: number, limit: number): string[] | undefined {
  const own = events[group[index]].version
  const versions: string[] = []
  for (let i = index + 1; i < group.length && versions.length < limit; i++) {
    const { version } = events[group[i]]
    if (version !== own && !versions.includes(version)) versions.push(version)
  }
  return versions.length > 0 ? versions : undefined
}

/**
 * The search past an item's duplicates in a batch. Its newest event may be a resend placed after a newer change
 * (Graph notifications carry no modifiedAt, so position alone ranked it first), so while the decided event is a
 * duplicate the next one in the order is decided. Skipped: a version already answered duplicate, and a dated event no
 * newer than a dated duplicate (its order is known, so a redelivered Salesforce batch decides nothing twice). After a
 * newest event stale by its modifiedAt (`gapsOnly`), only gap events are looked at: they are never stale by modifiedAt,
 * where every other event ranked below it is older still.
 */
export class PastDuplicates {
  private next = 1
  private readonly answered = new Set<string>()
  private newestDatedDuplicate = -Infinity

  /**
   * `group`: one item's positions, newest first (newestFirstByItem), whose first event answered duplicate, or stale by
   * its modifiedAt (then `gapsOnly`).
   */
  constructor(
    private readonly events: Resendable[],
    private readonly group: number[],
    private readonly gapsOnly = false,
  ) {
    this.noteDuplicate(group[0])
  }

  /** The position to decide next, or undefined when no event of the item is left to try. */
  candidate(): number | undefined {
    for (; this.next < this.group.length; this.next++) {
      const { version, modifiedAt, gap } = this.events[this.group[this.next]]
      if (this.answered.has(version) || (this.gapsOnly && !gap)) continue
      // (a gap event is never stale by modifiedAt: it is decided whatever its time)
      if (modifiedAt !== undefined && modifiedAt <= this.newestDatedDuplicate && !this.events[this.group[this.next]].gap) continue
      return this.group[this.next]
    }
    return undefined
  }

  /** What a claim for the candidate supersedes (coveredVersions), less the versions already answered duplicate. */
  covered(): string[] | undefined {
    if (this.candidate() === undefined) return undefined
    const covered = coveredVersions(this.events, this.group, this.next)?.filter((version) => !this.answered.has(version))
    return covered !== undefined && covered.length > 0 ? covered : undefined
  }

  /** Whether a gap event ranks below the candidate (gapBelow). */
  gapBelow(): boolean {
    return this.candidate() !== undefined && gapBelow(this.events, this.group, this.next)
  }

  /** The versions ranked below the candidate (supersededVersions), less those already answered duplicate. */
  superseded(limit: number): string[] | undefined {
    if (this.candidate() === undefined) return undefined
    const below = supersededVersions(this.events, this.group, this.next, limit + this.answered.size)?.filter((version) => !this.answered.has(version))
    return below !== undefined && below.length > 0 ? below.slice(0, limit) : undefined
  }

  /** The candidate answered duplicate too: the search goes on past it. */
  duplicate(): void {
    const pos = this.candidate()
    if (pos === undefined) return
    this.noteDuplicate(pos)
    this.next++
  }

  private noteDuplicate(pos: number): void {
    const { version, modifiedAt } = this.events[pos]
    this.answered.add(version)
    if (modifiedAt !== undefined && modifiedAt > this.newestDatedDuplicate) this.newestDatedDuplicate = modifiedAt
  }
}
