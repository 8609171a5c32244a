// The bounded TTL map under the memory stores: size bound, recency, lazy expiry and the write-time sweep.
import t from 'tap'
import { BoundedTtlMap } from '../../src/stores/memory/bounded-map.js'

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
