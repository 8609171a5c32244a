// The dedupe contract through ioredis' Cluster client, against a one-node Redis Cluster this test starts.
import t from 'tap'
import { Redis } from 'ioredis'
import { loadConfig } from '../../src/config.js'
import { createStore } from '../../src/stores/index.js'
import { dedupeKey } from '../../src/stores/redis/dedupe.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'
import { runDedupeContract } from './dedupe-contract.js'

const skip = redisSkipReason()
if (skip) {
  t.test('redis cluster dedupe store', { skip }, async () => {})
} else {
  const server = await RedisServer.start({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1'] })
  t.teardown(() => server.destroy())
  const admin = new Redis(server.url, { protocol: 2 })
  t.teardown(() => admin.disconnect())
  // One node owning every slot is a complete cluster: MOVED handling, slot checks and all.
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  const deadline = Date.now() + 10_000
  while (!String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error('cluster did not come up')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const store = await createStore(loadConfig({ REDIS_CLUSTER_NODES: `127.0.0.1:${server.port}` }))
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
