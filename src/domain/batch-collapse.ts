// Collapses several events for one item inside a batch: only the newest may be processed.
import { itemMapKey, type ItemKey } from './keys.js'

export interface Collapsible {
  key: ItemKey
  modifiedAt?: number
}

/** True when `b` is newer than `a`: later modifiedAt where both have one, otherwise the later position. */
function newer(a: Collapsible, aPos: number, b: Collapsible, bPos: number): boolean {
  if (a.modifiedAt !== undefined && b.modifiedAt !== undefined && a.modifiedAt !== b.modifiedAt) return b.modifiedAt > a.modifiedAt
  return bPos > aPos
}

/** For each position, the position of the event that supersedes it, or -1 when it is its item's newest. */
export function collapseBatch(events: Collapsible[]): number[] {
  // each key string made once: hashing a freshly joined string is most of a lookup's cost
  const ids = events.map((event) => itemMapKey(event.key))
  const winner = new Map<string, number>()
  for (let pos = 0; pos < events.length; pos++) {
    const best = winner.get(ids[pos])
    if (best === undefined || newer(events[best], best, events[pos], pos)) winner.set(ids[pos], pos)
  }
  return ids.map((id, pos) => {
    const best = winner.get(id) as number
    return best === pos ? -1 : best
  })
}
