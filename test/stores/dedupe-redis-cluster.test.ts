// The dedupe contract through ioredis' Cluster client, against a one-node Redis Cluster this test starts.
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createStore } from '../../src/stores/index.js'
import { dedupeKey } from '../../src/stores/redis/dedupe.js'
import { clusterStoreForTest } from '../support/single-node-cluster.js'
import { runDedupeContract } from './dedupe-contract.js'

const setup = await clusterStoreForTest(t, 'redis cluster dedupe store')
if (setup) {
  const { store, admin, url } = setup

  t.test('redis-cluster: the store is a cluster client and answers', async (t) => {
    t.equal(store.kind, 'redis-cluster')
    await store.ping()
    const key = { tenant: 't', system: 'outlook', itemId: 'with{braces}' }
    const slot = await admin.call('CLUSTER', 'KEYSLOT', dedupeKey(key))
    const sameItem = `css:{${dedupeKey(key).split('{')[1].split('}')[0]}}:other`
    t.equal(await admin.call('CLUSTER', 'KEYSLOT', sameItem), slot, 'any key with the item tag shares its slot')
  })

  const claimsOf = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({ key: { tenant: 'slots', system: 'outlook', itemId: `${prefix}-${i}` }, version: 'v1', leaseMs: 60_000, now: Date.now(), ttlMs: 3_600_000 }))

  t.test('redis-cluster: concurrent claims of items in different slots each go alone and are all granted', async (t) => {
    const inputs = claimsOf('apart', 20)
    const slots = new Set(await Promise.all(inputs.map((input) => admin.call('CLUSTER', 'KEYSLOT', dedupeKey(input.key)))))
    t.ok(slots.size > 1, `${slots.size} slots`)
    const results = await Promise.all(inputs.map((input) => store.dedupe.claim(input)))
    t.ok(results.every((result) => result.decision === 'process'), 'no CROSSSLOT: every claim is process')
    const batch = await store.dedupe.claimMany(claimsOf('batch', 20))
    t.ok(batch.every((result) => result.decision === 'process'), 'a batch over several slots is process too')
  })

  t.test('redis-cluster: when one claim of a batch fails, the claims granted beside it are given back', async (t) => {
    const inputs = claimsOf('partial', 20)
    // a key of the wrong type makes that one claim's script fail; the others, sent alone, are granted
    await admin.set(dedupeKey(inputs[7].key), 'not a hash')
    await t.rejects(store.dedupe.claimMany(inputs))
    const others = inputs.filter((_, i) => i !== 7)
    const again = await store.dedupe.claimMany(others)
    t.ok(
      again.every((result) => result.decision === 'process'),
      `the other items are free again: ${JSON.stringify([...new Set(again.map((result) => result.decision))])}`,
    )
  })

  // A plain client on one endpoint that refuses scripts over several slots, as a proxy over a sharded Redis does.
  t.test('redis on an endpoint that refuses cross-slot scripts: gathered claims and commits fall back to one call each', async (t) => {
    const single = await createStore(loadConfig({ REDIS_URL: url, LOG_LEVEL: 'silent' }))
    t.teardown(() => single.close())
    t.equal(single.kind, 'redis')
    const first = await Promise.all(claimsOf('proxied', 12).map((input) => single.dedupe.claim(input)))
    t.ok(first.every((result) => result.decision === 'process'), 'the refused call is resent claim by claim, nothing lost')
    const again = await Promise.all(claimsOf('proxied', 12).map((input) => single.dedupe.claim({ ...input, version: 'v2' })))
    t.ok(again.every((result) => result.decision === 'in_flight'), 'the first claims hold their items: each was granted once')
    // a second sidecar whose first gathered call is a commit
    const other = await createStore(loadConfig({ REDIS_URL: url, LOG_LEVEL: 'silent' }))
    t.teardown(() => other.close())
    const inputs = claimsOf('proxied', 12)
    const commits = await Promise.all(first.map((result, i) => other.dedupe.commit({ key: inputs[i].key, token: result.claim!.token, now: Date.now(), ttlMs: 3_600_000 })))
    t.ok(commits.every((result) => result.committed), 'gathered commits fall back the same way, and all commit')
    const batch = await single.dedupe.claimMany(claimsOf('proxied-batch', 12))
    t.ok(batch.every((result) => result.decision === 'process'), 'a batch goes claim by claim as well')
  })

  runDedupeContract(t, 'redis-cluster', async () => store.dedupe)
}
