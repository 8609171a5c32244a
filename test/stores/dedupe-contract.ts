// The DedupeStore contract: the same checks run unchanged against the memory store and the Redis store.
import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { ItemKey } from '../../src/domain/keys.js'
import type { ClaimInput, DedupeStore } from '../../src/stores/dedupe-store.js'

export type MakeDedupeStore = (t: Test) => Promise<DedupeStore>

const T0 = 1_800_000_000_000
const LEASE = 60_000
const TTL = 7 * 24 * 3600 * 1000

const freshKey = (system = 'outlook'): ItemKey => ({ tenant: 'contract', system, itemId: `item-${randomUUID()}` })

const claimOf = (key: ItemKey, version: string, extra: Partial<ClaimInput> = {}): ClaimInput => ({
  key,
  version,
  leaseMs: LEASE,
  now: T0,
  ttlMs: TTL,
  ...extra,
})

/** Claims and commits one version; returns the token. */
async function commitVersion(store: DedupeStore, key: ItemKey, version: string, extra: Partial<ClaimInput> = {}): Promise<string> {
  const input = claimOf(key, version, extra)
  const result = await store.claim(input)
  if (result.decision !== 'process' || !result.claim) throw new Error(`expected process for ${version}, got ${result.decision}`)
  const commit = await store.commit({ key, token: result.claim.token, now: input.now, ttlMs: TTL })
  if (!commit.committed) throw new Error(`commit of ${version} failed: ${commit.reason}`)
  return result.claim.token
}

export function runDedupeContract(t: Test, name: string, makeStore: MakeDedupeStore): void {
  const check = (title: string, body: (t: Test, store: DedupeStore) => Promise<void>) =>
    t.test(`${name}: ${title}`, async (t) => body(t, await makeStore(t)))

  check('a new version gets process with a lease', async (t, store) => {
    const key = freshKey()
    const result = await store.claim(claimOf(key, 'v1'))
    t.equal(result.decision, 'process')
    t.equal(result.reason, 'new_version')
    t.type(result.claim?.token, 'string')
    t.equal(result.claim?.expiresAt, T0 + LEASE)
    t.equal(result.last, undefined)
    t.equal(result.retryAfterMs, undefined)
  })

  check('a committed version replayed is duplicate, older committed ones too', async (t, store) => {
    const key = freshKey()
    await commitVersion(store, key, 'v1', { modifiedAt: 100, fingerprint: 'A', changeType: 'created' })
    const again = await store.claim(claimOf(key, 'v1', { modifiedAt: 100, now: T0 + 1 }))
    t.equal(again.decision, 'duplicate')
    t.equal(again.reason, 'version_committed')
    t.same(again.last, { version: 'v1', modifiedAt: 100, fingerprint: 'A', changeType: 'created', committedAt: T0 })
    await commitVersion(store, key, 'v2', { fingerprint: 'B', now: T0 + 2 })
    const older = await store.claim(claimOf(key, 'v1', { now: T0 + 3 }))
    t.equal(older.decision, 'duplicate')
    t.equal(older.last?.version, 'v2')
  })

  check('free-text versions and fingerprints come back exactly as given', async (t, store) => {
    const key = freshKey()
    // separators a store might use inside its answers, multi-byte UTF-8, and an empty-looking tail
    const version = 'v|1 | ünïcode ✓ 日本|'
    const fingerprint = '|fp|é 🙂|'
    await commitVersion(store, key, version, { modifiedAt: 100, fingerprint, changeType: 'updated' })
    const expected = { version, modifiedAt: 100, fingerprint, changeType: 'updated', committedAt: T0 }
    t.same((await store.claim(claimOf(key, version, { now: T0 + 1 }))).last, expected, 'a duplicate answers the last commit')
    const next = await store.claim(claimOf(key, `${version}2`, { modifiedAt: 200, now: T0 + 2 }))
    t.equal(next.decision, 'process')
    t.same(next.last, expected, 'so does a claim of the next version')
    const [batched] = await store.claimMany([claimOf(freshKey(), 'other', { now: T0 + 3 }), claimOf(key, version, { now: T0 + 3 })].reverse())
    t.same(batched.last, expected, 'and a claim in a batch')
  })

  check('an older modifiedAt is stale; without modifiedAt a new version is processed', async (t, store) => {
    const key = freshKey('salesforce')
    await commitVersion(store, key, 'v2', { modifiedAt: 200 })
    const older = await store.claim(claimOf(key, 'v1', { modifiedAt: 100, now: T0 + 1 }))
    t.equal(older.decision, 'stale')
    t.equal(older.reason, 'older_than_committed')
    const sameTime = await store.claim(claimOf(key, 'v2b', { modifiedAt: 200, now: T0 + 2 }))
    t.equal(sameTime.decision, 'process', 'an equal modifiedAt is no ordering: processed')

    const unordered = freshKey()
    await commitVersion(store, unordered, 'v1')
    const next = await store.claim(claimOf(unordered, 'v2', { now: T0 + 1 }))
    t.equal(next.decision, 'process')
  })

  check('a commit never moves the ordering mark back: an undated or older commit keeps the newer modifiedAt', async (t, store) => {
    const key = freshKey()
    await commitVersion(store, key, 'v1', { modifiedAt: 200 })
    await commitVersion(store, key, 'v2', { now: T0 + 1 })
    const undated = await store.claim(claimOf(key, 'v0', { modifiedAt: 100, now: T0 + 2 }))
    t.equal(undated.decision, 'stale', 'an event older than the dated commit is stale after an undated commit')
    t.equal(undated.last?.version, 'v2')
    t.equal(undated.last?.modifiedAt, 200)

    // an undated claim committed with an older modifiedAt than the one already committed
    const v3 = await store.claim(claimOf(key, 'v3', { now: T0 + 3 }))
    t.equal(v3.decision, 'process')
    t.same(await store.commit({ key, token: v3.claim!.token, modifiedAt: 150, now: T0 + 3, ttlMs: TTL }), { committed: true })
    const between = await store.claim(claimOf(key, 'v4', { modifiedAt: 180, now: T0 + 4 }))
    t.equal(between.decision, 'stale', 'an event between the two is still older than the newest commit')
    t.equal(between.last?.modifiedAt, 200)
    const newer = await store.claim(claimOf(key, 'v5', { modifiedAt: 300, now: T0 + 5 }))
    t.equal(newer.decision, 'process')

    // an undated delete keeps no mark: nothing dated is known to be newer than it
    const deleted = freshKey()
    await commitVersion(store, deleted, 'v1', { modifiedAt: 200 })
    await commitVersion(store, deleted, 'v2', { changeType: 'deleted', now: T0 + 1 })
    const later = await store.claim(claimOf(deleted, 'v3', { modifiedAt: 300, changeType: 'updated', now: T0 + 2 }))
    t.equal(later.decision, 'stale')
    t.equal(later.reason, 'item_deleted')
    t.equal(later.last?.modifiedAt, undefined)
  })

  check('the history records the batch events a decision superseded, unless it was a duplicate or in_flight', async (t, store) => {
    const key = freshKey()
    await store.claim(claimOf(key, 'v3', { superseded: ['v2', 'v1', 'v0'] }))
    const history = (await store.get(key, T0))?.history.map((entry) => [entry.decision, entry.version, entry.reason])
    t.same(history, [
      ['process', 'v3', 'new_version'],
      ['superseded', 'v2', 'superseded'],
      ['superseded', 'v1', 'superseded'],
      ['superseded', 'v0', 'superseded'],
    ])

    const replayed = freshKey()
    const token = await commitVersion(store, replayed, 'v3')
    t.type(token, 'string')
    t.equal((await store.claim(claimOf(replayed, 'v3', { now: T0 + 1, superseded: ['v2'] }))).decision, 'duplicate')
    const afterDuplicate = (await store.get(replayed, T0 + 1))?.history.map((entry) => entry.decision)
    t.same(afterDuplicate, ['duplicate', 'committed', 'process'], 'a duplicate records none: the batch decides an older event next')

    const held = freshKey()
    t.equal((await store.claim(claimOf(held, 'v1'))).decision, 'process')
    t.equal((await store.claim(claimOf(held, 'v3', { now: T0 + 1, superseded: ['v2'] }))).decision, 'in_flight')
    const afterInFlight = (await store.get(held, T0 + 1))?.history.map((entry) => [entry.decision, entry.version])
    t.same(afterInFlight, [['in_flight', 'v3'], ['process', 'v1']], 'an in_flight answer records none: the batch answers them in_flight too')

    const many = freshKey()
    await store.claim(claimOf(many, 'new', { superseded: Array.from({ length: 30 }, (_, i) => `old-${i}`) }))
    const kept = (await store.get(many, T0))?.history ?? []
    t.equal(kept.length, 20)
    t.same(kept.slice(0, 3).map((entry) => entry.version), ['new', 'old-0', 'old-1'], 'at most 19, nearest first, beside the decision')
  })

  // The clock here is the caller's: this holds the memory store, whose expiry follows it. Redis expires by its own
  // clock; dedupe-redis.test.ts reads the key's PTTL instead.
  check('a record lives as long as its live claim, however short the TTL', async (t, store) => {
    const key = freshKey()
    const first = await store.claim(claimOf(key, 'v1', { leaseMs: 3_600_000, ttlMs: 60_000 }))
    t.equal(first.decision, 'process')
    const later = await store.claim(claimOf(key, 'v2', { now: T0 + 120_000, ttlMs: 60_000 }))
    t.equal(later.decision, 'in_flight', 'two minutes on, past the 1-minute TTL, the 1-hour claim still holds the item')
    t.same(await store.commit({ key, token: first.claim!.token, now: T0 + 180_000, ttlMs: 60_000 }), { committed: true })
  })

  check('a gap event is never stale by modifiedAt: it asks for a re-read, which a newer change does not replace', async (t, store) => {
    const key = freshKey('salesforce')
    await commitVersion(store, key, 'upd', { modifiedAt: 200, changeType: 'updated' })
    const gap = await store.claim(claimOf(key, 'gap', { modifiedAt: 100, changeType: 'updated', gap: true, now: T0 + 1 }))
    t.same([gap.decision, gap.reason], ['process', 'gap_event'])
    t.same(await store.commit({ key, token: gap.claim!.token, now: T0 + 2, ttlMs: TTL }), { committed: true })
    t.equal((await store.claim(claimOf(key, 'older', { modifiedAt: 150, now: T0 + 3 }))).decision, 'stale', 'the committed mark stays at the newer change')
    const overflow = freshKey('salesforce')
    await commitVersion(store, overflow, 'o2', { modifiedAt: 200, gap: true, overflow: true })
    const older = await store.claim(claimOf(overflow, 'o1', { modifiedAt: 100, gap: true, overflow: true, now: T0 + 1 }))
    t.same([older.decision, older.reason], ['process', 'gap_overflow'])
    // a late GAP_DELETE, committed, does not date a tombstone at a moment the item was alive
    const lateDelete = freshKey('salesforce')
    await commitVersion(store, lateDelete, 'upd', { modifiedAt: 200, changeType: 'updated' })
    await commitVersion(store, lateDelete, 'gapdel', { modifiedAt: 100, changeType: 'deleted', gap: true, now: T0 + 1 })
    const afterLateDelete = await store.claim(claimOf(lateDelete, 'upd2', { modifiedAt: 200, changeType: 'updated', now: T0 + 2 }))
    t.equal(afterLateDelete.decision, 'process', 'an update in the same second as the kept mark is not stale')
    t.same([afterLateDelete.last?.modifiedAt, afterLateDelete.last?.changeType], [200, 'updated'], 'the mark keeps its own kind of change')

    const deleted = freshKey('salesforce')
    await commitVersion(store, deleted, 'del', { modifiedAt: 200, changeType: 'deleted' })
    t.same((await store.claim(claimOf(deleted, 'gap', { modifiedAt: 100, changeType: 'updated', gap: true, now: T0 + 1 }))).reason, 'item_deleted', 'a delete still ends the item')
  })

  check('after a delete only a newer modifiedAt is processed', async (t, store) => {
    const key = freshKey('salesforce')
    await commitVersion(store, key, 'v1', { modifiedAt: 100, changeType: 'deleted' })
    const late = await store.claim(claimOf(key, 'v2', { modifiedAt: 100, changeType: 'updated', now: T0 + 1 }))
    t.equal(late.decision, 'stale')
    t.equal(late.reason, 'item_deleted')
    const unordered = await store.claim(claimOf(key, 'v3', { changeType: 'updated', now: T0 + 2 }))
    t.equal(unordered.decision, 'stale')
    t.equal(unordered.reason, 'item_deleted')
    const undelete = await store.claim(claimOf(key, 'v4', { modifiedAt: 300, changeType: 'undeleted', now: T0 + 3 }))
    t.equal(undelete.decision, 'process')
  })

  check('a new version with the committed fingerprint is unchanged and remembered', async (t, store) => {
    const key = freshKey()
    await commitVersion(store, key, 'v1', { modifiedAt: 100, fingerprint: 'A', changeType: 'updated' })
    const same = await store.claim(claimOf(key, 'v2', { modifiedAt: 300, fingerprint: 'A', now: T0 + 1 }))
    t.equal(same.decision, 'unchanged')
    t.equal(same.reason, 'same_fingerprint')
    t.equal(same.claim, undefined)
    const replay = await store.claim(claimOf(key, 'v2', { modifiedAt: 300, fingerprint: 'A', now: T0 + 2 }))
    t.equal(replay.decision, 'duplicate')
    t.equal(replay.reason, 'version_unchanged')
    // The unchanged version moved the ordering mark: an edit older than it must not overwrite it.
    const between = await store.claim(claimOf(key, 'v3', { modifiedAt: 200, fingerprint: 'B', now: T0 + 3 }))
    t.equal(between.decision, 'stale')
    const different = await store.claim(claimOf(key, 'v4', { modifiedAt: 400, fingerprint: 'B', now: T0 + 4 }))
    t.equal(different.decision, 'process')
  })

  check('gap and overflow events are never unchanged', async (t, store) => {
    const key = freshKey('salesforce')
    await commitVersion(store, key, 'v1', { fingerprint: 'A' })
    const gap = await store.claim(claimOf(key, 'v2', { fingerprint: 'A', gap: true, now: T0 + 1 }))
    t.equal(gap.decision, 'process')
    t.equal(gap.reason, 'gap_event')

    const overflowKey: ItemKey = { tenant: 'contract', system: 'salesforce', itemId: `overflow:Event-${randomUUID()}` }
    await commitVersion(store, overflowKey, 'o1', { fingerprint: 'A', gap: true, overflow: true })
    const overflow = await store.claim(claimOf(overflowKey, 'o2', { fingerprint: 'A', gap: true, overflow: true, now: T0 + 1 }))
    t.equal(overflow.decision, 'process')
    t.equal(overflow.reason, 'gap_overflow')
  })

  check('unchanged never applies across a delete or an undelete', async (t, store) => {
    const key = freshKey('salesforce')
    await commitVersion(store, key, 'v1', { modifiedAt: 100, fingerprint: 'A', changeType: 'updated' })
    const del = await store.claim(claimOf(key, 'v2', { modifiedAt: 200, fingerprint: 'A', changeType: 'deleted', now: T0 + 1 }))
    t.equal(del.decision, 'process', 'a delete with the same fields is still a delete')
    await store.commit({ key, token: del.claim!.token, now: T0 + 1, ttlMs: TTL })
    const undel = await store.claim(claimOf(key, 'v3', { modifiedAt: 300, fingerprint: 'A', changeType: 'undeleted', now: T0 + 2 }))
    t.equal(undel.decision, 'process')
    await store.commit({ key, token: undel.claim!.token, now: T0 + 2, ttlMs: TTL })
    const after = await store.claim(claimOf(key, 'v4', { modifiedAt: 400, fingerprint: 'A', changeType: 'updated', now: T0 + 3 }))
    t.equal(after.decision, 'process', 'the first update after an undelete is written')
  })

  check('a live claim makes every other delivery in_flight', async (t, store) => {
    const key = freshKey()
    await store.claim(claimOf(key, 'v1'))
    const other = await store.claim(claimOf(key, 'v2', { now: T0 + 1_000 }))
    t.equal(other.decision, 'in_flight')
    t.equal(other.reason, 'claim_live')
    t.equal(other.retryAfterMs, LEASE - 1_000)
    t.equal(other.claim, undefined)
    const same = await store.claim(claimOf(key, 'v1', { now: T0 + LEASE - 1 }))
    t.equal(same.decision, 'in_flight')
    t.equal(same.retryAfterMs, 1)
  })

  check('a lapsed lease lets the next delivery process', async (t, store) => {
    const key = freshKey()
    await store.claim(claimOf(key, 'v1'))
    const next = await store.claim(claimOf(key, 'v1', { now: T0 + LEASE }))
    t.equal(next.decision, 'process')
    t.equal(next.reason, 'claim_lapsed')
    t.equal(next.claim?.expiresAt, T0 + 2 * LEASE)
  })

  check('while a lapsed claim is unended, a version with the committed fingerprint is process, not unchanged', async (t, store) => {
    const key = freshKey()
    await commitVersion(store, key, 'v1', { modifiedAt: 1_000, fingerprint: 'A' })
    const v2 = await store.claim(claimOf(key, 'v2', { modifiedAt: 2_000, fingerprint: 'B', now: T0 + 1 }))
    t.equal(v2.decision, 'process')
    // v2's write may have landed (the other side may hold B now), so A is no longer known to be what both sides hold
    const v3 = await store.claim(claimOf(key, 'v3', { modifiedAt: 3_000, fingerprint: 'A', now: T0 + 1 + LEASE }))
    t.same([v3.decision, v3.reason], ['process', 'claim_lapsed'])
    t.same(await store.commit({ key, token: v2.claim!.token, now: T0 + 2 + LEASE, ttlMs: TTL }), { committed: false, reason: 'lease_expired' }, "v2's late commit cannot move the item back")
    t.same(await store.commit({ key, token: v3.claim!.token, now: T0 + 3 + LEASE, ttlMs: TTL }), { committed: true })
    t.match((await store.get(key, T0 + 4 + LEASE))?.last, { version: 'v3', modifiedAt: 3_000, fingerprint: 'A' })
    // once the claim is ended, the committed fingerprint decides unchanged again
    t.equal((await store.claim(claimOf(key, 'v4', { modifiedAt: 4_000, fingerprint: 'A', now: T0 + 5 + LEASE }))).decision, 'unchanged')
  })

  check('a late commit succeeds while nobody claimed since, else lease_expired and nothing changes', async (t, store) => {
    const key = freshKey()
    const first = await store.claim(claimOf(key, 'v1'))
    t.same(await store.commit({ key, token: first.claim!.token, now: T0 + LEASE + 5_000, ttlMs: TTL }), { committed: true })

    const other = freshKey()
    const a = await store.claim(claimOf(other, 'v1', { modifiedAt: 100 }))
    const b = await store.claim(claimOf(other, 'v2', { modifiedAt: 200, now: T0 + LEASE + 1 }))
    t.equal(b.decision, 'process')
    t.same(await store.commit({ key: other, token: a.claim!.token, now: T0 + LEASE + 2, ttlMs: TTL }), {
      committed: false,
      reason: 'lease_expired',
    })
    const record = await store.get(other, T0 + LEASE + 3)
    t.equal(record?.last, undefined, 'the superseded commit recorded nothing')
    t.same(record?.claim, { version: 'v2', expiresAt: T0 + 2 * LEASE + 1 }, 'and left the new claim alone')
    t.same(await store.commit({ key: other, token: b.claim!.token, now: T0 + LEASE + 4, ttlMs: TTL }), { committed: true })
  })

  check('a commit repeated with the same token answers committed again', async (t, store) => {
    const key = freshKey()
    const first = await store.claim(claimOf(key, 'v1'))
    const token = first.claim!.token
    t.same(await store.commit({ key, token, now: T0 + 1, ttlMs: TTL }), { committed: true })
    t.same(await store.commit({ key, token, now: T0 + 2, ttlMs: TTL }), { committed: true })
    await commitVersion(store, key, 'v2', { now: T0 + 3 })
    t.same(await store.commit({ key, token, now: T0 + 4, ttlMs: TTL }), { committed: true }, 'even after a later commit')
    const record = await store.get(key, T0 + 5)
    t.equal(record?.history.filter((entry) => entry.decision === 'committed').length, 2, 'the repeat recorded nothing')
    t.equal(record?.last?.version, 'v2')
  })

  check('commit records the overrides it is given', async (t, store) => {
    const key = freshKey()
    const claim = await store.claim(claimOf(key, 'v1', { modifiedAt: 100, fingerprint: 'A', changeType: 'updated' }))
    await store.commit({ key, token: claim.claim!.token, version: 'v1-written', modifiedAt: 150, fingerprint: 'W', now: T0 + 1, ttlMs: TTL })
    const record = await store.get(key, T0 + 2)
    t.same(record?.last, { version: 'v1-written', modifiedAt: 150, fingerprint: 'W', changeType: 'updated', committedAt: T0 + 1 })
    t.equal((await store.claim(claimOf(key, 'v1-written', { now: T0 + 3 }))).decision, 'duplicate')
    // the delivered version was handled too: its replay (same modifiedAt, so not stale) is no second write
    const replay = await store.claim(claimOf(key, 'v1', { modifiedAt: 150, now: T0 + 4 }))
    t.same([replay.decision, replay.reason], ['duplicate', 'version_committed'], 'the claimed version counts as committed as well')
  })

  check('tokens this item never issued are unknown_token', async (t, store) => {
    const key = freshKey()
    t.same(await store.commit({ key, token: 'nonsense', now: T0, ttlMs: TTL }), { committed: false, reason: 'unknown_token' })
    t.same(await store.commit({ key, token: '1.abc', now: T0, ttlMs: TTL }), { committed: false, reason: 'unknown_token' })
    const claim = await store.claim(claimOf(key, 'v1'))
    t.same(await store.commit({ key, token: '9.abc', now: T0 + 1, ttlMs: TTL }), { committed: false, reason: 'unknown_token' })
    t.same(await store.commit({ key, token: `${claim.claim!.token}x`, now: T0 + 1, ttlMs: TTL }), {
      committed: false,
      reason: 'unknown_token',
    })
    t.same(await store.commit({ key, token: 'a b', now: T0 + 1, ttlMs: TTL }), { committed: false, reason: 'unknown_token' })
    await store.release({ key, token: claim.claim!.token, now: T0 + 2 })
    t.same(await store.commit({ key, token: claim.claim!.token, now: T0 + 3, ttlMs: TTL }), {
      committed: false,
      reason: 'unknown_token',
    }, 'a released token')
    await store.claim(claimOf(key, 'v1', { now: T0 + 4 }))
    t.same(await store.commit({ key, token: claim.claim!.token, now: T0 + 5, ttlMs: TTL }), {
      committed: false,
      reason: 'unknown_token',
    }, 'a released token stays unknown after the next claim')
    t.equal(await store.get(key, T0 + 6).then((record) => record?.last), undefined)
  })

  check('release frees the claim only for its holder', async (t, store) => {
    const key = freshKey()
    const claim = await store.claim(claimOf(key, 'v1'))
    t.same(await store.release({ key, token: 'nobody', now: T0 + 1 }), { released: false })
    t.same(await store.release({ key, token: claim.claim!.token, now: T0 + 1 }), { released: true })
    t.same(await store.release({ key, token: claim.claim!.token, now: T0 + 2 }), { released: false })
    const next = await store.claim(claimOf(key, 'v1', { now: T0 + 3 }))
    t.equal(next.decision, 'process', 'a released item is free at once')
    t.equal(next.reason, 'new_version')

    t.same(await store.release({ key, token: next.claim!.token, now: T0 + LEASE + 10 }), { released: true }, 'a lapsed lease still holds')
    const a = await store.claim(claimOf(key, 'v1', { now: T0 + LEASE + 20 }))
    await store.claim(claimOf(key, 'v1', { now: T0 + 3 * LEASE }))
    t.same(await store.release({ key, token: a.claim!.token, now: T0 + 3 * LEASE }), { released: false }, 'a superseded one does not')
    t.same(await store.release({ key: freshKey(), token: a.claim!.token, now: T0 }), { released: false }, 'nor on an unknown item')
  })

  check('get shows last, claim and the history newest first (20 kept)', async (t, store) => {
    const key = freshKey()
    t.equal(await store.get(key, T0), null)
    await commitVersion(store, key, 'v1', { modifiedAt: 100, fingerprint: 'A', changeType: 'created', meta: { tenantId: 'graph-tenant' } })
    await store.claim(claimOf(key, 'v2', { modifiedAt: 200, now: T0 + 1 }))
    await store.claim(claimOf(key, 'v3', { modifiedAt: 300, now: T0 + 2 }))
    const record = await store.get(key, T0 + 3)
    t.same(record?.key, key)
    t.same(record?.last, { version: 'v1', modifiedAt: 100, fingerprint: 'A', changeType: 'created', committedAt: T0 })
    t.same(record?.claim, { version: 'v2', expiresAt: T0 + 1 + LEASE })
    t.same(record?.meta, { tenantId: 'graph-tenant' })
    t.same(record?.history, [
      { at: T0 + 2, decision: 'in_flight', version: 'v3', reason: 'claim_live' },
      { at: T0 + 1, decision: 'process', version: 'v2', reason: 'new_version' },
      { at: T0, decision: 'committed', version: 'v1', reason: 'committed' },
      { at: T0, decision: 'process', version: 'v1', reason: 'new_version' },
    ])
    for (let i = 0; i < 25; i++) await store.claim(claimOf(key, 'v1', { now: T0 + 10 + i }))
    const full = await store.get(key, T0 + 100)
    t.equal(full?.history.length, 20)
    t.equal(full?.history[0].at, T0 + 34)
    t.equal(full?.history[19].at, T0 + 15)
  })

  check('forget removes the item', async (t, store) => {
    const key = freshKey()
    await commitVersion(store, key, 'v1')
    t.same(await store.forget(key), { deleted: true })
    t.equal(await store.get(key, T0 + 1), null)
    t.same(await store.forget(key), { deleted: false })
    const again = await store.claim(claimOf(key, 'v1', { now: T0 + 2 }))
    t.equal(again.decision, 'process', 'a forgotten version is processed again')
  })

  check('the newest 100 versions are remembered as duplicates', async (t, store) => {
    const key = freshKey()
    for (let i = 0; i < 130; i++) await commitVersion(store, key, `v${i}`, { now: T0 + i })
    const replay = async (version: string) => (await store.claim(claimOf(key, version, { now: T0 + 300 }))).decision
    t.equal(await replay('v129'), 'duplicate')
    t.equal(await replay('v30'), 'duplicate')
    t.equal(await replay('v29'), 'process', 'forgotten beyond the newest 100 (no modifiedAt to order by)')
  })

  check('the window counts recordings: commits naming another version record two', async (t, store) => {
    const key = freshKey()
    for (let i = 0; i < 60; i++) {
      const claim = await store.claim(claimOf(key, `v${i}`, { now: T0 + i }))
      await store.commit({ key, token: claim.claim!.token, version: 'written', now: T0 + i, ttlMs: TTL })
    }
    // 120 recordings: the newest 100 are v10..v59 and 'written' fifty times
    const replay = async (version: string) => (await store.claim(claimOf(key, version, { now: T0 + 300 }))).decision
    t.equal(await replay('written'), 'duplicate')
    t.equal(await replay('v10'), 'duplicate')
    t.equal(await replay('v9'), 'process', 'both stores forget at the same point')
  })

  check('a commit records the versions its claim covers; a released or replaced claim covers nothing', async (t, store) => {
    const replay = async (key: ItemKey, version: string, now: number) => (await store.claim(claimOf(key, version, { now }))).decision
    // single and batch calls, and commits made alone and together (gathered where the store can)
    const alone = freshKey()
    const single = await store.claim(claimOf(alone, 'v3', { covers: ['v2', 'v1', 'v3', 'v2'] }))
    t.same(await store.commit({ key: alone, token: single.claim!.token, version: 'written', now: T0, ttlMs: TTL }), { committed: true })
    for (const version of ['v1', 'v2', 'v3', 'written']) t.equal(await replay(alone, version, T0 + 1), 'duplicate', `${version} is committed`)
    t.equal((await store.claim(claimOf(alone, 'v1', { now: T0 + 2 }))).reason, 'version_committed')
    t.equal(await replay(alone, 'v4', T0 + 3), 'process', 'a version nobody covered is new')
    const items = [freshKey(), freshKey()]
    const claims = await store.claimMany(items.map((key) => claimOf(key, 'new', { covers: ['old 🙂', 'older "q"'] })))
    await Promise.all(items.map((key, i) => store.commit({ key, token: claims[i].claim!.token, now: T0, ttlMs: TTL })))
    const again = await store.claimMany(items.flatMap((key) => ['old 🙂', 'older "q"'].map((version) => claimOf(key, version, { now: T0 + 1 }))))
    t.same(again.map((claim) => claim.decision), Array(4).fill('duplicate'), 'covered versions of a batch claim')

    // released: the next delivery of a covered version is processed
    const released = freshKey()
    const held = await store.claim(claimOf(released, 'v2', { covers: ['v1'] }))
    await store.release({ key: released, token: held.claim!.token, now: T0 + 1 })
    t.equal(await replay(released, 'v1', T0 + 2), 'process', 'a released claim covered nothing')

    // lapsed and replaced by a claim without covers: that commit records only its own version
    const replaced = freshKey()
    await store.claim(claimOf(replaced, 'v2', { covers: ['v1'] }))
    const next = await store.claim(claimOf(replaced, 'v3', { now: T0 + LEASE + 1 }))
    t.equal(next.reason, 'claim_lapsed')
    await store.commit({ key: replaced, token: next.claim!.token, now: T0 + LEASE + 2, ttlMs: TTL })
    t.equal(await replay(replaced, 'v1', T0 + LEASE + 3), 'process', 'the lapsed claim took its covers with it')

    // lapsed but not replaced: its late commit still commits, covers included
    const late = freshKey()
    const lapsed = await store.claim(claimOf(late, 'v2', { covers: ['v1'] }))
    t.same(await store.commit({ key: late, token: lapsed.claim!.token, now: T0 + LEASE + 5, ttlMs: TTL }), { committed: true })
    t.equal(await replay(late, 'v1', T0 + LEASE + 6), 'duplicate', 'a late commit records what its claim covered')
  })

  check('covered versions count in the window like any other recording', async (t, store) => {
    const key = freshKey()
    // 30 commits recording 3 covers and their own version each: 120 recordings, the newest 100 from v5a on
    for (let i = 0; i < 30; i++) {
      const claim = await store.claim(claimOf(key, `v${i}`, { now: T0 + i, covers: [`v${i}a`, `v${i}b`, `v${i}c`] }))
      await store.commit({ key, token: claim.claim!.token, now: T0 + i, ttlMs: TTL })
    }
    const replay = async (version: string) => (await store.claim(claimOf(key, version, { now: T0 + 300 }))).decision
    t.equal(await replay('v29'), 'duplicate')
    t.equal(await replay('v5a'), 'duplicate')
    t.equal(await replay('v4'), 'process', 'both stores forget at the same point')
  })

  check('records live for ttlMs after their last write', async (t, store) => {
    const key = freshKey()
    // a lease shorter than the TTL (a live claim keeps its record: the test below)
    await store.claim(claimOf(key, 'v1', { now: Date.now(), ttlMs: 150, leaseMs: 100 }))
    t.not(await store.get(key, Date.now()), null)
    const deadline = Date.now() + 5_000
    while ((await store.get(key, Date.now())) !== null) {
      if (Date.now() > deadline) throw new Error('record outlived its ttl')
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    t.pass('expired')
    const fresh = await store.claim(claimOf(key, 'v1', { now: Date.now() }))
    t.equal(fresh.reason, 'new_version')
  })

  check('a sync write replaces the fingerprint: a return to the earlier state is process, the echo unchanged', async (t, store) => {
    const key = freshKey()
    await commitVersion(store, key, 'v1', { modifiedAt: 100, fingerprint: 'F0', changeType: 'updated' })
    await store.recordWritten({ key, fingerprint: 'F1', now: T0 + 1, ttlMs: TTL })
    const record = await store.get(key, T0 + 2)
    t.same(record?.last, { version: 'sync-write', modifiedAt: 100, fingerprint: 'F1', changeType: 'updated', committedAt: T0 + 1 })
    t.same(record?.history[0], { at: T0 + 1, decision: 'written', version: 'sync-write', reason: 'written' })
    t.equal(record?.claim, undefined)

    const echo = await store.claim(claimOf(key, 'v2', { modifiedAt: 200, fingerprint: 'F1', now: T0 + 3 }))
    t.equal(echo.decision, 'unchanged', 'our own write coming back')
    t.equal(echo.last?.fingerprint, 'F1')
    const back = await store.claim(claimOf(key, 'v3', { modifiedAt: 300, fingerprint: 'F0', now: T0 + 4 }))
    t.equal(back.decision, 'process', 'a person setting the item back to the state committed before the write')
    t.equal(back.reason, 'new_version')
    t.same(await store.commit({ key, token: back.claim!.token, now: T0 + 5, ttlMs: TTL }), { committed: true })

    t.equal((await store.claim(claimOf(key, 'v1', { now: T0 + 6 }))).decision, 'duplicate', 'versions are kept')
    t.equal((await store.claim(claimOf(key, 'v0', { modifiedAt: 50, now: T0 + 7 }))).decision, 'stale', 'and the ordering')
  })

  check('a sync write into an item with no record creates one without a version', async (t, store) => {
    const key = freshKey('salesforce')
    await store.recordWritten({ key, fingerprint: '', now: T0, ttlMs: TTL })
    t.equal(await store.get(key, T0), null, 'an empty fingerprint records nothing')
    await store.recordWritten({ key, fingerprint: 'F1', now: T0 + 1, ttlMs: TTL })
    t.same(await store.get(key, T0 + 2), {
      key,
      last: { version: 'sync-write', fingerprint: 'F1', committedAt: T0 + 1 },
      history: [{ at: T0 + 1, decision: 'written', version: 'sync-write', reason: 'written' }],
    })
    t.equal((await store.claim(claimOf(key, 'v1', { fingerprint: 'F1', changeType: 'created', now: T0 + 3 }))).decision, 'unchanged')
    const other = await store.claim(claimOf(key, 'sync-write', { fingerprint: 'F2', now: T0 + 4 }))
    t.equal(other.decision, 'process', 'the marker is no version: an event carrying it is not a duplicate')
    t.same(await store.commit({ key, token: other.claim!.token, now: T0 + 5, ttlMs: TTL }), { committed: true })
    t.same((await store.get(key, T0 + 6))?.last, { version: 'sync-write', fingerprint: 'F2', committedAt: T0 + 5 })
  })

  check('a sync write leaves a held claim alone; its commit keeps a fingerprint only if it is the written one', async (t, store) => {
    const key = freshKey()
    await commitVersion(store, key, 'v0', { fingerprint: 'F0' })
    const held = await store.claim(claimOf(key, 'v1', { fingerprint: 'A', now: T0 + 1 }))
    await store.recordWritten({ key, fingerprint: 'F1', now: T0 + 2, ttlMs: TTL })
    t.same((await store.get(key, T0 + 3))?.claim, { version: 'v1', expiresAt: T0 + 1 + LEASE }, 'the claim holds')
    t.equal((await store.claim(claimOf(key, 'v2', { fingerprint: 'F1', now: T0 + 3 }))).decision, 'in_flight')
    t.same(await store.commit({ key, token: held.claim!.token, now: T0 + 4, ttlMs: TTL }), { committed: true })
    t.same((await store.get(key, T0 + 5))?.last, { version: 'v1', committedAt: T0 + 4 }, 'A may predate the write, F1 may predate A: neither is kept')
    t.equal((await store.claim(claimOf(key, 'v3', { fingerprint: 'A', now: T0 + 6 }))).decision, 'process')

    const same = freshKey()
    const mine = await store.claim(claimOf(same, 'v1', { fingerprint: 'A' }))
    await store.recordWritten({ key: same, fingerprint: 'F1', now: T0 + 1, ttlMs: TTL })
    await store.commit({ key: same, token: mine.claim!.token, fingerprint: 'F1', now: T0 + 2, ttlMs: TTL })
    t.equal((await store.get(same, T0 + 3))?.last?.fingerprint, 'F1', 'committing the written state keeps it')

    const later = freshKey()
    const lapsed = await store.claim(claimOf(later, 'v1', { fingerprint: 'A' }))
    await store.recordWritten({ key: later, fingerprint: 'F1', now: T0 + 1, ttlMs: TTL })
    const next = await store.claim(claimOf(later, 'v2', { fingerprint: 'B', now: T0 + LEASE + 1 }))
    t.equal(next.reason, 'claim_lapsed')
    t.same(await store.commit({ key: later, token: lapsed.claim!.token, now: T0 + LEASE + 2, ttlMs: TTL }), { committed: false, reason: 'lease_expired' })
    await store.commit({ key: later, token: next.claim!.token, now: T0 + LEASE + 3, ttlMs: TTL })
    t.equal((await store.get(later, T0 + LEASE + 4))?.last?.fingerprint, 'B', 'a claim granted after the write read after it: kept')
  })

  check('50 concurrent claims on one item give exactly one process', async (t, store) => {
    const key = freshKey()
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.claim(claimOf(key, `v${i % 5}`, { now: T0 + (i % 3) }))),
    )
    t.equal(results.filter((result) => result.decision === 'process').length, 1)
    t.equal(results.filter((result) => result.decision === 'in_flight').length, 49)
  })

  check('text that JSON escapes, and a lone UTF-16 surrogate, survive a batch claim and concurrent commits', async (t, store) => {
    // quotes, backslashes, control characters, a line separator, a surrogate pair, and (last) a lone surrogate,
    // which no request can carry (the body guard refuses it) but the store must still not fail on
    const texts = ['q"uo\\te\u0000\n\t\u2028🙂', '{"json":[1]}', 'lone \ud800 surrogate']
    const items = texts.map((text) => ({ key: freshKey(), version: `v ${text}`, fingerprint: `fp ${text}` }))
    const claims = await store.claimMany(items.map(({ key, version, fingerprint }) => claimOf(key, version, { modifiedAt: 100, fingerprint })))
    t.same(claims.map((claim) => claim.decision), ['process', 'process', 'process'])
    // commits made together are gathered into one call where the store can
    const commits = await Promise.all(items.map(({ key }, i) => store.commit({ key, token: claims[i].claim!.token, now: T0, ttlMs: TTL })))
    t.same(commits, [{ committed: true }, { committed: true }, { committed: true }])
    const again = await store.claimMany(items.map(({ key, version }) => claimOf(key, version, { now: T0 + 1 })))
    t.same(again.map((claim) => claim.decision), ['duplicate', 'duplicate', 'duplicate'], 'each version is known again')
    for (const [i, { version, fingerprint }] of items.slice(0, 2).entries()) {
      t.same(again[i].last, { version, modifiedAt: 100, fingerprint, committedAt: T0 }, 'well-formed text comes back exactly')
    }
  })

  check('a version or fingerprint stored by a single call is the same one a batch call meets, and the reverse', async (t, store) => {
    const texts = ['lone \ud800 surrogate', 'q"uo\\te\u0000\u2028🙂']
    // (the texts stay out of the assertion messages: a raw U+2028 there would break the TAP stream)
    for (const [i, text] of texts.entries()) {
      const single = freshKey()
      await commitVersion(store, single, `v ${text}`)
      const [fromBatch] = await store.claimMany([claimOf(freshKey(), 'other'), claimOf(single, `v ${text}`, { now: T0 + 1 })].reverse())
      t.equal(fromBatch.decision, 'duplicate', `text ${i}: committed alone, met in a batch`)

      const batched = freshKey()
      const [claim] = await store.claimMany([claimOf(batched, 'first'), claimOf(freshKey(), 'other')])
      // the commit names what was written, with its fingerprint; made together with another, it is gathered
      const [commit] = await Promise.all([
        store.commit({ key: batched, token: claim.claim!.token, version: `w ${text}`, fingerprint: `f ${text}`, now: T0, ttlMs: TTL }),
        store.commit({ key: freshKey(), token: '1.not-issued', now: T0, ttlMs: TTL }),
      ])
      t.same(commit, { committed: true })
      const alone = await store.claim(claimOf(batched, `w ${text}`, { now: T0 + 1 }))
      t.equal(alone.decision, 'duplicate', `text ${i}: committed in a batch, met alone`)
      if (text.isWellFormed()) t.same(alone.last, { version: `w ${text}`, fingerprint: `f ${text}`, committedAt: T0 })
    }
  })

  check('claimMany answers in input order', async (t, store) => {
    const a = freshKey()
    const b = freshKey('salesforce')
    await commitVersion(store, b, 'b1')
    const results = await store.claimMany([
      claimOf(a, 'a1', { now: T0 + 1 }),
      claimOf(b, 'b1', { now: T0 + 1 }),
      claimOf(a, 'a2', { now: T0 + 2 }),
      claimOf(b, 'b2', { now: T0 + 2 }),
    ])
    t.same(
      results.map((result) => result.decision),
      ['process', 'duplicate', 'in_flight', 'process'],
    )
    t.same(await store.claimMany([]), [])
  })

  check('a claimMany made in several steps claims every step at the time it was given: one item, one claim', async (t, store) => {
    // more than one step holds on either store (1,000 claims a turn on memory, 500 a script call on Redis); the item
    // comes first and last, with a lease shorter than the time between its steps
    const item = freshKey()
    const inputs = [claimOf(item, 'first', { leaseMs: 20 }), ...Array.from({ length: 1_009 }, () => claimOf(freshKey(), 'v1')), claimOf(item, 'last')]
    const many = store.claimMany(inputs)
    const until = performance.now() + 50
    while (performance.now() < until) {
      // busy: whatever the steps' order, they are more than the lease apart in time
    }
    const results = await many
    t.equal(results[0].decision, 'process')
    t.equal(results.at(-1)!.decision, 'in_flight', 'the last step still finds the first claim live: the call granted the item one claim')
    t.equal(results.filter((result) => result.decision === 'process').length, inputs.length - 1)
  })
}
