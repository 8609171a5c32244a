// The HTTP forwarder against a local server: headers, token, and how each failure is reported for the retry loop.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { ForwardError } from '../../src/prefilter/delivery.js'
import { createHttpForwarder, correlationIdOf } from '../../src/prefilter/http-forwarder.js'
import { toLifecycleOutbound } from '../../src/prefilter/messages.js'
import { ForwardTarget } from './helpers.js'
import { freePort } from '../support/redis-server.js'

const outbound = toLifecycleOutbound({ kind: 'lifecycle', lifecycleEvent: 'missed', subscriptionId: 'sub', tenantId: 't' }, 0)
const signal = new AbortController().signal

async function failure(promise: Promise<unknown>): Promise<ForwardError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ForwardError) return error
    throw error
  }
  throw new Error('expected a failure')
}

t.test('one JSON POST with the Idempotency-Key and the bearer token', async (t) => {
  const target = await ForwardTarget.start()
  t.teardown(() => target.stop())
  await createHttpForwarder({ url: target.url, token: 's3cret' }).forward(outbound, signal)
  const [received] = target.received
  t.equal(received.headers['idempotency-key'], 'sub:missed:1970-01-01T00:00:00.000Z')
  t.equal(received.headers.authorization, 'Bearer s3cret')
  t.match(received.headers['x-correlation-id'], /^pf-[0-9a-f]{32}$/, 'a short correlation id Mule adopts')
  t.equal(received.headers['x-correlation-id'], correlationIdOf('sub:missed:1970-01-01T00:00:00.000Z'), 'derived from the key, so retries keep it')
  t.match(received.headers['content-type'], /^application\/json/)
  t.same(received.body, outbound.message)
  await createHttpForwarder({ url: target.url }).forward(outbound, signal)
  t.equal(target.received[1].headers.authorization, undefined, 'no token configured: no header')
})

t.test('statuses map to retry reasons; Retry-After is passed on', async (t) => {
  const target = await ForwardTarget.start()
  t.teardown(() => target.stop())
  const forwarder = createHttpForwarder({ url: target.url })
  target.answer({ status: 503, retryAfter: '7' }, { status: 429, retryAfter: '2' }, { status: 400 }, { status: 500 })
  const a = await failure(forwarder.forward(outbound, signal))
  t.same([a.reason, a.retryAfterMs], ['http_5xx', 7_000])
  const b = await failure(forwarder.forward(outbound, signal))
  t.same([b.reason, b.retryAfterMs], ['http_429', 2_000])
  const c = await failure(forwarder.forward(outbound, signal))
  t.same([c.reason, c.retryAfterMs], ['http_4xx', undefined])
  const d = await failure(forwarder.forward(outbound, signal))
  t.equal(d.reason, 'http_5xx')
  await forwarder.forward(outbound, signal)
  t.equal(target.received.length, 1)
})

t.test('a refused connection and a hung target are failures, not hangs', async (t) => {
  const port = await freePort()
  const refused = await failure(createHttpForwarder({ url: `http://127.0.0.1:${port}/x` }).forward(outbound, signal))
  t.equal(refused.reason, 'connection')
  const hung = http.createServer(() => undefined)
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    hung.closeAllConnections()
    hung.close()
  })
  const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/x`
  const timedOut = await failure(createHttpForwarder({ url, requestTimeoutMs: 200 }).forward(outbound, signal))
  t.equal(timedOut.reason, 'timeout')
})

t.test('a bad URL is refused at start', async (t) => {
  t.throws(() => createHttpForwarder({ url: 'ftp://127.0.0.1/x' }), /http\(s\)/)
})
