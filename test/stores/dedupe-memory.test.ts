// The dedupe contract on the memory store, plus what only the memory store has: the item bound.
import t from 'tap'
import { CLAIMS_PER_TURN, MemoryDedupeStore } from '../../src/stores/memory/dedupe.js'
import { runDedupeContract } from './dedupe-contract.js'

runDedupeContract(t, 'memory', async () => new MemoryDedupeStore({ maxItems: 10_000 }))

const T0 = 1_800_000_000_000
const key = (itemId: string) => ({ tenant: 'default', system: 'outlook', itemId })
const claim = (itemId: string, now: number, ttlMs = 60_000) => ({ key: key(itemId), version: 'v1', leaseMs: 1_000, now, ttlMs })

t.test('memory: expiry follows the clock the caller passes', async (t) => {
  const store = new MemoryDedupeStore({ maxItems: 10 })
  await store.claim(claim('a', T0, 5_000))
  t.not(await store.get(key('a'), T0 + 4_999), null)
  t.equal(await store.get(key('a'), T0 + 5_000), null)
  t.equal((await store.claim(claim('a', T0 + 5_000))).reason, 'new_version', 'an expired record is gone for claims too')
})

t.test('memory: a claimMany of more than CLAIMS_PER_TURN lets other calls in between its turns, in input order', async (t) => {
  const store = new MemoryDedupeStore({ maxItems: 10_000 })
  const count = CLAIMS_PER_TURN * 2 + 10
  const inputs = Array.from({ length: count }, (_, i) => claim(`many-${i}`, T0))
  inputs.push(claim('many-0', T0)) // the first item again, last: it finds the call's own claim
  const many = store.claimMany(inputs)
  // made once the call's first turn is done: it takes an item of the call's last turn first
  const other = await store.claim(claim(`many-${count - 5}`, T0))
  t.equal(other.decision, 'process', 'the other call ran before the rest of claimMany')
  const results = await many
  t.equal(results.length, count + 1)
  t.equal(results[count - 5].decision, 'in_flight', 'the call found the other claim when its turn came')
  t.equal(results.filter((result) => result.decision === 'process').length, count - 1)
  t.equal(results[count].decision, 'in_flight', 'its claims ran in input order')

  // up to CLAIMS_PER_TURN, one turn: the call is done before anything else runs
  const whole = store.claimMany(Array.from({ length: CLAIMS_PER_TURN }, (_, i) => claim(`whole-${i}`, T0)))
  t.equal((await store.claim(claim(`whole-${CLAIMS_PER_TURN - 1}`, T0))).decision, 'in_flight', 'its last item was claimed already')
  t.equal((await whole).filter((result) => result.decision === 'process').length, CLAIMS_PER_TURN)
})

t.test('memory: a claimMany that fails partway gives back the claims it granted, as the Redis store does', async (t) => {
  for (const [count, failing] of [
    [10, 6],
    [CLAIMS_PER_TURN + 500, CLAIMS_PER_TURN + 200], // in a later turn
  ]) {
    const inputs = Array.from({ length: count }, (_, i) => claim(`failing-${count}-${i}`, T0))
    const store = new MemoryDedupeStore({ maxItems: 10_000 })
    // a claim that cannot be made (a fault, standing for any error thrown while claiming)
    Object.defineProperty(inputs[failing], 'version', {
      get() {
        throw new Error('no version')
      },
    })
    await t.rejects(store.claimMany(inputs), /no version/)
    await new Promise((resolve) => setImmediate(resolve)) // the releases are sent without waiting
    const again = await store.claimMany(inputs.slice(0, failing))
    t.equal(again.filter((result) => result.decision === 'process').length, failing, `every item the failed call of ${count} claimed is free again`)
  }
})

t.test('memory: MEMORY_MAX_ITEMS bounds the items, least recently used first', async (t) => {
  const store = new MemoryDedupeStore({ maxItems: 3 })
  // the claims' 1 s leases have lapsed by the time the bound has to drop one
  for (const id of ['a', 'b', 'c']) await store.claim(claim(id, T0))
  await store.get(key('a'), T0) // reading does not count as use; the next write does
  await store.claim(claim('a', T0 + 1_001))
  await store.claim(claim('d', T0 + 1_002))
  t.equal(store.size, 3)
  t.equal(await store.get(key('b'), T0 + 1_003), null, 'b was the least recently used')
  t.not(await store.get(key('a'), T0 + 1_003), null)
  t.not(await store.get(key('d'), T0 + 1_003), null)
  for (let i = 0; i < 100; i++) await store.claim(claim(`bulk-${i}`, T0 + 1_004))
  t.equal(store.size, 3)
})

t.test('memory: the bound passes over an item whose claim is live, so the item keeps one writer', async (t) => {
  const store = new MemoryDedupeStore({ maxItems: 5 })
  const first = await store.claim(claim('held', T0))
  t.equal(first.decision, 'process')
  // ten other items, each committed, push the held item to the least recently used end and past it
  for (let i = 0; i < 10; i++) {
    const other = await store.claim(claim(`other-${i}`, T0 + 1 + i))
    t.same(await store.commit({ key: key(`other-${i}`), token: other.claim!.token, now: T0 + 1 + i, ttlMs: 60_000 }), { committed: true })
  }
  t.equal(store.size, 5)
  const again = await store.claim(claim('held', T0 + 20))
  t.equal(again.decision, 'in_flight', 'the live claim was kept, not evicted')
  t.same(await store.commit({ key: key('held'), token: first.claim!.token, now: T0 + 21, ttlMs: 60_000 }), { committed: true })

  // once the claim has lapsed the item is an ordinary entry again
  const lapsing = await store.claim(claim('lapsing', T0 + 30))
  t.equal(lapsing.decision, 'process')
  for (let i = 0; i < 10; i++) await store.claim(claim(`late-${i}`, T0 + 2_000 + i))
  t.equal(await store.get(key('lapsing'), T0 + 2_100), null, 'a lapsed claim does not hold its item')
  t.equal(store.size, 5)
})

t.test('memory: a committed claim does not hold its item against the bound, though its lease had not run out', async (t) => {
  const store = new MemoryDedupeStore({ maxItems: 5 })
  const held = await store.claim(claim('committed', T0))
  t.same(await store.commit({ key: key('committed'), token: held.claim!.token, now: T0 + 1, ttlMs: 60_000 }), { committed: true })
  // items that were written into, never claimed: none of them is kept either
  for (let i = 0; i < 5; i++) await store.recordWritten({ key: key(`written-${i}`), fingerprint: 'A', now: T0 + 2 + i, ttlMs: 60_000 })
  t.equal(await store.get(key('committed'), T0 + 10), null, 'dropped first, as the least recently used')
  t.ok(await store.get(key('written-4'), T0 + 10))
})

t.test('memory: a released claim does not hold its item against the bound', async (t) => {
  const store = new MemoryDedupeStore({ maxItems: 5 })
  const released = await store.claim(claim('released', T0))
  t.same(await store.release({ key: key('released'), token: released.claim!.token, now: T0 + 1 }), { released: true })
  for (let i = 0; i < 10; i++) {
    const other = await store.claim(claim(`after-${i}`, T0 + 2 + i))
    await store.commit({ key: key(`after-${i}`), token: other.claim!.token, now: T0 + 2 + i, ttlMs: 60_000 })
  }
  t.equal(await store.get(key('released'), T0 + 100), null, 'dropped in its turn, though its lease had not run out')
})
