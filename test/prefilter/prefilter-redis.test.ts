// The pre-filter on the Redis checkpoint store: no checkpoint past a failing forward, no loss across a restart,
// and two consumers sharing the partitions.
import { EventHubProducerClient } from '@azure/event-hubs'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import t from 'tap'
import { type PrefilterHandle, startPrefilter } from '../../src/prefilter/index.js'
import { RedisCheckpointStore } from '../../src/prefilter/redis-checkpoint-store.js'
import { AmqpPeer } from '../support/amqp-peer.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'
import { change, collection, fastTuning, ForwardTarget, prefilterConfig, silentLogger, validation, waitUntil } from './helpers.js'

const retryOptions = { maxRetries: 0, retryDelayInMs: 100, timeoutInMs: 3_000 }

t.test('pre-filter with redis checkpoints', { skip: redisSkipReason() }, async (t) => {
  const server = await RedisServer.start()
  const redis = new Redis(server.url)
  const peer = await AmqpPeer.start({ hubs: { failing: 1, shared: 4 } })
  const target = await ForwardTarget.start()
  const closers: Array<() => Promise<unknown>> = []
  t.teardown(async () => {
    for (const close of closers.reverse()) await close()
    await target.stop()
    await peer.stop()
    await redis.quit()
    await server.destroy()
  })
  const store = new RedisCheckpointStore(redis)
  const checkpoints = async (hub: string) =>
    Object.fromEntries((await store.listCheckpoints('localhost', hub, '$Default')).map((c) => [c.partitionId, c.sequenceNumber]))
  const start = async (hub: string, overrides: Parameters<typeof prefilterConfig>[0] = {}): Promise<PrefilterHandle> => {
    const handle = await startPrefilter(
      prefilterConfig({ connectionString: peer.connectionString(hub), forwardUrl: target.url, checkpointStore: 'redis', ...overrides }),
      { logger: silentLogger(), registry: new Registry(), redis, shutdownGraceMs: 1_000, tuning: fastTuning() },
    )
    closers.push(() => handle.close())
    return handle
  }
  const producer = (hub: string) => {
    const client = new EventHubProducerClient(peer.connectionString(hub), { retryOptions })
    closers.push(() => client.close())
    return client
  }

  t.test('while the target fails nothing is checkpointed past it; after a restart the item is forwarded', async (t) => {
    const send = producer('failing')
    target.failAlways(503)
    const first = await start('failing', { unreadyAfterMs: 300 })
    await send.sendBatch([
      { body: collection(validation()) },
      { body: collection(change({ itemId: 'F', changeType: 'created', etag: 'f1' })) },
      { body: collection(change({ itemId: 'F', etag: 'f2' })) },
      { body: collection(validation()) },
    ])
    await waitUntil(() => target.attempts >= 3, 'several forward attempts')
    await waitUntil(() => !first.isReady(), 'the pre-filter to turn unready')
    t.same(await checkpoints('failing'), { '0': 0 }, 'only the validation event before F is checkpointed')
    const status = first.status()
    t.equal(status.lastForwardFailure?.reason, 'http_5xx')
    t.ok((status.forwardFailingForMs ?? 0) >= 300)
    t.equal(status.partitions[0].checkpointLag, 3)
    await first.close()
    t.same(await checkpoints('failing'), { '0': 0 }, 'the shutdown did not checkpoint what was not forwarded')
    t.equal(target.changesFor('F').length, 0)

    target.recover()
    const second = await start('failing')
    await waitUntil(() => target.changesFor('F').length === 1, 'F after the restart')
    const [f] = target.changesFor('F')
    t.same([f.changeType, f.etag, f.collapsed], ['created', 'f2', 2])
    await waitUntil(async () => (await checkpoints('failing'))['0'] === 3, 'the checkpoint past F')
    t.equal(second.isReady(), true)
  })

  t.test('two consumers share the partitions through the Redis store', async (t) => {
    const send = producer('shared')
    const one = await start('shared')
    const two = await start('shared')
    const owned = (handle: PrefilterHandle) => handle.status().partitions.filter((p) => p.state === 'open').length
    await waitUntil(() => owned(one) === 2 && owned(two) === 2, 'two partitions each', 15_000)
    // A claimed partition attaches its receiver a moment later.
    const receivers = await waitUntil(() => (peer.receivers('shared').length === 4 ? peer.receivers('shared') : undefined), 'four receivers')
    t.equal(new Set(receivers.map((r) => r.partitionId)).size, 4)

    const items = Array.from({ length: 12 }, (_, i) => `S${i}`)
    for (const itemId of items) {
      await send.sendBatch(
        [{ body: collection(change({ itemId, changeType: 'created', etag: `${itemId}-1` })) }, { body: collection(change({ itemId, etag: `${itemId}-2` })) }],
        { partitionKey: itemId },
      )
    }
    await waitUntil(() => items.every((itemId) => target.changesFor(itemId).length > 0), 'every item forwarded')
    for (const itemId of items) {
      const messages = target.changesFor(itemId)
      t.equal(messages.length, 1, `${itemId} once`)
      t.same([messages[0].changeType, messages[0].etag, messages[0].collapsed], ['created', `${itemId}-2`, 2])
    }
    const lastSeq = (id: string) => peer.events('shared', id).length - 1
    await waitUntil(async () => {
      const now = await checkpoints('shared')
      return ['0', '1', '2', '3'].every((id) => lastSeq(id) < 0 || now[id] === lastSeq(id))
    }, 'checkpoints of both consumers')

    // One leaves: it gives its partitions up and the other takes them over from the checkpoints.
    await one.close()
    await waitUntil(() => owned(two) === 4, 'the survivor to own all partitions', 15_000)
    await send.sendBatch([{ body: collection(change({ itemId: 'late', etag: 'l1' })) }], { partitionKey: 'late' })
    await waitUntil(() => target.changesFor('late').length === 1, 'the late item')
    t.equal(items.reduce((n, itemId) => n + target.changesFor(itemId).length, 0), items.length, 'no item forwarded again')
  })
})
