// Two sidecar instances on one 3-master Redis Cluster: every script keeps its keys in one slot (a CROSSSLOT would be a 5xx).
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { Redis } from 'ioredis'
import { correlatePrefix } from '../../src/stores/redis/correlate.js'
import { dedupeKey } from '../../src/stores/redis/dedupe.js'
import { toStoreError } from '../../src/stores/redis/connection.js'
import { StoreUnavailableError } from '../../src/stores/store.js'
import { buildTestApp } from '../support/app.js'
import { RedisCluster, redisClusterSkipReason } from '../support/redis-cluster.js'

type Json = Record<string, any>

const skip = redisClusterSkipReason()
if (skip) {
  t.test('two sidecars on a Redis Cluster', { skip }, async () => {})
} else {
  const cluster = await RedisCluster.start({ masters: 3 })
  t.teardown(() => cluster.destroy())
  const admin = new Redis(cluster.servers[0].url, { protocol: 2 })
  t.teardown(() => admin.disconnect())

  // Which master owns a key: CLUSTER KEYSLOT, then the slot ranges of CLUSTER SLOTS.
  const ranges = (await admin.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>
  const ownerOf = async (key: string): Promise<number> => {
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key))
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)
    if (!range) throw new Error(`no master owns slot ${slot}`)
    return range[2][1]
  }

  // Each instance is seeded with a different node: both must discover the whole cluster.
  const [seedA, seedB] = [cluster.nodes[0], cluster.nodes.slice(1).join(',')]
  const a = (await buildTestApp(t, { REDIS_CLUSTER_NODES: seedA })).app
  const b = (await buildTestApp(t, { REDIS_CLUSTER_NODES: seedB })).app

  /** Any answer but 200 is a failure that names the request and the response (a CROSSSLOT would be a 500). */
  const call = async (app: FastifyInstance, method: 'POST' | 'GET' | 'DELETE', url: string, payload?: object, expected = 200): Promise<Json> => {
    const res = await app.inject({ method, url, payload })
    if (res.statusCode !== expected) throw new Error(`${method} ${url} ${JSON.stringify(payload)} answered ${res.statusCode}: ${res.body}`)
    return res.json() as Json
  }
  const post = (app: FastifyInstance, url: string, payload: object) => call(app, 'POST', url, payload)
  const run = Date.now().toString(36)

  t.test('the cluster: three masters own every slot, both apps use the cluster client', async (t) => {
    t.equal(ranges.length >= 3, true, 'slots are split over the masters')
    t.equal(new Set(ranges.map((r) => r[2][1])).size, 3)
    t.equal((await call(a, 'GET', '/readyz')).ready, true)
    t.equal((await call(b, 'GET', '/readyz')).ready, true)
    t.equal(a.store.kind, 'redis-cluster')
    t.equal(b.store.kind, 'redis-cluster')
  })

  t.test('claims, commits and duplicates across both instances for items on every master', async (t) => {
    const items = Array.from({ length: 60 }, (_, i) => ({ system: i % 2 ? 'outlook' : 'salesforce', itemId: `${run}-item-${i}{x}` }))
    const owners = await Promise.all(items.map((item) => ownerOf(dedupeKey({ tenant: 'default', ...item }))))
    t.equal(new Set(owners).size, 3, 'the items spread over all three masters')

    await Promise.all(
      items.map(async (item, i) => {
        const [first, second] = i % 2 ? [a, b] : [b, a]
        const claimed = await post(first, '/dedupe', { ...item, version: 'v1', modifiedAt: 1_000 + i, fields: { subject: `s${i}` } })
        if (claimed.decision !== 'process') throw new Error(`item ${i}: first claim was ${claimed.decision}`)
        const busy = await post(second, '/dedupe', { ...item, version: 'v1' })
        if (busy.decision !== 'in_flight') throw new Error(`item ${i}: claim on the other instance was ${busy.decision}`)
        const committed = await post(second, '/dedupe/commit', { ...item, token: claimed.claim.token })
        if (committed.committed !== true) throw new Error(`item ${i}: commit on the other instance answered ${JSON.stringify(committed)}`)
        const again = await post(first, '/dedupe', { ...item, version: 'v1' })
        if (again.decision !== 'duplicate') throw new Error(`item ${i}: replay was ${again.decision}`)
        const unchanged = await post(second, '/dedupe', { ...item, version: 'v2', modifiedAt: 2_000 + i, fields: { subject: ` s${i} ` } })
        if (unchanged.decision !== 'unchanged') throw new Error(`item ${i}: same fields were ${unchanged.decision}`)
        const stale = await post(first, '/dedupe', { ...item, version: 'v0', modifiedAt: 500 })
        if (stale.decision !== 'stale') throw new Error(`item ${i}: older event was ${stale.decision}`)
        const record = await call(second, 'GET', `/dedupe/${item.system}/${encodeURIComponent(item.itemId)}`)
        if (record.last?.version !== 'v2') throw new Error(`item ${i}: record shows ${JSON.stringify(record.last)}`)
        const released = await post(first, '/dedupe', { ...item, version: 'v3', fields: { subject: 'new' } })
        const release = await post(second, '/dedupe/release', { ...item, token: released.claim?.token ?? 'none' })
        if (release.released !== true) throw new Error(`item ${i}: release on the other instance answered ${JSON.stringify(release)}`)
        const forgotten = await call(first, 'DELETE', `/dedupe/${item.system}/${encodeURIComponent(item.itemId)}`)
        if (forgotten.deleted !== true) throw new Error(`item ${i}: delete answered ${JSON.stringify(forgotten)}`)
        await call(second, 'GET', `/dedupe/${item.system}/${encodeURIComponent(item.itemId)}`, undefined, 404)
      }),
    )
    t.pass('every step answered as the rules say, whichever instance asked')
  })

  t.test('50 concurrent identical claims split over both instances: exactly one process', async (t) => {
    // Three items, chosen to sit on three different masters.
    const chosen: Array<{ system: string; itemId: string }> = []
    const seen = new Set<number>()
    for (let i = 0; chosen.length < 3 && i < 500; i++) {
      const item = { system: 'outlook', itemId: `${run}-race-${i}` }
      const owner = await ownerOf(dedupeKey({ tenant: 'default', ...item }))
      if (!seen.has(owner)) {
        seen.add(owner)
        chosen.push(item)
      }
    }
    t.equal(chosen.length, 3)
    for (const item of chosen) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => post(i % 2 ? a : b, '/dedupe', { ...item, version: 'etag-1', changeType: 'updated' })),
      )
      t.equal(answers.filter((x) => x.decision === 'process').length, 1, `${item.itemId}: one process`)
      t.equal(answers.filter((x) => x.decision === 'in_flight').length, 49, `${item.itemId}: the rest in_flight`)
    }
  })

  t.test('/dedupe/batch with events for many items on different slots, decided on either instance', async (t) => {
    const events = Array.from({ length: 120 }, (_, i) => ({ system: 'outlook', itemId: `${run}-batch-${i}`, version: '1', modifiedAt: 10_000 + i }))
    const owners = await Promise.all(events.map((e) => ownerOf(dedupeKey({ tenant: 'pair-b', system: e.system, itemId: e.itemId }))))
    t.equal(new Set(owners).size, 3, 'the batch touches all three masters')

    const salesforceFanOut = {
      changeEvent: {
        ChangeEventHeader: {
          entityName: 'Event',
          recordIds: [`${run}SF1`, `${run}SF2`, `${run}SF3`],
          changeType: 'UPDATE',
          transactionKey: `${run}-tx`,
          sequenceNumber: 1,
          commitTimestamp: 1773047561000,
        },
      },
    }
    const graph = {
      notification: {
        subscriptionId: '3f6d9a41-7b2e-4c8f-9d15-6a0e2b7c4d11',
        changeType: 'updated',
        resourceData: { '@odata.etag': 'W/"DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAAx9k1c"', id: `${run}-AAMk=` },
        tenantId: 'a1c4e8f2-3b5d-4f6a-8c9e-0d1f2a3b4c5d',
      },
    }
    const first = await post(a, '/dedupe/batch', { tenant: 'pair-b', events: [...events, salesforceFanOut, graph, events[0]] })
    const results = first.results as Json[]
    t.equal(results.length, events.length + 3)
    t.equal(results[0].decision, 'superseded', 'the same event again later in the batch supersedes the first')
    t.ok(results.slice(1, events.length).every((r) => r.decision === 'process'), 'every other item gets process')
    t.same((results[events.length] as unknown as Json[]).map((r) => r.decision), ['process', 'process', 'process'], 'the change event fans out')
    t.equal(results[events.length + 1].decision, 'process')
    t.equal(results[events.length + 2].decision, 'process')

    // Commit half of the claims through the other instance, then ask again there.
    const claims = [...results.slice(1, events.length), results[events.length + 2]] as Json[]
    const committed = claims.filter((_, i) => i % 2 === 0)
    const commits = await Promise.all(
      committed.map((r) => post(b, '/dedupe/commit', { tenant: 'pair-b', system: r.key.system, itemId: r.key.itemId, token: r.claim.token })),
    )
    t.ok(commits.every((c) => c.committed === true), 'every commit on the other instance lands')

    const second = await post(b, '/dedupe/batch', { tenant: 'pair-b', events })
    const committedIds = new Set(committed.map((r) => r.key.itemId))
    const wrong = (second.results as Json[]).filter((r) => r.decision !== (committedIds.has(r.key.itemId) ? 'duplicate' : 'in_flight'))
    t.same(wrong, [], 'committed items are duplicates, held ones in_flight')
  })

  t.test('/correlate: reservations and confirms across instances, for tenants on every master', async (t) => {
    const tenants: string[] = []
    const seen = new Set<number>()
    for (let i = 0; tenants.length < 3 && i < 500; i++) {
      const tenant = `${run}-pair-${i}`
      const owner = await ownerOf(`${correlatePrefix(tenant)}x`)
      if (!seen.has(owner)) {
        seen.add(owner)
        tenants.push(tenant)
      }
    }
    t.equal(tenants.length, 3, 'one tenant per master')

    const fields = { subject: 'Quarterly review', start: '2026-03-10T15:00:00Z', end: '2026-03-10T16:00:00Z', location: 'Room 4.12' }
    await Promise.all(
      tenants.flatMap((tenant) =>
        Array.from({ length: 10 }, async (_, i) => {
          const outlookId = `AAMk-${run}-${i}=`
          const salesforceId = `00U${run}${String(i).padStart(4, '0')}`
          const [first, second] = i % 2 ? [a, b] : [b, a]
          const created = await post(first, '/correlate', { tenant, system: 'outlook', itemId: outlookId, changeType: 'created', fields })
          if (created.action !== 'create') throw new Error(`${tenant}/${i}: first correlate was ${created.action}/${created.reason}`)
          const racing = await post(second, '/correlate', { tenant, system: 'outlook', itemId: outlookId, changeType: 'created', fields })
          if (racing.reason !== 'create_in_flight') throw new Error(`${tenant}/${i}: concurrent create on the other instance was ${racing.action}/${racing.reason}`)
          const confirmed = await post(second, '/correlate/confirm', {
            tenant,
            source: { system: 'outlook', itemId: outlookId },
            target: { system: 'salesforce', itemId: salesforceId },
            written: { fields },
            baseline: fields,
            reservationToken: created.reservation.token,
          })
          if (confirmed.linked !== true) throw new Error(`${tenant}/${i}: confirm answered ${JSON.stringify(confirmed)}`)
          const echo = await post(first, '/correlate', { tenant, system: 'salesforce', itemId: salesforceId, changeType: 'created', fields })
          if (echo.action !== 'skip' || echo.reason !== 'echo') throw new Error(`${tenant}/${i}: our own write came back as ${echo.action}/${echo.reason}`)
          const link = await call(first, 'GET', `/correlate/salesforce/${salesforceId}?tenant=${tenant}`)
          if (link.outlook.itemId !== outlookId || link.state !== 'linked') throw new Error(`${tenant}/${i}: link is ${JSON.stringify(link)}`)
          const update = await post(second, '/correlate', { tenant, system: 'outlook', itemId: outlookId, changeType: 'updated', fields: { ...fields, subject: 'moved' } })
          if (update.action !== 'update' || update.target.itemId !== salesforceId) throw new Error(`${tenant}/${i}: linked update was ${JSON.stringify(update)}`)
          const resolved = await post(first, '/resolve-conflict', {
            tenant,
            outlook: { itemId: outlookId, fields: { ...fields, subject: 'moved' } },
            salesforce: { itemId: salesforceId, fields: { ...fields, location: 'Room 5' } },
          })
          if (resolved.baseSource !== 'stored' || resolved.outcome !== 'resolved') throw new Error(`${tenant}/${i}: resolve-conflict answered ${JSON.stringify(resolved)}`)
          const unlinked = await call(second, 'DELETE', `/correlate/outlook/${encodeURIComponent(outlookId)}?tenant=${tenant}`)
          if (unlinked.deleted !== true) throw new Error(`${tenant}/${i}: unlink answered ${JSON.stringify(unlinked)}`)
          await call(first, 'GET', `/correlate/salesforce/${salesforceId}?tenant=${tenant}`, undefined, 404)
        }),
      ),
    )
    t.pass('create, in-flight, confirm, echo, update, stored baseline and unlink agree across instances')
  })

  t.test('replies of a node that moved or restarted its slots are an outage (503), a script error is not', async (t) => {
    const replyOf = (call: Promise<unknown>) => call.then(() => undefined, (error: unknown) => error)
    // a plain connection to one master asked for a key another master owns: MOVED, as after a failover
    let foreign = 'probe'
    for (let i = 0; (await ownerOf(foreign)) === cluster.servers[0].port; i++) foreign = `probe-${i}`
    const moved = await replyOf(admin.get(foreign))
    t.match(String(moved), /^ReplyError: MOVED/)
    t.type(toStoreError(moved), StoreUnavailableError, 'MOVED')
    // a node restarted empty has lost the scripts: NOSCRIPT
    const noScript = await replyOf(admin.evalsha('0'.repeat(40), 0))
    t.match(String(noScript), /NOSCRIPT/)
    t.type(toStoreError(noScript), StoreUnavailableError, 'NOSCRIPT')
    const scriptError = await replyOf(admin.eval("return redis.call('NO_SUCH_COMMAND')", 0))
    t.notOk(toStoreError(scriptError) instanceof StoreUnavailableError, 'a script that calls what does not exist is a bug, not an outage')
  })
}
