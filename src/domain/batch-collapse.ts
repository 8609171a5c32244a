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
  const winner = new Map<string, number>()
  events.forEach((event, pos) => {
    const id = itemMapKey(event.key)
    const best = winner.get(id)
    if (best === undefined || newer(events[best], best, event, pos)) winner.set(id, pos)
  })
  return events.map((event, pos) => {
    const best = winner.get(itemMapKey(event.key)) as number
    return best === pos ? -1 : best
  })
}
