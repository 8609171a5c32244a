// The bounded TTL map under the memory stores: size bound, recency, lazy expiry and the write-time sweep.
import t from 'tap'
import { BoundedTtlMap, BoundedTtlSlots } from '../../src/stores/memory/bounded-map.js'

t.test('drops the least recently used entry past the bound', async (t) => {
  const evicted: string[] = []
  const map = new BoundedTtlMap<number>({ maxEntries: 2, onEvict: (key) => evicted.push(key) })
  map.set('a', 1, 100, 0)
  map.set('b', 2, 100, 0)
  t.equal(map.get('a', 0), 1, 'get marks a as used')
  map.set('c', 3, 100, 0)
  t.same(evicted, ['b'])
  t.equal(map.peek('b', 0), undefined)
  t.equal(map.peek('a', 0), 1)
  t.equal(map.size, 2)
})

t.test('keeps recency order across many evictions and uses', async (t) => {
  const evicted: string[] = []
  const map = new BoundedTtlMap<number>({ maxEntries: 3, onEvict: (key) => evicted.push(key) })
  for (const key of ['a', 'b', 'c', 'd']) map.set(key, 0, 100, 0)
  map.get('b', 0)
  map.set('e', 0, 100, 0)
  map.set('b', 1, 100, 0)
  map.set('f', 0, 100, 0)
  map.set('g', 0, 100, 0)
  t.same(evicted, ['a', 'c', 'd', 'e'])
  for (let i = 0; i < 1_000; i++) map.set(`k${i}`, i, 100, 0)
  t.equal(map.size, 3)
  t.equal(map.peek('k999', 0), 999)
  t.equal(map.peek('k996', 0), undefined)
})

t.test('expired entries read as absent and are dropped', async (t) => {
  const map = new BoundedTtlMap<string>({ maxEntries: 10 })
  map.set('a', 'x', 50, 0)
  t.equal(map.peek('a', 49), 'x')
  t.equal(map.peek('a', 50), undefined)
  t.equal(map.size, 1, 'peek leaves it for the sweep')
  t.equal(map.get('a', 50), undefined)
  t.equal(map.size, 0, 'get drops it')
  t.throws(() => new BoundedTtlMap({ maxEntries: 0 }))
})

t.test('writes sweep expired entries nobody reads again', async (t) => {
  const map = new BoundedTtlMap<number>({ maxEntries: 1_000, sweepPerWrite: 4 })
  for (let i = 0; i < 100; i++) map.set(`old-${i}`, i, 10, 0)
  for (let i = 0; i < 60; i++) map.set(`new-${i}`, i, 1_000, 20)
  t.equal(map.size, 60, 'every expired entry was swept by later writes')
  t.equal(map.delete('new-0'), true)
  t.equal(map.delete('new-0'), false)
  map.clear()
  t.equal(map.size, 0)
})

t.test('with the default sweep, a steady stream of short-lived entries stays near the live ones', async (t) => {
  const map = new BoundedTtlMap<number>({ maxEntries: 1_000_000 })
  // each entry lives for 100 writes; nothing reads them again
  for (let i = 0; i < 20_000; i++) map.set(`k-${i}`, i, i + 100, i)
  t.ok(map.size <= 300, `holds ${map.size} entries, of which 100 are live`)
})

t.test('the bound passes over an entry until its keepUntil, and holds when too many are kept', async (t) => {
  const evicted: string[] = []
  const map = new BoundedTtlMap<number>({ maxEntries: 2, onEvict: (key) => evicted.push(key) })
  map.set('kept', 0, 1_000, 0, 500)
  map.set('b', 0, 1_000, 1)
  map.set('c', 0, 1_000, 2)
  t.same(evicted, ['b'], 'the oldest entry was kept; the next one went')
  t.equal(map.peek('kept', 3), 0)
  map.set('d', 0, 1_000, 3)
  t.same(evicted, ['b', 'c'], 'passing over moved it to the newest end')
  map.set('e', 0, 1_000, 500)
  t.same(evicted, ['b', 'c', 'kept'], 'at keepUntil the entry is an ordinary one again')

  const crowded = new BoundedTtlMap<number>({ maxEntries: 10, onEvict: (key) => evicted.push(key) })
  evicted.length = 0
  for (let i = 0; i < 10; i++) crowded.set(`k${i}`, i, 1_000, 0, 500)
  crowded.set('one-more', 0, 1_000, 0, 500)
  t.equal(crowded.size, 10, 'the bound holds when every entry is kept')
  t.same(evicted, ['k0'], 'with its passes spent it drops the oldest, never the entry just written')
  crowded.set('two-more', 0, 1_000, 0, 500)
  t.same(evicted, ['k0', 'k1'], 'and goes on dropping the oldest at once')
  t.equal(crowded.peek('two-more', 0), 0)
})

t.test('a burst of kept entries survives the bound while under one entry in seventeen is kept', async (t) => {
  const evicted: string[] = []
  const map = new BoundedTtlMap<number>({ maxEntries: 1_000, onEvict: (key) => evicted.push(key) })
  for (let i = 0; i < 50; i++) map.set(`held-${i}`, i, 100_000, 0, 50_000)
  // 50 of 1,000: each round of the map earns a sixteenth of a pass for each of the 950 it drops, more than the 50 spent
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 1_000; i++) map.set(`other-${round}-${i}`, i, 100_000, 1 + round)
  }
  t.equal(map.size, 1_000)
  t.equal(evicted.filter((key) => key.startsWith('held-')).length, 0, 'no kept entry was dropped in 20,000 writes')
  for (let i = 0; i < 50; i++) t.equal(map.peek(`held-${i}`, 30), i)
  // released early: an ordinary entry again
  for (let i = 0; i < 50; i++) map.unkeep(`held-${i}`)
  for (let i = 0; i < 1_000; i++) map.set(`late-${i}`, i, 100_000, 40)
  t.equal(evicted.filter((key) => key.startsWith('held-')).length, 50, 'unkept entries go in their turn')
})

t.test('values that are their own slots: held as they are, read with the expiry and keepUntil they have at the time', async (t) => {
  // as the dedupe store's items: keepUntil follows the live claim, expiresAt is set before each write
  class Item {
    expiresAt = 0
    claimUntil: number | undefined = undefined
    get keepUntil(): number {
      return this.claimUntil ?? 0
    }
  }
  const evicted: string[] = []
  const slots = new BoundedTtlSlots<Item>({ maxEntries: 2, onEvict: (key) => evicted.push(key) })
  const claimed = new Item()
  claimed.expiresAt = 1_000
  claimed.claimUntil = 500
  slots.set('claimed', claimed, 0)
  t.equal(slots.peek('claimed', 0), claimed, 'the value itself, no copy')
  for (const [i, key] of ['b', 'c'].entries()) {
    const item = new Item()
    item.expiresAt = 1_000
    slots.set(key, item, i + 1)
  }
  t.same(evicted, ['b'], 'passed over while its claim lives')
  claimed.claimUntil = undefined // released: an ordinary entry again, with no call to the map
  slots.set('d', Object.assign(new Item(), { expiresAt: 1_000 }), 3)
  t.same(evicted, ['b', 'c'], 'it had moved to the newest end when passed over')
  slots.set('e', Object.assign(new Item(), { expiresAt: 1_000 }), 4)
  t.same(evicted, ['b', 'c', 'claimed'])

  const item = Object.assign(new Item(), { expiresAt: 100 })
  slots.set('f', item, 5)
  t.equal(slots.peek('f', 100), undefined, 'expired at its expiresAt')
  item.expiresAt = 200 // a write sets the new expiry, then writes the slot again
  slots.set('f', item, 100)
  t.equal(slots.get('f', 150), item)
  t.equal(slots.get('f', 200), undefined, 'get drops an expired slot')
  t.equal(slots.peekAny('f'), undefined)
})
