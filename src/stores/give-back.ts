// Claims granted for a batch that then failed: the caller hears only the failure, so they go back at once and the
// retried batch finds its items free.
import type { ItemKey } from '../domain/keys.js'
import type { DedupeStore } from './dedupe-store.js'

/**
 * Sends every release at once and waits for none: best effort, never throws. The failure is answered without waiting
 * on a store that may be stalled. On Redis the releases go out on the connection the claims used, so a stalled Redis
 * runs them when it resumes, before a retry sent through the same sidecar; a connection that is gone sends nothing,
 * and those claims lapse at their lease. (Releasing a group at a time and stopping at a group that failed left every
 * later group held for its lease after a stall: 13,500 items of a 20,000-claim batch in a review's run.)
 */
export function giveBackClaims(store: Pick<DedupeStore, 'release'>, granted: Array<{ key: ItemKey; token: string; now: number }>): void {
  for (const claim of granted) {
    // from a promise, so that even a synchronous throw is swallowed
    Promise.resolve()
      .then(() => store.release(claim))
      .catch(() => undefined)
  }
}
