// The local AMQP peer against the unmodified SDK: properties, sending, reading from a position, epoch takeover.
import {
  type CheckpointStore,
  CloseReason,
  earliestEventPosition,
  EventHubConsumerClient,
  EventHubProducerClient,
  type EventPosition,
  latestEventPosition,
  type ReceivedEventData,
} from '@azure/event-hubs'
import t from 'tap'
import { MemoryCheckpointStore } from '../../src/prefilter/memory-checkpoint-store.js'
import { AmqpPeer } from '../support/amqp-peer.js'
import { waitUntil } from './helpers.js'

const retryOptions = { maxRetries: 0, retryDelayInMs: 100, timeoutInMs: 3_000 }

t.test('amqp peer', async (t) => {
  const peer = await AmqpPeer.start({ hubs: { graph: 2, other: 1 } })
  const producer = new EventHubProducerClient(peer.connectionString('graph'), { retryOptions })
  const clients: Array<{ close(): Promise<void> }> = []
  t.teardown(async () => {
    for (const client of clients) await client.close()
    await producer.close()
    await peer.stop()
  })

  const read = async (partitionId: string, startPosition: EventPosition, count: number) => {
    const consumer = new EventHubConsumerClient('$Default', peer.connectionString('graph'), { retryOptions })
    clients.push(consumer)
    const got: ReceivedEventData[] = []
    const subscription = consumer.subscribe(
      partitionId,
      { processEvents: async (events) => void got.push(...events), processError: async () => undefined },
      { startPosition, maxWaitTimeInSeconds: 1, maxBatchSize: 50 },
    )
    await waitUntil(() => got.length >= count, `${count} events from ${JSON.stringify(startPosition)}`, 8_000)
    await subscription.close()
    return got
  }

  t.test('hub and partition properties', async (t) => {
    const hub = await producer.getEventHubProperties()
    t.equal(hub.name, 'graph')
    t.same(hub.partitionIds, ['0', '1'])
    t.ok(hub.createdOn instanceof Date)
    const empty = await producer.getPartitionProperties('1')
    t.same(
      [empty.isEmpty, empty.lastEnqueuedSequenceNumber, empty.lastEnqueuedOffset, empty.beginningSequenceNumber],
      [true, -1, '-1', -1],
    )
    await t.rejects(producer.getPartitionProperties('7'), { code: 'ArgumentOutOfRangeError' })
    const missing = new EventHubProducerClient(peer.connectionString('nohub'), { retryOptions })
    clients.push(missing)
    await t.rejects(missing.getEventHubProperties())
  })

  t.test('sending: partition key, fixed partition, round robin; sequence numbers from 0, offsets as strings', async (t) => {
    await producer.sendBatch([{ body: { n: 1 } }, { body: { n: 2 } }], { partitionKey: 'item-1' })
    await producer.sendBatch([{ body: { n: 3 } }], { partitionKey: 'item-1' })
    const stored = peer.events('graph').filter((e) => e.partitionKey === 'item-1')
    t.equal(stored.length, 3)
    t.equal(new Set(stored.map((e) => peer.events('graph', '0').includes(e))).size, 1, 'one key, one partition')
    await producer.sendBatch([{ body: { n: 4 } }], { partitionId: '1' })
    const props = await producer.getPartitionProperties('1')
    t.equal(props.isEmpty, false)
    const p1 = peer.events('graph', '1')
    t.equal(props.lastEnqueuedSequenceNumber, p1.length - 1)
    t.equal(props.lastEnqueuedOffset, p1[p1.length - 1].offset)
    t.same(
      peer.events('graph', '1').map((e) => e.sequenceNumber),
      p1.map((_, i) => i),
    )
    const batch = await producer.createBatch()
    t.equal(batch.maxSizeInBytes, 1_048_576, 'the peer announces the 1 MB publication limit')
  })

  t.test('reading from a position', async (t) => {
    peer.publish('other', '0', [])
    await producer.sendBatch(
      Array.from({ length: 5 }, (_, i) => ({ body: { i } })),
      { partitionId: '0' },
    )
    const all = peer.events('graph', '0')
    const pick = (events: ReceivedEventData[]) => events.map((e) => e.sequenceNumber)
    const earliest = await read('0', earliestEventPosition, all.length)
    t.same(pick(earliest), all.map((e) => e.sequenceNumber))
    t.same(earliest[0].body, peer.bodies('graph', '0')[0], 'JSON data sections arrive parsed')
    t.type(earliest[0].offset, 'string')
    t.ok(earliest[0].enqueuedTimeUtc instanceof Date)
    const third = all[2]
    t.same(pick(await read('0', { offset: third.offset }, all.length - 3)), all.slice(3).map((e) => e.sequenceNumber), 'offset, exclusive')
    t.same(pick(await read('0', { offset: third.offset, isInclusive: true }, all.length - 2)), all.slice(2).map((e) => e.sequenceNumber))
    t.same(pick(await read('0', { sequenceNumber: 3 }, all.length - 4)), all.slice(4).map((e) => e.sequenceNumber), 'sequence number')
    t.same(pick(await read('0', { sequenceNumber: 3, isInclusive: true }, all.length - 3)), all.slice(3).map((e) => e.sequenceNumber))
    t.same(pick(await read('0', { enqueuedOn: new Date(all[0].enqueuedTime - 1) }, all.length)), all.map((e) => e.sequenceNumber))

    // latest: only what is published after the receiver attached
    const consumer = new EventHubConsumerClient('$Default', peer.connectionString('graph'), { retryOptions })
    clients.push(consumer)
    const got: ReceivedEventData[] = []
    const subscription = consumer.subscribe(
      '0',
      { processEvents: async (events) => void got.push(...events), processError: async () => undefined },
      { startPosition: latestEventPosition, maxWaitTimeInSeconds: 1 },
    )
    await waitUntil(() => peer.receivers('graph').length > 0, 'the receiver to attach')
    await producer.sendBatch([{ body: { late: true } }], { partitionId: '0' })
    await waitUntil(() => got.length === 1, 'the late event')
    t.same(got[0].body, { late: true })
    await subscription.close()
  })

  t.test('a checkpointed subscription resumes after the checkpoint', async (t) => {
    const store: CheckpointStore = new MemoryCheckpointStore()
    const loadBalancingOptions = { strategy: 'greedy' as const, updateIntervalInMs: 100, partitionOwnershipExpirationIntervalInMs: 1_000 }
    const run = async (count: number, checkpoint: boolean) => {
      const consumer = new EventHubConsumerClient('$Default', peer.connectionString('graph'), store, { retryOptions, loadBalancingOptions })
      clients.push(consumer)
      const got: Array<[string, ReceivedEventData]> = []
      const subscription = consumer.subscribe(
        {
          processEvents: async (events, context) => {
            for (const event of events) got.push([context.partitionId, event])
            if (checkpoint && events.length > 0 && context.partitionId === '1') await context.updateCheckpoint(events[events.length - 1])
          },
          processError: async () => undefined,
        },
        { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1, maxBatchSize: 50 },
      )
      await waitUntil(() => got.length >= count, `${count} events`, 8_000)
      await subscription.close()
      return got
    }
    await run(peer.events('graph').length, true)
    await producer.sendBatch([{ body: { after: 1 } }], { partitionId: '1' })
    const second = await run(peer.events('graph', '0').length + 1, false)
    const fromOne = second.filter(([partitionId]) => partitionId === '1')
    t.equal(fromOne.length, 1, 'partition 1 resumed after its checkpoint: only the new event')
    t.same(fromOne[0][1].body, { after: 1 })
    t.equal(second.length - 1, peer.events('graph', '0').length, 'partition 0 had no checkpoint: read from the start')
  })

  t.test('epoch takeover: the newer epoch receiver steals the link, a lower one is refused', async (t) => {
    const subscribe = (ownerLevel: number, log: string[]) => {
      const consumer = new EventHubConsumerClient('$Default', peer.connectionString('graph'), { retryOptions })
      clients.push(consumer)
      return consumer.subscribe(
        '1',
        {
          processEvents: async () => undefined,
          processError: async (error) => void log.push(`error:${(error as { code?: string }).code}`),
          processClose: async (reason) => void log.push(`close:${reason}`),
        },
        { ownerLevel, startPosition: latestEventPosition, maxWaitTimeInSeconds: 1 },
      )
    }
    const first: string[] = []
    const second: string[] = []
    const third: string[] = []
    const a = subscribe(1, first)
    await waitUntil(() => peer.receivers('graph').some((r) => r.epoch === 1), 'epoch 1 attached')
    const b = subscribe(2, second)
    await waitUntil(() => first.includes(`close:${CloseReason.OwnershipLost}`), 'epoch 1 to lose its link')
    t.ok(first.includes('error:ReceiverDisconnectedError'))
    t.same(
      peer.receivers('graph').map((r) => r.epoch),
      [2],
    )
    const c = subscribe(1, third)
    await waitUntil(() => third.includes('error:ReceiverDisconnectedError'), 'the lower epoch to be refused')
    t.same(
      peer.receivers('graph').map((r) => r.epoch),
      [2],
      'epoch 2 keeps reading',
    )
    t.same(second, [])
    await Promise.all([a.close(), b.close(), c.close()])
  })
})
