// The dedupe contract through ioredis' Cluster client, against a one-node Redis Cluster this test starts.
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createStore } from '../../src/stores/index.js'
import { dedupeKey } from '../../src/stores/redis/dedupe.js'
import { redisSkipReason } from '../support/redis-server.js'
import { startSingleNodeCluster } from '../support/single-node-cluster.js'
import { runDedupeContract } from './dedupe-contract.js'

const skip = redisSkipReason()
if (skip) {
  t.test('redis cluster dedupe store', { skip }, async () => {})
} else {
  const cluster = await startSingleNodeCluster()
  t.teardown(() => cluster.destroy())
  const { admin } = cluster

  const store = await createStore(loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes }))
  t.teardown(() => store.close())

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
