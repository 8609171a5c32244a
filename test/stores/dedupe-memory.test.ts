// The dedupe contract on the memory store, plus what only the memory store has: the item bound.
import t from 'tap'
import { MemoryDedupeStore } from '../../src/stores/memory/dedupe.js'
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

t.test('memory: MEMORY_MAX_ITEMS bounds the items, least recently used first', async (t) => {
  const store = new MemoryDedupeStore({ maxItems: 3 })
  for (const id of ['a', 'b', 'c']) await store.claim(claim(id, T0))
  await store.get(key('a'), T0) // reading does not count as use; the next write does
  await store.claim(claim('a', T0 + 1))
  await store.claim(claim('d', T0 + 2))
  t.equal(store.size, 3)
  t.equal(await store.get(key('b'), T0 + 3), null, 'b was the least recently used')
  t.not(await store.get(key('a'), T0 + 3), null)
  t.not(await store.get(key('d'), T0 + 3), null)
  for (let i = 0; i < 100; i++) await store.claim(claim(`bulk-${i}`, T0 + 4))
  t.equal(store.size, 3)
})
