// Pre-filter end to end: the real SDK producer -> local AMQP peer -> pre-filter (real SDK consumer) -> HTTP target.
// Reports notifications/s and forwarded messages/s with the time to the last checkpoint. `npx tsx bench/prefilter-e2e.ts`
import { EventHubProducerClient } from '@azure/event-hubs'
import pino from 'pino'
import { Registry } from 'prom-client'
import { startPrefilter } from '../src/prefilter/index.js'
import { AmqpPeer } from '../test/support/amqp-peer.js'
import { change, collection, fastTuning, ForwardTarget, prefilterConfig } from '../test/prefilter/helpers.js'

const ITEMS = Number(process.env.BENCH_ITEMS ?? 4_000)
const PER_ITEM = 3
const PARTITIONS = 4
const BATCH_EVENTS = 60
const CONCURRENCY = Number(process.env.BENCH_FORWARD_CONCURRENCY ?? 8)

const peer = await AmqpPeer.start({ hubs: { graph: PARTITIONS } })
const target = await ForwardTarget.start()
const producer = new EventHubProducerClient(peer.connectionString('graph'))
const handle = await startPrefilter(
  prefilterConfig({ connectionString: peer.connectionString('graph'), forwardUrl: target.url, quietMs: 50, maxWaitMs: 500 }),
  {
    logger: pino({ level: 'warn' }),
    registry: new Registry(),
    shutdownGraceMs: 5_000,
    tuning: fastTuning({ forwardConcurrency: CONCURRENCY, consumer: { ...fastTuning().consumer, maxBatchSize: 200 } }),
  },
)
const owned = async () => {
  const deadline = Date.now() + 20_000
  while (handle.status().partitions.filter((p) => p.state === 'open').length < PARTITIONS || peer.receivers('graph').length < PARTITIONS) {
    if (Date.now() > deadline) throw new Error('partitions not claimed')
    await new Promise((r) => setTimeout(r, 20))
  }
}
await owned()

// One event per notification, a burst's three events next to each other in one batch, batches spread over partitions.
const bodies: unknown[] = []
for (let item = 0; item < ITEMS; item++) {
  for (let n = 0; n < PER_ITEM; n++) {
    bodies.push(collection(change({ itemId: `AAMkAGQ1ZTM3-${item}=`, changeType: n === 0 ? 'created' : 'updated', etag: `ck-${item}-${n}` })))
  }
}
const started = performance.now()
const sends: Promise<void>[] = []
for (let i = 0, batch = 0; i < bodies.length; i += BATCH_EVENTS, batch++) {
  sends.push(producer.sendBatch(bodies.slice(i, i + BATCH_EVENTS).map((body) => ({ body })), { partitionId: String(batch % PARTITIONS) }))
  if (sends.length >= 8) await Promise.all(sends.splice(0))
}
await Promise.all(sends)
const sent = performance.now()
const lastSeq = Array.from({ length: PARTITIONS }, (_, id) => peer.events('graph', String(id)).length - 1)
const deadline = Date.now() + 120_000
let received: number | undefined
for (;;) {
  const partitions = handle.status().partitions
  const all = lastSeq.every((seq, id) => seq < 0 || partitions.some((p) => p.partitionId === String(id) && p.lastReceivedSequenceNumber === seq))
  if (all) received ??= performance.now()
  const done = lastSeq.every((seq, id) => seq < 0 || partitions.some((p) => p.partitionId === String(id) && p.checkpointSequenceNumber === seq))
  if (done && target.received.length >= ITEMS) break
  if (Date.now() > deadline) throw new Error(`stalled at ${target.received.length} of ${ITEMS} messages`)
  await new Promise((r) => setTimeout(r, 5))
}
const finished = performance.now()
const seconds = (finished - started) / 1000
const collapsedRight = target.received.every((r) => r.body.collapsed === PER_ITEM && r.body.changeType === 'created')
process.stdout.write(
  `${JSON.stringify({
    bench: 'prefilter-e2e',
    notifications: bodies.length,
    items: ITEMS,
    partitions: PARTITIONS,
    forwardConcurrency: CONCURRENCY,
    notificationsPerSecond: Math.round(bodies.length / seconds),
    forwardedPerSecond: Math.round(target.received.length / seconds),
    publishSeconds: Number(((sent - started) / 1000).toFixed(2)),
    allReceivedSeconds: Number((((received ?? finished) - started) / 1000).toFixed(2)),
    lastCheckpointSeconds: Number(seconds.toFixed(2)),
    forwarded: target.received.length,
    oneMessagePerItem: target.received.length === ITEMS && collapsedRight,
  })}\n`,
)
await handle.close()
await producer.close()
await target.stop()
await peer.stop()
