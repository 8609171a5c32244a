// The dedupe contract through ioredis' Cluster client, against a one-node Redis Cluster this test starts.
import t from 'tap'
import { dedupeKey } from '../../src/stores/redis/dedupe.js'
import { clusterStoreForTest } from '../support/single-node-cluster.js'
import { runDedupeContract } from './dedupe-contract.js'

const setup = await clusterStoreForTest(t, 'redis cluster dedupe store')
if (setup) {
  const { store, admin } = setup

  t.test('redis-cluster: the store is a cluster client and answers', async (t) => {
    t.equal(store.kind, 'redis-cluster')
    await store.ping()
    const key = { tenant: 't', system: 'outlook', itemId: 'with{braces}' }
    const slot = await admin.call('CLUSTER', 'KEYSLOT', dedupeKey(key))
    const sameItem = `css:{${dedupeKey(key).split('{')[1].split('}')[0]}}:other`
    t.equal(await admin.call('CLUSTER', 'KEYSLOT', sameItem), slot, 'any key with the item tag shares its slot')
  })

  runDedupeContract(t, 'redis-cluster', async () => store.dedupe)
}
