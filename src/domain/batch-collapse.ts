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
  const groups = new Map<string, Array<{ pos: number; rank: number }>>()
  const newestSeen = new Map<string, number>()
  for (let pos = 0; pos < events.length; pos++) {
    // each key string made once: hashing a freshly joined string is most of a lookup's cost
    const id = itemMapKey(events[pos].key)
    const { modifiedAt } = events[pos]
    const before = newestSeen.get(id) ?? -Infinity
    const rank = modifiedAt ?? before
    if (modifiedAt !== undefined && modifiedAt > before) newestSeen.set(id, modifiedAt)
    const group = groups.get(id)
    if (group) group.push({ pos, rank })
    else groups.set(id, [{ pos, rank }])
  }
  return [...groups.values()].map((group) => (group.length === 1 ? [group[0].pos] : group.sort((a, b) => b.rank - a.rank || b.pos - a.pos).map((entry) => entry.pos)))
}
