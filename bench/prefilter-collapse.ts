// Pre-filter collapse stage on one core: notifications/s through read, classify, collapse and message building
// (goal >= 100,000/s), and through the whole pipeline with a forwarder that answers at once. `npx tsx bench/prefilter-collapse.ts`
import { BurstCollapser } from '../src/prefilter/collapse.js'
import { Delivery, type Forwarder } from '../src/prefilter/delivery.js'
import { toChangeOutbound } from '../src/prefilter/messages.js'
import { classifyNotification, readNotificationCollection } from '../src/prefilter/notifications.js'
import { Pipeline, type ReceivedEvent } from '../src/prefilter/pipeline.js'
import type { Scheduler } from '../src/prefilter/scheduler.js'

const NOTIFICATIONS = Number(process.env.BENCH_NOTIFICATIONS ?? 600_000)
const PER_ITEM = 3
const CLIENT_STATE = 'c3-sync-7Qw2'
const TENANT = 'a1c4e8f2-3b5d-4f6a-8c9e-0d1f2a3b4c5d'

/** Bodies as the SDK hands them over (parsed JSON): bursts of 3 per item, 1-4 notifications per event. */
function makeEvents(total: number): ReceivedEvent[] {
  const events: ReceivedEvent[] = []
  let value: unknown[] = []
  for (let i = 0; i < total; i++) {
    const item = Math.floor(i / PER_ITEM)
    const itemId = `AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAA${item}=`
    const resource = `Users/5b1e0c7a-2f4d-4e8b-a6c3-91d2e4f0b7aa/Events/${itemId}`
    value.push({
      subscriptionId: '3f6d9a41-7b2e-4c8f-9d15-6a0e2b7c4d11',
      subscriptionExpirationDateTime: '2026-03-12T08:00:00.0000000+00:00',
      changeType: i % PER_ITEM === 0 ? 'created' : 'updated',
      resource,
      resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': resource, '@odata.etag': `W/"DwAAABYAAAC7kq2mZ0bV${i}"`, id: itemId },
      clientState: CLIENT_STATE,
      tenantId: TENANT,
    })
    if (value.length === 1 + (events.length % 4)) {
      events.push({ sequenceNumber: events.length, offset: String(events.length * 700), enqueuedTimeUtc: new Date(1_700_000_000_000 + i), body: { value } })
      value = []
    }
  }
  if (value.length > 0) events.push({ sequenceNumber: events.length, offset: String(events.length * 700), enqueuedTimeUtc: new Date(), body: { value } })
  return events
}

/** A clock that only moves when told, so the quiet window closes exactly where the bench says. */
class StepClock implements Scheduler {
  time = 0
  private timers: Array<{ at: number; fn: () => void }> = []
  now = () => this.time
  setTimeout = (fn: () => void, ms: number) => {
    const timer = { at: this.time + ms, fn }
    this.timers.push(timer)
    return timer
  }
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter((t) => t !== handle)
  }
  advance(ms: number) {
    this.time += ms
    const due = this.timers.filter((t) => t.at <= this.time)
    this.timers = this.timers.filter((t) => t.at > this.time)
    for (const timer of due) timer.fn()
  }
}

function collapseStage(events: ReceivedEvent[]): { seconds: number; messages: number } {
  const states = new Set([CLIENT_STATE])
  const collapser = new BurstCollapser<number>({ quietMs: 2_000, maxWaitMs: 10_000 })
  let messages = 0
  const started = process.hrtime.bigint()
  // Time advances 1 ms per event: bursts close continuously while new ones open, as in steady traffic.
  for (let i = 0; i < events.length; i++) {
    const event = events[i]
    const elements = readNotificationCollection(event.body) ?? []
    for (const raw of elements) {
      const item = classifyNotification(raw, states)
      if (item.kind === 'change') collapser.add(item, event.enqueuedTimeUtc.getTime(), event.sequenceNumber, i)
    }
    for (const burst of collapser.takeDue(i)) messages += toChangeOutbound(burst).idempotencyKey.length > 0 ? 1 : 0
  }
  for (const burst of collapser.takeAll()) messages += toChangeOutbound(burst).idempotencyKey.length > 0 ? 1 : 0
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, messages }
}

async function wholePipeline(events: ReceivedEvent[]): Promise<{ seconds: number; forwarded: number; checkpoint?: number }> {
  const clock = new StepClock()
  let forwarded = 0
  const forwarder: Forwarder = {
    kind: 'http',
    forward: async () => {
      forwarded += 1
    },
    close: async () => undefined,
  }
  const delivery = new Delivery({ forwarder, scheduler: clock, concurrency: 64 })
  const pipeline = new Pipeline({ clientStates: [CLIENT_STATE], quietMs: 50, maxWaitMs: 500, scheduler: clock, delivery, maxUnsettled: 1e9 })
  let checkpoint: number | undefined
  const handle = pipeline.openPartition('0', async (position) => {
    checkpoint = position.sequenceNumber
  })
  const started = process.hrtime.bigint()
  for (let i = 0; i < events.length; i += 100) {
    pipeline.ingest(handle, events.slice(i, i + 100))
    clock.advance(10)
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  await pipeline.drain(60_000)
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, forwarded, checkpoint }
}

const events = makeEvents(NOTIFICATIONS)
collapseStage(makeEvents(60_000)) // warm-up
const stage = collapseStage(events)
const pipeline = await wholePipeline(events)
const result = {
  bench: 'prefilter-collapse',
  notifications: NOTIFICATIONS,
  events: events.length,
  collapseStage: {
    notificationsPerSecond: Math.round(NOTIFICATIONS / stage.seconds),
    messages: stage.messages,
    goal: 100_000,
    meetsGoal: NOTIFICATIONS / stage.seconds >= 100_000,
  },
  wholePipeline: {
    notificationsPerSecond: Math.round(NOTIFICATIONS / pipeline.seconds),
    forwarded: pipeline.forwarded,
    checkpointAtLastEvent: pipeline.checkpoint === events.length - 1,
  },
}
process.stdout.write(`${JSON.stringify(result)}\n`)
