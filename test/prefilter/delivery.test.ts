// Delivery: retries with backoff until success, order within a lane, bounded concurrency, failure tracking, abort.
import t from 'tap'
import { Delivery, type Forwarder, ForwardError } from '../../src/prefilter/delivery.js'
import type { Outbound } from '../../src/prefilter/messages.js'
import { FakeScheduler, flushMicrotasks } from './helpers.js'

const outbound = (id: string, lane = id): Outbound => ({
  message: { kind: 'lifecycle', lifecycleEvent: 'missed', subscriptionId: id, tenantId: null },
  idempotencyKey: id,
  partitionKey: id,
  lane,
})

/** Fails each message as scripted (a list of errors per key), then succeeds; records every attempt. */
class ScriptedForwarder implements Forwarder {
  readonly kind = 'http' as const
  readonly attempts: string[] = []
  readonly delivered: string[] = []
  inFlight = 0
  maxInFlight = 0
  readonly script = new Map<string, unknown[]>()
  gate?: Promise<void>

  async forward(o: Outbound): Promise<void> {
    this.attempts.push(o.idempotencyKey)
    this.inFlight += 1
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      if (this.gate) await this.gate
      const failure = this.script.get(o.idempotencyKey)?.shift()
      if (failure !== undefined) throw failure
      this.delivered.push(o.idempotencyKey)
    } finally {
      this.inFlight -= 1
    }
  }

  async close(): Promise<void> {}
}

const setup = (concurrency = 8) => {
  const scheduler = new FakeScheduler()
  const forwarder = new ScriptedForwarder()
  const failures: Array<[string, string, number, number]> = []
  const delivery = new Delivery({
    forwarder,
    scheduler,
    concurrency,
    backoff: { random: () => 1 },
    hooks: { failed: (o, error, attempt, delay) => failures.push([o.idempotencyKey, error.reason, attempt, delay]) },
  })
  return { scheduler, forwarder, delivery, failures }
}

t.test('a failing message is retried on the backoff schedule until it succeeds', async (t) => {
  const { scheduler, forwarder, delivery, failures } = setup()
  forwarder.script.set('a', [new ForwardError('503', 'http_5xx'), new ForwardError('503', 'http_5xx'), new Error('socket hang up')])
  let done = 0
  delivery.enqueue(outbound('a'), () => done++)
  await flushMicrotasks()
  t.equal(forwarder.attempts.length, 1)
  t.equal(delivery.failingSince(), scheduler.now())
  await scheduler.advance(199)
  t.equal(forwarder.attempts.length, 1, 'not before 200 ms')
  await scheduler.advance(1)
  t.equal(forwarder.attempts.length, 2)
  await scheduler.advance(400)
  t.equal(forwarder.attempts.length, 3)
  await scheduler.advance(800)
  t.equal(forwarder.attempts.length, 4)
  t.equal(done, 1)
  t.equal(delivery.pending, 0)
  t.equal(delivery.failingSince(), undefined)
  t.same(failures, [
    ['a', 'http_5xx', 1, 200],
    ['a', 'http_5xx', 2, 400],
    ['a', 'error', 3, 800],
  ])
})

t.test('Retry-After from the target sets the delay', async (t) => {
  const { scheduler, forwarder, delivery } = setup()
  forwarder.script.set('a', [new ForwardError('429', 'http_429', 5_000)])
  delivery.enqueue(outbound('a'), () => undefined)
  await scheduler.advance(4_999)
  t.equal(forwarder.attempts.length, 1)
  await scheduler.advance(1)
  t.same(forwarder.delivered, ['a'])
})

t.test('messages of one lane go one after the other, other lanes pass by', async (t) => {
  const { scheduler, forwarder, delivery } = setup()
  forwarder.script.set('x1', [new ForwardError('down', 'connection')])
  const order: string[] = []
  delivery.enqueue(outbound('x1', 'item-x'), () => order.push('x1'))
  delivery.enqueue(outbound('x2', 'item-x'), () => order.push('x2'))
  delivery.enqueue(outbound('y1', 'item-y'), () => order.push('y1'))
  await flushMicrotasks()
  t.same(order, ['y1'])
  t.notOk(forwarder.attempts.includes('x2'), 'x2 waits for x1')
  await scheduler.advance(200)
  t.same(order, ['y1', 'x1', 'x2'])
  await delivery.whenIdle()
})

t.test('concurrency bounds the messages in flight', async (t) => {
  const { forwarder, delivery } = setup(2)
  let open!: () => void
  forwarder.gate = new Promise((resolve) => (open = resolve))
  for (let i = 0; i < 6; i++) delivery.enqueue(outbound(`m${i}`), () => undefined)
  await flushMicrotasks()
  t.equal(forwarder.inFlight, 2)
  open()
  await delivery.whenIdle()
  t.equal(forwarder.maxInFlight, 2)
  t.equal(forwarder.delivered.length, 6)
})

t.test('abort gives up: no completion, no more attempts', async (t) => {
  const { scheduler, forwarder, delivery } = setup()
  forwarder.script.set('a', Array.from({ length: 100 }, () => new ForwardError('503', 'http_5xx')))
  let done = 0
  delivery.enqueue(outbound('a'), () => done++)
  await scheduler.advance(1_000)
  const attempts = forwarder.attempts.length
  delivery.abort()
  await delivery.whenIdle()
  await scheduler.advance(60_000)
  t.equal(forwarder.attempts.length, attempts)
  t.equal(done, 0)
  t.equal(delivery.pending, 1, 'still counted as not forwarded')
  delivery.enqueue(outbound('b'), () => done++)
  t.equal(delivery.pending, 1, 'nothing new is taken after abort')
})

t.test('a throwing completion callback does not wedge the lane', async (t) => {
  const scheduler = new FakeScheduler()
  const forwarder = new ScriptedForwarder()
  const errors: unknown[] = []
  const delivery = new Delivery({ forwarder, scheduler, hooks: { error: (e) => errors.push(e) } })
  delivery.enqueue(outbound('a', 'lane'), () => {
    throw new Error('bug')
  })
  delivery.enqueue(outbound('b', 'lane'), () => undefined)
  await delivery.whenIdle()
  t.same(forwarder.delivered, ['a', 'b'])
  t.equal(errors.length, 1)
})
