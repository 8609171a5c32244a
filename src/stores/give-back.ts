// Claims granted for a batch that then failed: the caller hears only the failure, so they go back at once and the
// retried batch finds its items free.
import type { ItemKey } from '../domain/keys.js'
import type { DedupeStore } from './dedupe-store.js'

/** Releases sent at once. */
export const RELEASES_AT_ONCE = 500

/**
 * Best effort, a group at a time: when every release of a group fails (an outage), the rest are left to lapse at
 * their lease. Never throws.
 */
export async function giveBackClaims(store: Pick<DedupeStore, 'release'>, granted: Array<{ key: ItemKey; token: string; now: number }>): Promise<void> {
  for (let start = 0; start < granted.length; start += RELEASES_AT_ONCE) {
    const group = granted.slice(start, start + RELEASES_AT_ONCE)
    const outcomes = await Promise.allSettled(group.map(async (claim) => store.release(claim)))
    if (outcomes.every((outcome) => outcome.status === 'rejected')) return
  }
}
