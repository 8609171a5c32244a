// The dedupe contract on a real redis-server this test starts, plus what only Redis has: keys, protocol, outages.
import t from 'tap'
import { Redis } from 'ioredis'
import { loadConfig } from '../../src/config.js'
import { createStore, StoreUnavailableError, type Store } from '../../src/stores/index.js'
import { giveBackClaims } from '../../src/stores/give-back.js'
import { CLAIMS_PER_CALL, dedupeKey } from '../../src/stores/redis/dedupe.js'
import { GATHERED_CALLS_LIMIT } from '../../src/stores/redis/gatherer.js'
import { RedisServer, redisSkipReason, scriptCalls } from '../support/redis-server.js'
import { runDedupeContract } from './dedupe-contract.js'

const skip = redisSkipReason()
if (skip) {
  t.test('redis dedupe store', { skip }, async () => {})
} else {
  const server = await RedisServer.start()
  t.teardown(() => server.destroy())

  const open = async (target: RedisServer): Promise<Store> =>
    createStore(loadConfig({ REDIS_URL: target.url, LOG_LEVEL: 'silent' }))

  const shared = await open(server)
  t.teardown(() => shared.close())

  runDedupeContract(t, 'redis', async () => shared.dedupe)

  /** A redis-server of the test's own (to stop, pause or count on), the store on it and a plain client; all closed at teardown. */
  const ownServer = async (t: { teardown(fn: () => unknown): void }) => {
    const own = await RedisServer.start()
    t.teardown(() => own.destroy())
    const store = await open(own)
    t.teardown(() => store.close())
    const raw = new Redis(own.url, { protocol: 2 })
    t.teardown(() => raw.disconnect())
    return { own, store, raw }
  }


  t.test('redis: a record never expires before the claim that holds it', async (t) => {
    const { store, raw } = await ownServer(t)
    const key = { tenant: 'life', system: 'outlook', itemId: 'long-lease' }
    const now = Date.now()
    await store.dedupe.claim({ key, version: 'v1', leaseMs: 3_600_000, now, ttlMs: 60_000 })
    t.ok((await raw.pttl(dedupeKey(key))) > 3_500_000, 'the key lives as long as the lease, not the 1-minute TTL')
    await store.dedupe.claim({ key, version: 'v2', leaseMs: 1_000, now: now + 10, ttlMs: 60_000 })
    t.ok((await raw.pttl(dedupeKey(key))) > 3_500_000, 'an in_flight answer does not shorten it')
    await store.dedupe.recordWritten({ key, fingerprint: 'f', now: now + 20, ttlMs: 60_000 })
    t.ok((await raw.pttl(dedupeKey(key))) > 3_500_000, 'nor does a sync write recorded under the claim')
    const other = { ...key, itemId: 'short-lease' }
    await store.dedupe.claim({ key: other, version: 'v1', leaseMs: 1_000, now, ttlMs: 60_000 })
    const ttl = await raw.pttl(dedupeKey(other))
    t.ok(ttl > 50_000 && ttl <= 60_000, `a lease shorter than the TTL leaves the TTL (${ttl} ms)`)
  })

  t.test('redis: claims that arrive together leave in one script call and are decided as separate calls would', async (t) => {
    const { store, raw } = await ownServer(t)
    const now = Date.now()
    const claim = (itemId: string, version: string) =>
      store.dedupe.claim({ key: { tenant: 'gather', system: 'outlook', itemId }, version, leaseMs: 60_000, now, ttlMs: 3_600_000 })

    // one script call each, whether ioredis sends it as EVAL (a script's first use on the connection) or EVALSHA
    await claim('warm', 'v1')
    const before = await scriptCalls(raw)
    const results = await Promise.all([claim('a', 'v1'), claim('b', 'v1'), claim('a', 'v2'), claim('c', 'v1'), claim('a', 'v1')])
    t.equal((await scriptCalls(raw)) - before, 1, 'five claims, one script call')
    t.same(
      results.map((result) => result.decision),
      ['process', 'process', 'in_flight', 'process', 'in_flight'],
      'in arrival order: the first claim of a holds it, the later ones find it in flight',
    )
    t.ok(results[2].retryAfterMs! > 0)
    t.equal(new Set(results.filter((result) => result.claim).map((result) => result.claim!.token)).size, 3, 'one token per granted claim')
    const committed = await store.dedupe.commit({ key: { tenant: 'gather', system: 'outlook', itemId: 'a' }, token: results[0].claim!.token, now, ttlMs: 3_600_000 })
    t.same(committed, { committed: true }, 'a gathered claim commits like any other')

    // more than one call holds: every claim is answered, in calls of at most GATHERED_CALLS_LIMIT
    const many = GATHERED_CALLS_LIMIT * 2 + 5
    const start = await scriptCalls(raw)
    const answers = await Promise.all(Array.from({ length: many }, (_, i) => claim(`many-${i}`, 'v1')))
    t.equal((await scriptCalls(raw)) - start, 3, `${many} claims in 3 calls`)
    t.ok(answers.every((answer) => answer.decision === 'process'), 'each distinct item is process')
  })

  t.test('redis: a claim set larger than one call goes in bounded calls, one after another, each answered in order', async (t) => {
    const { store, raw } = await ownServer(t)
    const now = Date.now()
    const count = CLAIMS_PER_CALL * 2 + 7
    const inputs = Array.from({ length: count }, (_, i) => ({
      key: { tenant: 'many', system: 'salesforce' as const, itemId: `00U${i}` },
      version: 'tx:1',
      leaseMs: 60_000,
      now,
      ttlMs: 3_600_000,
    }))
    inputs.push({ ...inputs[3], version: 'tx:2' }) // the same item again, in the last call: held by the first
    await store.dedupe.claim({ ...inputs[0], key: { ...inputs[0].key, tenant: 'warm' } })
    const before = await scriptCalls(raw)
    const results = await store.dedupe.claimMany(inputs)
    t.equal((await scriptCalls(raw)) - before, 3, `${inputs.length} claims in three script calls of at most ${CLAIMS_PER_CALL}`)
    t.equal(results.length, inputs.length)
    t.ok(results.slice(0, count).every((result) => result.decision === 'process' && result.claim), 'each new item is granted')
    t.equal(results[count].decision, 'in_flight', 'answers stay in input order across calls')
    const record = await store.dedupe.get(inputs[count - 1].key, now)
    t.equal(record?.claim?.version, 'tx:1', 'the last call ran too')
  })

  t.test('redis: when a later call of a large claim set fails, the claims the earlier calls granted are given back', async (t) => {
    const { store, raw } = await ownServer(t)
    const now = Date.now()
    const inputs = Array.from({ length: CLAIMS_PER_CALL * 2 + 7 }, (_, i) => ({
      key: { tenant: 'partial', system: 'salesforce' as const, itemId: `00U${i}` },
      version: 'tx:1',
      leaseMs: 60_000,
      now,
      ttlMs: 3_600_000,
    }))
    // a key of the wrong type makes the second call's script fail partway
    await raw.set(dedupeKey(inputs[CLAIMS_PER_CALL + 100].key), 'not a hash')
    await t.rejects(store.dedupe.claimMany(inputs))
    const again = await store.dedupe.claimMany(inputs.slice(0, CLAIMS_PER_CALL))
    t.ok(
      again.every((result) => result.decision === 'process'),
      `the first call's items are free again: ${JSON.stringify([...new Set(again.map((result) => result.decision))])}`,
    )
    t.equal((await store.dedupe.get(inputs[CLAIMS_PER_CALL * 2].key, now))?.claim, undefined, 'the third call never ran')
  })

  t.test('redis: commits that arrive together leave in one script call and are answered as separate calls would be', async (t) => {
    const { store, raw } = await ownServer(t)
    const now = Date.now()
    const key = (itemId: string) => ({ tenant: 'gather', system: 'outlook', itemId })
    const claim = (itemId: string, version: string, at = now, leaseMs = 60_000) => store.dedupe.claim({ key: key(itemId), version, leaseMs, now: at, ttlMs: 3_600_000 })
    const commit = (itemId: string, token: string, at = now) => store.dedupe.commit({ key: key(itemId), token, now: at, ttlMs: 3_600_000 })

    const [a, b, lapsed] = await Promise.all([claim('a', 'v1'), claim('b', 'v1'), claim('c', 'v1', now, 10)])
    const taken = await claim('c', 'v2', now + 20) // c's first claim lapsed and another was granted since
    t.equal(taken.decision, 'process')
    // one script call each, whether ioredis sends it as EVAL (a script's first use on the connection) or EVALSHA
    await commit('warm', a.claim!.token)
    const before = await scriptCalls(raw)
    const results = await Promise.all([
      commit('a', a.claim!.token),
      commit('b', b.claim!.token),
      commit('a', a.claim!.token),
      commit('c', lapsed.claim!.token, now + 30),
      commit('b', '999.not-issued'),
    ])
    t.equal((await scriptCalls(raw)) - before, 1, 'five commits, one script call')
    t.same(
      results,
      [{ committed: true }, { committed: true }, { committed: true }, { committed: false, reason: 'lease_expired' }, { committed: false, reason: 'unknown_token' }],
      'each answered as alone: a repeated commit is committed again, a superseded lease never overwrites the newer owner',
    )
    t.equal((await store.dedupe.get(key('a'), now))?.last?.version, 'v1', 'a gathered commit is recorded')
    t.equal((await store.dedupe.get(key('c'), now + 30))?.claim?.version, 'v2', 'the newer owner of c still holds it')
    t.equal((await claim('b', 'v1', now + 40)).decision, 'duplicate', 'the committed version is a duplicate from now on')

    const many = GATHERED_CALLS_LIMIT + 3
    const claims = await Promise.all(Array.from({ length: many }, (_, i) => claim(`many-${i}`, 'v1')))
    const start = await scriptCalls(raw)
    const answers = await Promise.all(claims.map((granted, i) => commit(`many-${i}`, granted.claim!.token)))
    t.equal((await scriptCalls(raw)) - start, 2, `${many} commits in 2 calls`)
    t.ok(answers.every((answer) => answer.committed), 'every commit is committed')
  })

  t.test('redis: when the gathered call fails, each of its claims or commits fails as unavailable', async (t) => {
    const { own, store } = await ownServer(t)
    const now = Date.now()
    const key = (itemId: string) => ({ tenant: 'gather', system: 'outlook', itemId })
    const claim = (itemId: string) => store.dedupe.claim({ key: key(itemId), version: 'v1', leaseMs: 60_000, now, ttlMs: 3_600_000 })
    const held = await Promise.all([claim('p'), claim('q')])
    await own.stop()
    const unavailable = (outcomes: PromiseSettledResult<unknown>[]) =>
      outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof StoreUnavailableError)
    t.ok(unavailable(await Promise.allSettled([claim('x'), claim('y'), claim('z')])), 'three claims rejected as unavailable')
    const commits = held.map((result, i) => store.dedupe.commit({ key: key(['p', 'q'][i]), token: result.claim!.token, now, ttlMs: 3_600_000 }))
    t.ok(unavailable(await Promise.allSettled(commits)), 'two commits rejected as unavailable')
  })

  t.test('redis: covers left behind by a claim are never committed by another claim (sidecars of two versions)', async (t) => {
    const { store, raw } = await ownServer(t)
    const key = { tenant: 't', system: 'outlook', itemId: 'upgrade' }
    const now = Date.now()
    const claim = (version: string, covers?: string[]) => store.dedupe.claim({ key, version, covers, leaseMs: 60_000, now, ttlMs: 3_600_000 })
    t.equal((await claim('k3', ['k2', 'k1'])).decision, 'process')
    const hash = dedupeKey(key)
    t.match(await raw.hget(hash, 'cx'), /^1\.\S+ \["k2","k1"\]$/, 'the covers are stored with their token')
    // a sidecar from before covers releases the claim and grants the next one: neither touches cx
    await raw.hdel(hash, 'ct', 'cv', 'ce', 'cm', 'cf', 'cc', 'wt')
    await raw.hset(hash, 'seq', '2', 'ct', '2.older-sidecar', 'cv', 'k1', 'ce', String(now + 60_000), 'cm', '', 'cf', '', 'cc', '')
    t.same(await store.dedupe.commit({ key, token: '2.older-sidecar', now, ttlMs: 3_600_000 }), { committed: true })
    t.equal((await claim('k2')).decision, 'process', 'the released claim covered nothing: k2 is new')
  })

  t.test('redis: an item lives in one hash-tagged key, whatever its id holds', async (t) => {
    const key = { tenant: 'a:b', system: 'outlook', itemId: 'AAMk}{x}:y{' }
    const name = dedupeKey(key)
    const tags = name.match(/\{[^}]*\}/g) ?? []
    t.equal(tags.length, 1, 'one complete hash tag')
    const tag = tags[0] ?? ''
    t.notMatch(tag.slice(1, -1), /[{}]/, 'no brace from the id reaches the tag')
    t.not(dedupeKey({ ...key, itemId: 'other' }), name)
    t.not(dedupeKey({ ...key, tenant: 'a', system: 'b:outlook' }), name, 'parts cannot run into each other')

    const now = Date.now()
    const first = await shared.dedupe.claim({ key, version: 'v1', leaseMs: 60_000, now, ttlMs: 3_600_000 })
    await shared.dedupe.commit({ key, token: first.claim!.token, now, ttlMs: 3_600_000 })
    const raw = new Redis(server.url, { protocol: 2 })
    t.teardown(() => raw.disconnect())
    t.same(await raw.keys(`css:${tag}*`), [name], 'every dedupe fact of the item is in that key')
    const ttl = await raw.pttl(name)
    t.ok(ttl > 0 && ttl <= 3_600_000, 'and it expires')
  })

  t.test('redis: a busy item stays one bounded hash', async (t) => {
    const key = { tenant: 'bounds', system: 'outlook', itemId: `item-${Date.now()}` }
    const now = 1_800_000_000_000
    for (let i = 0; i < 130; i++) {
      const claim = await shared.dedupe.claim({ key, version: `v${i}`, leaseMs: 60_000, now: now + i, ttlMs: 3_600_000 })
      await shared.dedupe.commit({ key, token: claim.claim!.token, now: now + i, ttlMs: 3_600_000 })
    }
    const raw = new Redis(server.url, { protocol: 2 })
    t.teardown(() => raw.disconnect())
    const fields = await raw.hkeys(dedupeKey(key))
    t.equal(fields.filter((field) => field.startsWith('v:')).length, 100, '100 version marks')
    t.equal(fields.filter((field) => /^h\d+$/.test(field)).length, 20, '20 history slots')
    t.ok(fields.length <= 100 * 2 + 20 + 20, `${fields.length} fields in all`)
  })

  t.test('redis: the client speaks RESP2', async (t) => {
    const probe = new Redis(server.url, { protocol: 2 })
    t.teardown(() => probe.disconnect())
    const clients = String(await probe.call('CLIENT', 'LIST'))
    const ours = clients.split('\n').filter((line) => line.includes('name=calendar-sync-sidecar'))
    t.ok(ours.length > 0, 'the store connection is named')
    for (const line of ours) t.match(line, /\bresp=2\b/)
  })

  t.test('redis: an outage rejects at once with StoreUnavailableError and recovers', async (t) => {
    const { own, store } = await ownServer(t)
    const key = { tenant: 'outage', system: 'outlook', itemId: 'item-1' }
    const claim = () => store.dedupe.claim({ key, version: `v-${Date.now()}`, leaseMs: 1_000, now: Date.now(), ttlMs: 60_000 })
    await store.ping()
    t.equal((await claim()).decision, 'process')

    await own.stop()
    const bounded = <T>(promise: Promise<T>) =>
      Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), 2_000))])
    const calls: Array<() => Promise<unknown>> = [claim, () => store.ping(), () => store.dedupe.get(key, Date.now())]
    for (const call of calls) {
      const outcome = await bounded(call()).then(
        () => 'resolved',
        (err: Error) => err,
      )
      t.type(outcome, StoreUnavailableError, (outcome as Error).message)
    }
    await t.rejects(bounded(store.dedupe.claimMany([{ key, version: 'x', leaseMs: 1_000, now: Date.now(), ttlMs: 60_000 }])), StoreUnavailableError)

    await own.start()
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        await store.ping()
        break
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || Date.now() > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    t.equal((await claim()).decision, 'process', 'serves again after the restart')
  })

  t.test('redis: a server that stops answering times out as StoreUnavailableError', async (t) => {
    const { store, raw: admin } = await ownServer(t)
    const key = { tenant: 'hang', system: 'outlook', itemId: 'item-1' }
    // CLIENT PAUSE holds every client's commands: the socket stays open and nothing answers, like a lost network.
    await admin.call('CLIENT', 'PAUSE', '1200', 'ALL')
    const hung = store.dedupe.claim({ key, version: 'v1', leaseMs: 60_000, now: Date.now(), ttlMs: 60_000 })
    const outcome = await Promise.race([
      hung.then(() => 'resolved', (err: Error) => err),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 2_000)),
    ])
    t.type(outcome, StoreUnavailableError)
    t.match((outcome as Error).message, /timed out/i)
    const deadline = Date.now() + 5_000
    let record
    for (;;) {
      record = await store.dedupe.get(key, Date.now()).then((found) => found, () => undefined)
      if (record !== undefined) break
      if (Date.now() > deadline) throw new Error('store did not answer after the pause')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    t.pass('answers again once the server does')
    // The timed-out claim ran once the pause ended; its caller had a 503 and no token, so it was given back.
    t.same(record?.history.map((entry) => entry.decision), ['released', 'process'], 'the late claim was released right after it ran')
    t.equal(record?.claim, undefined)
    t.equal((await store.dedupe.claim({ key, version: 'v1', leaseMs: 60_000, now: Date.now(), ttlMs: 60_000 })).decision, 'process', 'the retry is processed at once')
  })

  t.test('redis: a batch claim call that times out gives back the claims it grants late', async (t) => {
    const { store, raw: admin } = await ownServer(t)
    const keys = Array.from({ length: 5 }, (_, i) => ({ tenant: 'hang-batch', system: 'outlook', itemId: `item-${i}` }))
    await admin.call('CLIENT', 'PAUSE', '1200', 'ALL')
    await t.rejects(store.dedupe.claimMany(keys.map((key) => ({ key, version: 'v1', leaseMs: 60_000, now: Date.now(), ttlMs: 60_000 }))), StoreUnavailableError)
    const deadline = Date.now() + 5_000
    for (;;) {
      if (await store.ping().then(() => true, () => false)) break
      if (Date.now() > deadline) throw new Error('store did not answer after the pause')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const retried = await store.dedupe.claimMany(keys.map((key) => ({ key, version: 'v1', leaseMs: 60_000, now: Date.now(), ttlMs: 60_000 })))
    t.same(retried.map((result) => result.decision), ['process', 'process', 'process', 'process', 'process'], 'the retried batch finds every item free')
  })

  t.test('redis: claims given back during a stall all go back once Redis resumes', async (t) => {
    const { store, raw: admin } = await ownServer(t)
    const inputs = Array.from({ length: 1_200 }, (_, i) => ({ key: { tenant: 'stall-give-back', system: 'outlook', itemId: `item-${i}` }, version: 'v1', leaseMs: 600_000, now: Date.now(), ttlMs: 600_000 }))
    const granted = (await store.dedupe.claimMany(inputs)).map((result, i) => ({ key: inputs[i].key, token: result.claim!.token, now: Date.now() }))
    await admin.call('CLIENT', 'PAUSE', '1200', 'ALL')
    // every release times out while Redis is paused; each was sent, and runs when it resumes
    giveBackClaims(store.dedupe, granted)
    const deadline = Date.now() + 5_000
    for (;;) {
      if (await store.ping().then(() => true, () => false)) break
      if (Date.now() > deadline) throw new Error('store did not answer after the pause')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const retried = await store.dedupe.claimMany(inputs.map((input) => ({ ...input, now: Date.now() })))
    const held = retried.filter((result) => result.decision !== 'process').length
    t.equal(held, 0, 'no item is left held until its lease (a release a group at a time stopped at the first group that timed out)')
  })

  t.test('redis: createStore reports the kind and closes cleanly', async (t) => {
    const store = await open(server)
    t.equal(store.kind, 'redis')
    await store.ping()
    await store.close()
    await t.rejects(store.ping(), StoreUnavailableError)
  })
}
