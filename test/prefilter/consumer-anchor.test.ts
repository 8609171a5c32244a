// Which partitions the pre-filter anchors before their first event: those without a checkpoint, and every one whose
// checkpoints cannot be listed (an anchor can repeat events, a missing one can skip them).
import { Redis } from 'ioredis'
import t from 'tap'
import { needsAnchor } from '../../src/prefilter/consumer.js'
import { MemoryCheckpointStore } from '../../src/prefilter/memory-checkpoint-store.js'
import { RedisCheckpointStore } from '../../src/prefilter/redis-checkpoint-store.js'
import { freePort } from '../support/redis-server.js'

const partition = (partitionId: string) => ({ fullyQualifiedNamespace: 'localhost', eventHubName: 'graph', consumerGroup: '$Default', partitionId })

t.test('a partition is anchored while it has no checkpoint of its own', async (t) => {
  const store = new MemoryCheckpointStore()
  const errors: Error[] = []
  t.equal(await needsAnchor(store, partition('0'), (error) => errors.push(error)), true, 'no checkpoint at all')
  await store.updateCheckpoint({ ...partition('0'), sequenceNumber: 41, offset: '4096' })
  t.equal(await needsAnchor(store, partition('0'), (error) => errors.push(error)), false, 'its checkpoint is where it starts')
  t.equal(await needsAnchor(store, partition('1'), (error) => errors.push(error)), true, 'another partition\'s checkpoint is not its own')
  t.same(errors, [])
})

t.test('a partition whose checkpoints cannot be listed is anchored, and the failure is reported', async (t) => {
  // A real Redis checkpoint store whose server is not there: the listing fails at once.
  const client = new Redis({ host: '127.0.0.1', port: await freePort(), lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  t.teardown(() => client.disconnect())
  const errors: Error[] = []
  t.equal(await needsAnchor(new RedisCheckpointStore(client), partition('0'), (error) => errors.push(error)), true)
  t.equal(errors.length, 1, 'the listing error went to the error handler')
})
