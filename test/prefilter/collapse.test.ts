// Burst collapse: change type rules, latest etag, counts, the quiet window and the max wait.
import fc from 'fast-check'
import t from 'tap'
import { BurstCollapser, mergeChangeType } from '../../src/prefilter/collapse.js'
import type { ChangeNotification, ChangeType } from '../../src/prefilter/notifications.js'
import { TENANT } from './helpers.js'

const note = (itemId: string, changeType: ChangeType, etag?: string, tenantId = TENANT): ChangeNotification => ({
  kind: 'change',
  tenantId,
  subscriptionId: 'sub',
  itemId,
  resource: `Users/u/Events/${itemId}`,
  changeType,
  etag,
})

t.test('change types merge: created+updated is created, deleted wins whatever the order', async (t) => {
  t.equal(mergeChangeType('created', 'updated'), 'created')
  t.equal(mergeChangeType('updated', 'created'), 'created')
  t.equal(mergeChangeType('updated', 'updated'), 'updated')
  t.equal(mergeChangeType('created', 'deleted'), 'deleted')
  t.equal(mergeChangeType('updated', 'deleted'), 'deleted')
  t.equal(mergeChangeType('deleted', 'updated'), 'deleted')
  t.equal(mergeChangeType('deleted', 'created'), 'deleted')
})

t.test('one burst: latest etag, distinct etags in order, count, enqueued range', async (t) => {
  const c = new BurstCollapser<number>({ quietMs: 100, maxWaitMs: 1000 })
  c.add(note('A', 'created', 'e1'), 5_000, 1, 0)
  c.add(note('A', 'updated', 'e2'), 5_010, 2, 10)
  c.add(note('A', 'updated', 'e2'), 4_990, 3, 20)
  c.add(note('A', 'updated'), 5_030, 4, 30)
  c.add(note('A', 'updated', 'e3'), 5_020, 5, 40)
  t.equal(c.size, 1)
  t.same(c.takeDue(139), [])
  const [burst] = c.takeDue(140)
  t.equal(burst.changeType, 'created')
  t.equal(burst.etag, 'e3')
  t.same(burst.etags, ['e1', 'e2', 'e3'])
  t.equal(burst.collapsed, 5)
  t.equal(burst.firstEnqueuedAt, 4_990)
  t.equal(burst.lastEnqueuedAt, 5_030)
  t.same(burst.tokens, [1, 2, 3, 4, 5])
  t.equal(c.size, 0)
})

t.test('items are keyed by tenant and item id', async (t) => {
  const c = new BurstCollapser<number>({ quietMs: 10, maxWaitMs: 100 })
  c.add(note('A', 'updated', 'x'), 0, 1, 0)
  c.add(note('A', 'updated', 'y', 'other-tenant'), 0, 2, 0)
  c.add(note('B', 'updated', 'z'), 0, 3, 0)
  // Length-prefixed keys: ("ab", "c") and ("a", "bc") stay apart.
  c.add(note('c', 'updated', '1', 'ab'), 0, 4, 0)
  c.add(note('bc', 'updated', '2', 'a'), 0, 5, 0)
  t.equal(c.takeDue(10).length, 5)
})

t.test('the quiet window restarts with every notification; the max wait cuts a never-ending burst', async (t) => {
  const c = new BurstCollapser<number>({ quietMs: 100, maxWaitMs: 250 })
  c.add(note('A', 'updated', 'e0'), 0, 0, 0)
  t.equal(c.nextDueAt(), 100)
  for (let now = 50; now <= 200; now += 50) {
    t.same(c.takeDue(now), [], `nothing due at ${now}`)
    c.add(note('A', 'updated', `e${now}`), now, now, now)
  }
  t.equal(c.nextDueAt(), 250, 'the max wait comes before the quiet end (300)')
  const [cut] = c.takeDue(250)
  t.equal(cut.collapsed, 5)
  t.equal(cut.etag, 'e200')
  t.equal(c.nextDueAt(), undefined)
  c.add(note('A', 'updated', 'late'), 260, 9, 260)
  const [next] = c.takeDue(360)
  t.equal(next.collapsed, 1, 'a later notification starts a new burst')
})

t.test('takeAll empties everything (shutdown flush)', async (t) => {
  const c = new BurstCollapser<number>({ quietMs: 100, maxWaitMs: 1000 })
  c.add(note('A', 'updated', '1'), 0, 1, 0)
  c.add(note('B', 'deleted', '2'), 0, 2, 0)
  t.equal(c.takeAll().length, 2)
  t.equal(c.size, 0)
  t.equal(c.nextDueAt(), undefined)
})

t.test('property: every notification ends in exactly one burst, and each burst follows the rules', async () => {
  const event = fc.record({
    item: fc.constantFrom('A', 'B', 'C', 'D'),
    changeType: fc.constantFrom<ChangeType>('created', 'updated', 'deleted'),
    etag: fc.option(fc.constantFrom('e1', 'e2', 'e3', 'e4'), { nil: undefined }),
    gap: fc.integer({ min: 0, max: 120 }),
  })
  fc.assert(
    fc.property(fc.array(event, { maxLength: 60 }), (events) => {
      const c = new BurstCollapser<number>({ quietMs: 50, maxWaitMs: 200 })
      const out: ReturnType<typeof c.takeAll> = []
      let now = 0
      events.forEach((e, i) => {
        now += e.gap
        out.push(...c.takeDue(now))
        c.add(note(e.item, e.changeType, e.etag), now, i, now)
      })
      out.push(...c.takeDue(now + 1_000))
      const tokens = out.flatMap((b) => b.tokens).sort((a, b) => a - b)
      if (JSON.stringify(tokens) !== JSON.stringify(events.map((_, i) => i))) return false
      for (const burst of out) {
        const merged = burst.tokens.map((i) => events[i])
        if (burst.collapsed !== merged.length) return false
        const types = merged.map((e) => e.changeType)
        const expected = types.includes('deleted') ? 'deleted' : types.includes('created') ? 'created' : 'updated'
        if (burst.changeType !== expected) return false
        const etags = merged.map((e) => e.etag).filter((x) => x !== undefined)
        if (burst.etag !== etags[etags.length - 1]) return false
        if (JSON.stringify(burst.etags) !== JSON.stringify([...new Set(etags)])) return false
        if (burst.lastSeenAt - burst.firstSeenAt > 200) return false
      }
      return true
    }),
  )
})
