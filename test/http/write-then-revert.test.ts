// A sync write into an item moves its /dedupe fingerprint: a person setting it back is processed, its echo is not.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { StoreUnavailableError } from '../../src/stores/store.js'
import { buildTestApp } from '../support/app.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'

type Json = Record<string, any>

const F0 = { subject: 'Budget review', start: '2026-03-10T15:00:00Z', end: '2026-03-10T16:00:00Z', location: 'Room 4' }
const F1 = { ...F0, subject: 'Budget review (moved)', start: '2026-03-10T16:00:00Z', end: '2026-03-10T17:00:00Z' }

const ids = () => ({ outlook: `AAMk=${randomUUID()}`, salesforce: `00U${randomUUID().replaceAll('-', '').slice(0, 15)}` })

function client(app: FastifyInstance) {
  const post = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, payload })
    return { status: res.statusCode, body: res.json() as Json, headers: res.headers }
  }
  const dedupe = async (itemId: string, version: string, fields: object) => {
    const res = await post('/dedupe', { system: 'outlook', itemId, version, fields })
    if (res.status !== 200) throw new Error(`/dedupe answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body
  }
  const commit = async (itemId: string, token: string, fields: object) =>
    (await post('/dedupe/commit', { system: 'outlook', itemId, token, fields })).body
  const record = async (itemId: string) => {
    const res = await app.inject({ method: 'GET', url: `/dedupe/outlook/${encodeURIComponent(itemId)}` })
    return { status: res.statusCode, body: res.json() as Json }
  }
  /** The Salesforce -> Outlook flow wrote `fields` into the Outlook item. */
  const confirmWrite = (pair: { outlook: string; salesforce: string }, fields: object, extra: object = {}) =>
    post('/correlate/confirm', {
      source: { system: 'salesforce', itemId: pair.salesforce },
      target: { system: 'outlook', itemId: pair.outlook },
      written: { fields },
      baseline: fields,
      ...extra,
    })
  return { post, dedupe, commit, record, confirmWrite }
}

function scenarios(t: Test, build: (t: Test) => Promise<FastifyInstance>) {
  t.test('a person setting the item back to the state committed before a sync write is processed', async (t) => {
    const http = client(await build(t))
    const pair = ids()
    const first = await http.dedupe(pair.outlook, 'e1', F0)
    t.equal(first.decision, 'process')
    t.same(await http.commit(pair.outlook, first.claim.token, F0), { committed: true })

    const confirmed = await http.confirmWrite(pair, F1)
    t.equal(confirmed.status, 200)
    t.equal(confirmed.body.linked, true)

    const revert = await http.dedupe(pair.outlook, 'e3', F0)
    t.equal(revert.decision, 'process', 'F0 equals the fingerprint committed before the write, yet the item held F1')
    t.equal(revert.last.version, 'sync-write')

    const { status, body } = await http.record(pair.outlook)
    t.equal(status, 200)
    t.match(body.history[1], { decision: 'written', version: 'sync-write', reason: 'written' })
    t.match(body.history[0], { decision: 'process', version: 'e3' })
  })

  t.test('the echo of our own write is unchanged, and a repeated confirm changes nothing for it', async (t) => {
    const http = client(await build(t))
    const pair = ids()
    const first = await http.dedupe(pair.outlook, 'e1', F0)
    await http.commit(pair.outlook, first.claim.token, F0)
    t.equal((await http.confirmWrite(pair, F1)).status, 200)
    t.equal((await http.confirmWrite(pair, F1)).status, 200, 'the retry of a confirm whose answer was lost')

    const echo = await http.dedupe(pair.outlook, 'e2', { ...F1, subject: '  Budget review   (moved) ' })
    t.equal(echo.decision, 'unchanged', 'nothing new: the item holds what we wrote')
    t.equal((await http.dedupe(pair.outlook, 'e2', F1)).decision, 'duplicate')
  })

  t.test('a created item gets a record from its first confirm; a delete records nothing', async (t) => {
    const http = client(await build(t))
    const created = ids()
    t.equal((await http.record(created.outlook)).status, 404)
    t.equal((await http.confirmWrite(created, F1)).status, 200)
    const { body } = await http.record(created.outlook)
    t.same(body.last.version, 'sync-write')
    t.same(body.history.map((entry: Json) => entry.decision), ['written'])
    t.equal(body.claim, undefined)
    t.equal((await http.dedupe(created.outlook, 'c1', F1)).decision, 'unchanged', 'the created copy coming back')

    const gone = ids()
    await http.confirmWrite(gone, F1)
    const before = (await http.record(gone.outlook)).body.history.length
    const deleted = await http.post('/correlate/confirm', { source: { system: 'salesforce', itemId: gone.salesforce }, target: { system: 'outlook', itemId: gone.outlook }, deleted: true })
    t.equal(deleted.status, 200)
    t.equal((await http.record(gone.outlook)).body.history.length, before, 'deleted true writes nothing into /dedupe')
    const both = ids()
    t.equal((await http.confirmWrite(both, F1, { deleted: true })).status, 200)
    t.equal((await http.record(both.outlook)).status, 404, 'not even with written beside it')

    const other = ids()
    await http.post('/correlate/confirm', { source: { system: 'salesforce', itemId: other.salesforce }, target: { system: 'outlook', itemId: other.outlook }, baseline: F1 })
    t.equal((await http.record(other.outlook)).status, 404, 'nor does a confirm without written')
  })
}

t.test('memory store', async (t) => scenarios(t, async (t) => (await buildTestApp(t)).app))

const skip = redisSkipReason()
t.test('redis store', { skip }, async (t) => {
  const server = await RedisServer.start()
  t.teardown(() => server.destroy())
  scenarios(t, async (t) => (await buildTestApp(t, { REDIS_URL: server.url })).app)
})

t.test('the dedupe update failing answers 503, and the repeated confirm then records it', async (t) => {
  const { app, store } = await buildTestApp(t, { STORE_OUTAGE_POLICY: 'fail-open' })
  const recordWritten = store.dedupe.recordWritten.bind(store.dedupe)
  let failures = 1
  store.dedupe.recordWritten = async (input) => {
    if (failures-- > 0) throw new StoreUnavailableError('injected outage')
    return recordWritten(input)
  }
  const http = client(app)
  const pair = ids()
  const first = await http.dedupe(pair.outlook, 'e1', F0)
  await http.commit(pair.outlook, first.claim.token, F0)

  const failed = await http.confirmWrite(pair, F1)
  t.equal(failed.status, 503, 'no fail-open here: a skipped record would bring the lost revert back')
  t.ok(failed.headers['retry-after'])
  t.equal((await http.dedupe(pair.outlook, 'e2', F0)).decision, 'unchanged', 'not recorded yet (the old answer)')

  const retried = await http.confirmWrite(pair, F1)
  t.equal(retried.status, 200)
  t.equal(retried.body.linked, true)
  t.equal((await http.dedupe(pair.outlook, 'e3', F0)).decision, 'process')
})
