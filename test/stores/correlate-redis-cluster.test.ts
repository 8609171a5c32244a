// The correlate contract through ioredis' Cluster client, against a one-node Redis Cluster this test starts.
import t from 'tap'
import { Redis } from 'ioredis'
import { loadConfig } from '../../src/config.js'
import { createStore } from '../../src/stores/index.js'
import { correlateKeys } from '../../src/stores/redis/correlate.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'
import { runCorrelateContract } from './correlate-contract.js'

const skip = redisSkipReason()
if (skip) {
  t.test('redis cluster correlate store', { skip }, async () => {})
} else {
  const server = await RedisServer.start({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1'] })
  t.teardown(() => server.destroy())
  const admin = new Redis(server.url, { protocol: 2 })
  t.teardown(() => admin.disconnect())
  // One node owning every slot is a complete cluster: slot checks on every key a script touches included.
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  const deadline = Date.now() + 10_000
  while (!String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error('cluster did not come up')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const store = await createStore(loadConfig({ REDIS_CLUSTER_NODES: `127.0.0.1:${server.port}` }))
  t.teardown(() => store.close())

  t.test('a tenant\'s keys share one slot, whatever the ids', async (t) => {
    t.equal(store.kind, 'redis-cluster')
    const a = correlateKeys('acme', { system: 'outlook', itemId: 'AAMk{x}=' })
    const b = correlateKeys('acme', { system: 'salesforce', itemId: '00U}{1' })
    const slots = await Promise.all([a.link, a.reservation, a.ledger, b.link].map((key) => admin.call('CLUSTER', 'KEYSLOT', key)))
    t.equal(new Set(slots).size, 1)
  })

  runCorrelateContract(t, () => store.correlate)
}
