// The checkpoint store contract against the memory store and the Redis store (a real redis-server of the test).
import { Redis } from 'ioredis'
import t from 'tap'
import { MemoryCheckpointStore } from '../../src/prefilter/memory-checkpoint-store.js'
import { RedisCheckpointStore } from '../../src/prefilter/redis-checkpoint-store.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'
import { checkpointStoreContract } from './checkpoint-store-contract.js'

checkpointStoreContract(t, 'memory', () => new MemoryCheckpointStore(), { strictFirstClaim: true, validatesCheckpoints: true })

const skip = redisSkipReason()
t.test('redis', { skip }, async (t) => {
  const server = await RedisServer.start()
  t.teardown(() => server.destroy())
  // Both protocols and both reply mappings must work: the sidecar's client is the caller's choice.
  const clients = [
    new Redis(server.url, { lazyConnect: false }),
    new Redis(server.url, { protocol: 2 }),
    new Redis(server.url, { protocol: 3, replyMapping: 'resp3' }),
  ]
  t.teardown(async () => {
    for (const client of clients) await client.quit()
  })
  clients.forEach((client, i) => {
    checkpointStoreContract(t, `redis#${i}`, () => new RedisCheckpointStore(client), { strictFirstClaim: true, validatesCheckpoints: true })
  })

  t.test('keys of one group share a Redis Cluster hash slot', async (t) => {
    const store = new RedisCheckpointStore(clients[0])
    await store.claimOwnership([{ fullyQualifiedNamespace: 'ns.example', eventHubName: 'Graph', consumerGroup: '$Default', partitionId: '0', ownerId: 'a' }])
    await store.updateCheckpoint({ fullyQualifiedNamespace: 'ns.example', eventHubName: 'Graph', consumerGroup: '$Default', partitionId: '0', sequenceNumber: 1, offset: '5' })
    const keys = (await clients[0].keys('prefilter:{ns.example/graph/*')).sort()
    t.same(keys, ['prefilter:{ns.example/graph/%24default}:checkpoint', 'prefilter:{ns.example/graph/%24default}:ownership'])
  })
})
