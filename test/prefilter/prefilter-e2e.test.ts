// End to end through the real SDK and the local AMQP peer: bursts, drops, lifecycle, HTTP and event hub outputs.
import { EventHubProducerClient } from '@azure/event-hubs'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import t from 'tap'
import { type PrefilterHandle, startPrefilter } from '../../src/prefilter/index.js'
import { AmqpPeer } from '../support/amqp-peer.js'
import {
  change,
  collection,
  fastTuning,
  ForwardTarget,
  lifecycle,
  prefilterConfig,
  silentLogger,
  TENANT,
  validation,
  waitUntil,
} from './helpers.js'

const retryOptions = { maxRetries: 0, retryDelayInMs: 100, timeoutInMs: 3_000 }
let hubSeq = 0

t.test('pre-filter end to end', async (t) => {
  const peer = await AmqpPeer.start({ hubs: {} })
  const target = await ForwardTarget.start()
  const closers: Array<() => Promise<void>> = []
  t.teardown(async () => {
    for (const close of closers.reverse()) await close()
    await target.stop()
    await peer.stop()
  })

  const newHub = (partitions: number) => {
    const name = `graph${++hubSeq}`
    peer.addHub(name, partitions)
    const producer = new EventHubProducerClient(peer.connectionString(name), { retryOptions })
    closers.push(() => producer.close())
    return { name, producer }
  }
  const start = async (hub: string, overrides: Parameters<typeof prefilterConfig>[0] = {}, registry = new Registry(), logger = silentLogger()) => {
    const handle = await startPrefilter(
      prefilterConfig({ connectionString: peer.connectionString(hub), forwardUrl: target.url, forwardToken: 'mule-token', ...overrides }),
      { logger, registry, shutdownGraceMs: 2_000, tuning: fastTuning() },
    )
    closers.push(() => handle.close())
    return handle
  }
  const checkpointedTo = (handle: PrefilterHandle, partitionId: string, seq: number) =>
    handle.status().partitions.some((p) => p.partitionId === partitionId && p.state === 'open' && p.checkpointSequenceNumber === seq)

  t.test('bursts within and across events give one message per item; drops and lifecycle follow the rules', async (t) => {
    const { name, producer } = newHub(2)
    const registry = new Registry()
    // A wider quiet window: C's two notifications come through two partitions, each with its own receive loop.
    const lines: Array<{ level: number; msg: string; reason?: string; partitionId?: string; sequenceNumber?: number; droppedSinceLastLine?: number }> = []
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
    const handle = await start(name, { quietMs: 400 }, registry, logger)
    const at = target.received.length
    await producer.sendBatch(
      [
        { body: collection(change({ itemId: 'A', changeType: 'created', etag: 'a1' }), change({ itemId: 'A', etag: 'a2' }), validation()) },
        { body: collection(change({ itemId: 'A', etag: 'a3' }), change({ itemId: 'A', etag: 'a3' })) },
        { body: collection(change({ itemId: 'C', changeType: 'created', etag: 'c1' })) },
      ],
      { partitionId: '0' },
    )
    await producer.sendBatch(
      [
        { body: collection(change({ itemId: 'B', etag: 'b1' }), change({ itemId: 'B', etag: 'forged', clientState: 'wrong' })) },
        { body: collection(change({ itemId: 'B', etag: 'b0', clientState: null }), lifecycle('missed'), lifecycle('missed')) },
        { body: collection(change({ itemId: 'B', changeType: 'deleted', etag: 'b2' }), lifecycle('subscriptionRemoved', 'wrong')) },
      ],
      { partitionId: '1' },
    )
    // C's delete arrives in a later batch on the other partition: still one burst per item.
    await producer.sendBatch([{ body: collection(change({ itemId: 'C', changeType: 'deleted', etag: 'c2' })) }], { partitionId: '1' })

    await waitUntil(() => target.received.length - at >= 5, 'five forwards')
    await waitUntil(() => checkpointedTo(handle, '0', 2) && checkpointedTo(handle, '1', 3), 'checkpoints at the last events')
    const mine = target.received.slice(at)
    t.equal(mine.length, 5, 'nothing more than one message per item plus each lifecycle notification')
    const byItem = (itemId: string) => mine.filter((r) => r.body.itemId === itemId)
    const [a] = byItem('A')
    t.same(
      [a.body.changeType, a.body.etag, a.body.etags, a.body.collapsed, a.body.tenantId],
      ['created', 'a3', ['a1', 'a2', 'a3'], 4, TENANT],
    )
    t.equal(a.headers['idempotency-key'], `${TENANT}:A:a3`)
    t.equal(a.headers.authorization, 'Bearer mule-token')
    t.ok(Date.parse(a.body.firstEnqueuedAt as string) <= Date.parse(a.body.lastEnqueuedAt as string))
    const [b] = byItem('B')
    t.same([b.body.changeType, b.body.etag, b.body.etags, b.body.collapsed], ['deleted', 'b2', ['b1', 'b2'], 2])
    const [c] = byItem('C')
    t.same([c.body.changeType, c.body.etag, c.body.collapsed], ['deleted', 'c2', 2])
    const lifecycles = mine.filter((r) => r.body.kind === 'lifecycle')
    t.equal(lifecycles.length, 2, 'lifecycle notifications are not collapsed')
    t.same(lifecycles[0].body, { kind: 'lifecycle', lifecycleEvent: 'missed', subscriptionId: lifecycles[0].body.subscriptionId, tenantId: TENANT })
    t.match(lifecycles[0].headers['idempotency-key'], /^[0-9a-f-]+:missed:\d{4}-\d\d-\d\dT/)

    t.ok(lines.some((line) => line.level === 40 && /checkpoints are kept in this process only/.test(line.msg)), 'the memory checkpoint store is warned about')
    const drops = lines.filter((line) => line.msg === 'notification dropped and checkpointed past')
    t.match(drops.find((line) => line.reason === 'validation'), { level: 30, partitionId: '0', sequenceNumber: 0, droppedSinceLastLine: 1 }, 'a validation probe: info')
    t.match(drops.find((line) => line.reason === 'client_state'), { level: 40, partitionId: '1', sequenceNumber: 0 }, 'a notification nobody will see: a warning naming where it was')
    t.equal(drops.filter((line) => line.reason === 'client_state').length, 1, 'the next ones within the interval are counted, not logged')

    const metrics = await registry.metrics()
    t.match(metrics, /prefilter_notifications_dropped_total\{reason="validation"\} 1/)
    t.match(metrics, /prefilter_notifications_dropped_total\{reason="client_state"\} 3/)
    t.match(metrics, /prefilter_notifications_received_total 14/)
    t.match(metrics, /prefilter_notifications_collapsed_total 5/)
    t.match(metrics, /prefilter_messages_forwarded_total\{kind="change"\} 3/)
    t.match(metrics, /prefilter_messages_forwarded_total\{kind="lifecycle"\} 2/)
    t.match(metrics, /prefilter_checkpoint_lag_events\{partition="0"\} 0/)
    t.match(metrics, /prefilter_ready 1/)
    t.equal(handle.isReady(), true)
  })

  t.test('the production defaults (no tuning) claim at once and forward', async (t) => {
    const { name, producer } = newHub(2)
    const handle = await startPrefilter(prefilterConfig({ connectionString: peer.connectionString(name), forwardUrl: target.url }), {
      logger: silentLogger(),
      registry: new Registry(),
      shutdownGraceMs: 2_000,
    })
    closers.push(() => handle.close())
    await producer.sendBatch([{ body: collection(change({ itemId: 'D', etag: 'd1' }), change({ itemId: 'D', etag: 'd2' })) }], { partitionId: '1' })
    await producer.sendBatch([{ body: collection(change({ itemId: 'E', etag: 'e1' })) }], { partitionId: '0' })
    await waitUntil(() => target.changesFor('D').length === 1 && target.changesFor('E').length === 1, 'D and E', 8_000)
    t.same([target.changesFor('D')[0].etag, target.changesFor('D')[0].collapsed], ['d2', 2])
  })

  t.test('close flushes what waits in the quiet window and checkpoints it', async (t) => {
    const { name, producer } = newHub(1)
    const handle = await start(name, { quietMs: 60_000, maxWaitMs: 120_000 })
    await producer.sendBatch([{ body: collection(change({ itemId: 'Q', etag: 'q1' })) }, { body: collection(change({ itemId: 'Q', etag: 'q2' })) }])
    await waitUntil(() => handle.status().waitingItems === 1, 'the burst to wait')
    t.equal(target.changesFor('Q').length, 0)
    await handle.close()
    const [q] = target.changesFor('Q')
    t.same([q.etag, q.collapsed], ['q2', 2])
    t.equal(handle.status().partitions[0].checkpointSequenceNumber, 1)
    t.equal(handle.isReady(), false)
  })

  t.test('a wrong clientState list drops everything; no clientState list forwards everything', async (t) => {
    const { name, producer } = newHub(1)
    const strict = await start(name, { clientStates: ['other-secret'] })
    await producer.sendBatch([{ body: collection(change({ itemId: 'S', etag: 's1' }), lifecycle('missed')) }])
    await waitUntil(() => strict.status().partitions[0]?.checkpointSequenceNumber === 0, 'the dropped event to be checkpointed')
    t.equal(target.bodies().filter((b) => b.itemId === 'S').length, 0)
    await strict.close()
  })

  t.test('memory checkpoints survive a restart in the process: a failed item is forwarded afterwards, even from latest', async (t) => {
    const { name, producer } = newHub(1)
    target.failAlways(500)
    t.teardown(() => target.recover())
    const config = { startPosition: 'latest' as const, unreadyAfterMs: 200 }
    const first = await start(name, config)
    await waitUntil(() => peer.receivers(name).length === 1, 'the receiver at the end of the partition')
    await producer.sendBatch([{ body: collection(change({ itemId: 'R', etag: 'r1' })) }, { body: collection(change({ itemId: 'R', etag: 'r2' })) }])
    await waitUntil(() => !first.isReady(), 'unready while the target fails')
    t.equal(first.status().partitions[0].checkpointSequenceNumber, -1, 'only the anchor before the first event received')
    await first.close()
    target.recover()
    const second = await start(name, config)
    await waitUntil(() => target.changesFor('R').length === 1, 'R after the restart')
    t.same([target.changesFor('R')[0].etag, target.changesFor('R')[0].collapsed], ['r2', 2])
    await waitUntil(() => second.status().partitions[0]?.checkpointSequenceNumber === 1, 'the checkpoint past R')
  })

  t.test('readiness turns false while the event hub is unreachable and comes back with it', async (t) => {
    const own = await AmqpPeer.start({ hubs: { graph: 1 } })
    const port = own.port
    const handle = await startPrefilter(
      prefilterConfig({ connectionString: own.connectionString('graph'), forwardUrl: target.url, unreadyAfterMs: 300 }),
      { logger: silentLogger(), registry: new Registry(), shutdownGraceMs: 1_000, tuning: fastTuning() },
    )
    let current = own
    t.teardown(async () => {
      await handle.close()
      await current.stop()
    })
    await waitUntil(() => own.receivers('graph').length === 1 && handle.isReady(), 'ready')
    await own.stop()
    await waitUntil(() => !handle.isReady(), 'unready without the hub', 15_000)
    t.ok(handle.status().lastConsumerError)
    current = await AmqpPeer.start({ hubs: { graph: 1 }, port })
    await waitUntil(() => handle.isReady(), 'ready again', 20_000)
  })

  t.test('output event hub: partition key = itemId, retried through server-busy rejections', async (t) => {
    const { name, producer } = newHub(2)
    peer.addHub(`${name}-out`, 3)
    peer.rejectPublishes(`${name}-out`, 2)
    const handle = await start(name, { forwardUrl: undefined, outputConnectionString: peer.connectionString(`${name}-out`) })
    await producer.sendBatch([
      { body: collection(change({ itemId: 'X', etag: 'x1' }), change({ itemId: 'Y', etag: 'y1' })) },
      { body: collection(change({ itemId: 'X', changeType: 'deleted', etag: 'x2' }), lifecycle('reauthorizationRequired')) },
    ])
    await waitUntil(() => peer.events(`${name}-out`).length >= 3, 'three messages on the output hub')
    const out = peer.events(`${name}-out`)
    const bodies = peer.bodies(`${name}-out`) as Array<Record<string, unknown>>
    const x = out[bodies.findIndex((b) => b.itemId === 'X')]
    t.equal(x.partitionKey, 'X')
    t.same(
      bodies.filter((b) => b.itemId === 'X').map((b) => [b.changeType, b.etag, b.collapsed]),
      [['deleted', 'x2', 2]],
    )
    t.equal(bodies.filter((b) => b.kind === 'lifecycle').length, 1)
    t.equal(x.message.message_id, `${TENANT}:X:deleted:x2`, 'the idempotency key travels as message id (a delete keyed apart from an update)')
    await waitUntil(() => handle.status().partitions.some((p) => p.checkpointSequenceNumber !== undefined), 'a checkpoint')
  })
})
