// The pipeline without the SDK, on a fake clock: collapse timing, lifecycle, drops, the checkpoint rule, shutdown.
import t from 'tap'
import type { CheckpointPosition } from '../../src/prefilter/checkpoint-tracker.js'
import { Delivery, type Forwarder, ForwardError } from '../../src/prefilter/delivery.js'
import type { Outbound } from '../../src/prefilter/messages.js'
import { Pipeline, type ReceivedEvent } from '../../src/prefilter/pipeline.js'
import { CLIENT_STATE, change, collection, FakeScheduler, flushMicrotasks, lifecycle, validation } from './helpers.js'

/** Succeeds unless told to hold a key (until released) or to fail everything. */
class ControlledForwarder implements Forwarder {
  readonly kind = 'http' as const
  readonly sent: Outbound[] = []
  failing = false
  private readonly held = new Map<string, () => void>()
  private readonly holdKeys = new Set<string>()

  hold(itemId: string): void {
    this.holdKeys.add(itemId)
  }

  release(itemId: string): void {
    this.holdKeys.delete(itemId)
    this.held.get(itemId)?.()
  }

  async forward(o: Outbound): Promise<void> {
    if (this.failing) throw new ForwardError('503', 'http_5xx')
    if (this.holdKeys.has(o.partitionKey)) await new Promise<void>((resolve) => this.held.set(o.partitionKey, resolve))
    this.sent.push(o)
  }

  async close(): Promise<void> {}
}

function setup(options: { quietMs?: number; maxWaitMs?: number; maxUnsettled?: number } = {}) {
  const scheduler = new FakeScheduler()
  const forwarder = new ControlledForwarder()
  const delivery = new Delivery({ forwarder, scheduler, backoff: { random: () => 1 } })
  const drops: string[] = []
  const pipeline = new Pipeline({
    clientStates: [CLIENT_STATE],
    quietMs: options.quietMs ?? 100,
    maxWaitMs: options.maxWaitMs ?? 1_000,
    scheduler,
    delivery,
    maxUnsettled: options.maxUnsettled,
    hooks: { dropped: (reason, count) => drops.push(`${reason}x${count}`) },
  })
  const written: CheckpointPosition[] = []
  let failWrites = 0
  const handle = pipeline.openPartition('0', async (position) => {
    if (failWrites > 0) {
      failWrites -= 1
      throw new Error('store down')
    }
    written.push(position)
  })
  let seq = 0
  const events = (...bodies: unknown[]): ReceivedEvent[] =>
    bodies.map((body) => {
      const n = seq++
      return { sequenceNumber: n, offset: String(n * 100), enqueuedTimeUtc: new Date(scheduler.now()), body }
    })
  const messages = () => forwarder.sent.map((o) => o.message as unknown as Record<string, unknown>)
  return {
    scheduler,
    forwarder,
    delivery,
    pipeline,
    handle,
    written,
    drops,
    events,
    messages,
    failNextWrites: (n: number) => (failWrites = n),
    lastWritten: () => written[written.length - 1]?.sequenceNumber,
  }
}

t.test('a burst across events and batches is forwarded once, after the quiet window', async (t) => {
  const s = setup()
  s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A', changeType: 'created', etag: 'e1' }), change({ itemId: 'A', etag: 'e2' }))))
  await s.scheduler.advance(60)
  s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A', etag: 'e3' })), collection(change({ itemId: 'B', etag: 'b1' }))))
  await s.scheduler.advance(99)
  t.same(s.messages(), [], 'quiet window not over')
  t.equal(s.lastWritten(), undefined, 'nothing checkpointed before the forward')
  await s.scheduler.advance(1)
  t.same(
    s.messages().map((m) => [m.itemId, m.changeType, m.etag, m.collapsed, m.etags]),
    [
      ['A', 'created', 'e3', 3, ['e1', 'e2', 'e3']],
      ['B', 'updated', 'b1', 1, ['b1']],
    ],
  )
  t.equal(s.lastWritten(), 2)
  t.equal(s.pipeline.unsettledNotifications, 0)
})

t.test('deleted wins and the max wait cuts an endless burst', async (t) => {
  const s = setup({ quietMs: 100, maxWaitMs: 300 })
  for (let i = 0; i < 5; i++) {
    s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A', changeType: i === 2 ? 'deleted' : 'updated', etag: `e${i}` }))))
    await s.scheduler.advance(80)
  }
  t.same(
    s.messages().map((m) => [m.changeType, m.collapsed, m.etag]),
    [['deleted', 4, 'e3']],
    'cut at 300 ms with the 4 notifications seen by then',
  )
  await s.scheduler.advance(100)
  t.same(
    s.messages().map((m) => [m.changeType, m.collapsed, m.etag]),
    [
      ['deleted', 4, 'e3'],
      ['updated', 1, 'e4'],
    ],
  )
})

t.test('lifecycle notifications go out at once and are never collapsed', async (t) => {
  const s = setup()
  s.pipeline.ingest(s.handle, s.events(collection(lifecycle('missed'), lifecycle('missed')), collection(lifecycle('reauthorizationRequired'))))
  await flushMicrotasks()
  t.same(
    s.messages().map((m) => [m.kind, m.lifecycleEvent]),
    [
      ['lifecycle', 'missed'],
      ['lifecycle', 'missed'],
      ['lifecycle', 'reauthorizationRequired'],
    ],
  )
  t.equal(s.lastWritten(), 1)
})

t.test('dropped notifications settle at once; a bad body is one counted drop', async (t) => {
  const s = setup()
  s.pipeline.ingest(
    s.handle,
    s.events(
      collection(validation()),
      collection(change({ itemId: 'A', clientState: 'forged' }), change({ itemId: 'B', clientState: null })),
      'not json',
      collection(),
      collection({ changeType: 'updated', clientState: CLIENT_STATE }),
    ),
  )
  await flushMicrotasks()
  t.same(s.messages(), [])
  t.equal(s.lastWritten(), 4, 'checkpointed past everything dropped by rule')
  t.same(s.drops, ['validationx1', 'client_statex1', 'client_statex1', 'unparsablex1', 'malformedx1'])
})

t.test('the checkpoint never passes an event whose item is not forwarded yet', async (t) => {
  const s = setup()
  s.forwarder.hold('A')
  s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A', etag: 'a1' })), collection(change({ itemId: 'B', etag: 'b1' })), collection(validation())))
  await s.scheduler.advance(100)
  t.same(
    s.messages().map((m) => m.itemId),
    ['B'],
  )
  t.equal(s.lastWritten(), undefined, 'B (event 1) is forwarded but A (event 0) is not')
  t.equal(s.handle.tracker.lag, 3)
  s.forwarder.release('A')
  await flushMicrotasks()
  t.equal(s.lastWritten(), 2)
})

t.test('an item spread over events holds all of them until it is forwarded', async (t) => {
  const s = setup()
  s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A', etag: '1' })), collection(change({ itemId: 'B', etag: '1' }))))
  await s.scheduler.advance(50)
  s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A', etag: '2' }))))
  await s.scheduler.advance(50)
  // B is due (quiet since 0), A is not (last seen at 50): event 0 holds A, so nothing moves.
  t.same(
    s.messages().map((m) => m.itemId),
    ['B'],
  )
  t.equal(s.lastWritten(), undefined)
  await s.scheduler.advance(50)
  t.equal(s.lastWritten(), 2)
})

t.test('while forwarding fails nothing is checkpointed; drain gives up at its deadline', async (t) => {
  const s = setup()
  s.forwarder.failing = true
  s.pipeline.ingest(s.handle, s.events(collection(validation()), collection(change({ itemId: 'A', etag: 'a1' })), collection(change({ itemId: 'B', etag: 'b1' }))))
  await s.scheduler.advance(5_000)
  t.equal(s.lastWritten(), 0, 'only the validation event before A')
  t.ok(s.delivery.failingSince() !== undefined)
  const drained = s.pipeline.drain(2_000)
  await s.scheduler.advance(2_000)
  t.equal(await drained, false)
  t.equal(s.lastWritten(), 0)
  t.equal(s.scheduler.pendingTimers, 0, 'no retry timers left behind')
})

t.test('drain flushes waiting bursts and writes the final checkpoint', async (t) => {
  const s = setup({ quietMs: 10_000, maxWaitMs: 60_000 })
  s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A', etag: '1' })), collection(change({ itemId: 'B', etag: '1' }))))
  const drained = s.pipeline.drain(5_000)
  await flushMicrotasks()
  t.equal(await drained, true)
  t.equal(s.messages().length, 2)
  t.equal(s.lastWritten(), 1)
})

t.test('after ownership is lost no more checkpoints are written for that handle', async (t) => {
  const s = setup()
  s.forwarder.hold('A')
  s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A', etag: '1' }))))
  await s.scheduler.advance(100)
  s.pipeline.closePartition(s.handle, 'ownership_lost')
  s.forwarder.release('A')
  await flushMicrotasks()
  t.equal(s.messages().length, 1, 'still forwarded (duplicates are fine, loss is not)')
  t.equal(s.lastWritten(), undefined)
})

t.test('a reopened partition supersedes the old handle', async (t) => {
  const s = setup()
  const again = s.pipeline.openPartition('0', async () => undefined)
  t.equal(s.handle.state, 'superseded')
  t.equal(again.state, 'open')
})

t.test('a failed checkpoint write is retried', async (t) => {
  const s = setup()
  s.failNextWrites(1)
  s.pipeline.ingest(s.handle, s.events(collection(validation())))
  await flushMicrotasks()
  t.equal(s.lastWritten(), undefined)
  await s.scheduler.advance(1_000)
  t.equal(s.lastWritten(), 0)
})

t.test('receiving waits while too many notifications are unsettled', async (t) => {
  const s = setup({ maxUnsettled: 2 })
  s.pipeline.ingest(s.handle, s.events(collection(change({ itemId: 'A' }), change({ itemId: 'B' }))))
  let roomy = false
  void s.pipeline.waitForRoom().then(() => (roomy = true))
  await flushMicrotasks()
  t.equal(roomy, false)
  await s.scheduler.advance(100)
  t.equal(roomy, true)
})

t.test('a partition without checkpoint is anchored just before its first event', async (t) => {
  const s = setup()
  const anchored: CheckpointPosition[] = []
  const handle = s.pipeline.openPartition('1', async (position) => void anchored.push(position), { anchor: true })
  s.forwarder.failing = true
  s.pipeline.ingest(handle, [{ sequenceNumber: 7, offset: '5120', enqueuedTimeUtc: new Date(), body: collection(change({ itemId: 'A' })) }])
  await flushMicrotasks()
  t.same(anchored, [{ sequenceNumber: 6, offset: '5119' }], 'a restart from here reads event 7 again')
  const odd = s.pipeline.openPartition('2', async (position) => void anchored.push(position), { anchor: true })
  s.pipeline.ingest(odd, [{ sequenceNumber: 0, offset: 'g:1:2', enqueuedTimeUtc: new Date(), body: collection(change({ itemId: 'B' })) }])
  await flushMicrotasks()
  t.equal(anchored.length, 1, 'offsets that are not byte positions get no anchor')
  s.pipeline.stop()
})
