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
