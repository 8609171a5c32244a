// A smaller fuzz run of the /dedupe family on the Redis store, whose Lua scripts see the inputs (a redis-server of its own).
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'
import { FUZZ_ROUTES, fuzzBodyRoute, fuzzDedupeLifecycle, fuzzItemRoute, fuzzRawBodies, requestsSent, routeName, send } from './fuzz-routes.js'
import { toJsonText } from './mutations.js'

const SEED = 20260310

const skip = redisSkipReason()
if (skip) {
  t.test('fuzz on the redis store', { skip }, async () => {})
} else {
  const server = await RedisServer.start()
  t.teardown(() => server.destroy())
  const { app, store } = await buildTestApp(t, { REDIS_URL: server.url })
  const dedupeRoutes = FUZZ_ROUTES.filter((route) => route.path.startsWith('/dedupe'))

  t.test('the app runs on redis', async (t) => {
    t.equal(store.kind, 'redis')
  })

  dedupeRoutes.forEach((route, i) => {
    t.test(`random on redis: ${routeName(route)}`, async (t) => {
      const options = { numRuns: route.kind === 'body' ? 120 : 60, seed: SEED + i }
      if (route.kind === 'body') await fuzzBodyRoute(app, route, options)
      else await fuzzItemRoute(app, route, options)
      t.pass(`${options.numRuns} runs, no invariant broken`)
    })
  })

  t.test('random on redis: raw bodies', async (t) => {
    await fuzzRawBodies(app, dedupeRoutes.filter((route) => route.kind === 'body'), { numRuns: 100, seed: SEED + 100 })
    t.pass()
  })

  t.test('random on redis: dedupe lifecycle with odd but accepted values', async (t) => {
    await fuzzDedupeLifecycle(app, { numRuns: 120, seed: SEED + 200 })
    t.pass()
  })

  t.test('hand-made on redis: versions, fingerprints and tokens with Lua-pattern and separator characters keep their meaning', async (t) => {
    const odd = ['%', '%d+', '.*', '[', 'a|b|c', 'v:1', 'x y', ' ', '\u0000', '🙂', 'e\u0301', '1.', '1.2', '\\', '"', "'", 'x'.repeat(250), 'nil', 'false']
    const post = async (url: string, payload: object) => {
      const { body } = await send(app, { method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: toJsonText(payload) }, { statuses: [200] })
      return body as Record<string, any>
    }
    for (const [i, text] of odd.entries()) {
      const key = { system: 'outlook', itemId: `lua-${i}-${text}`.slice(0, 100) }
      const claimed = await post('/dedupe', { ...key, version: text, fingerprint: text, modifiedAt: 1_000 })
      t.equal(claimed.decision, 'process', `claim with version ${JSON.stringify(text).slice(0, 40)}`)
      t.same(await post('/dedupe/commit', { ...key, token: claimed.claim.token }), { committed: true })
      t.equal((await post('/dedupe', { ...key, version: text })).decision, 'duplicate', 'the same version is a duplicate')
      t.equal((await post('/dedupe', { ...key, version: `${text}-next`, fingerprint: text })).decision, 'unchanged', 'the same fingerprint is unchanged')
      const record = (await send(app, { method: 'GET', url: `/dedupe/outlook/${encodeURIComponent(key.itemId)}` }, { statuses: [200] })).body as Record<string, any>
      t.equal(record.last.version, `${text}-next`, 'the record keeps the version exactly')
      t.equal(record.history.at(-1).version, text, 'the history keeps the first version exactly')
      // A token shaped like a pattern or a list never matches another claim.
      const next = await post('/dedupe', { ...key, version: `${text}-third`, fingerprint: 'other' })
      t.equal(next.decision, 'process')
      t.same(await post('/dedupe/release', { ...key, token: `${text.slice(0, 100)} ${next.claim.token}` }), { released: false }, 'a token list is not the token')
      t.same(await post('/dedupe/commit', { ...key, token: `${next.claim.token} x` }), { committed: false, reason: 'unknown_token' })
      t.same(await post('/dedupe/release', { ...key, token: next.claim.token }), { released: true })
    }
  })

  // Regression: on Redis the URIError of a lone surrogate id was thrown inside guard(),
  // whose toStoreError() turns every non-Redis error into StoreUnavailableError: a retryable 503 for a bad request.
  t.test('regression on redis: a lone surrogate in an id is a 400, not a 503 or 500', async (t) => {
    for (const [url, payload] of [
      ['/dedupe', '{"system":"outlook","itemId":"\\ud800","version":"1"}'],
      ['/dedupe/commit', '{"system":"outlook","itemId":"\\ud800","token":"1.x"}'],
      ['/dedupe/release', '{"system":"outlook","itemId":"\\ud800","token":"1.x"}'],
    ]) {
      const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload })
      t.equal(res.statusCode, 400, `POST ${url} ${payload} -> ${res.statusCode} ${res.body.slice(0, 100)}`)
    }
    const batch = await app.inject({ method: 'POST', url: '/dedupe/batch', headers: { 'content-type': 'application/json' }, payload: '{"events":[{"system":"outlook","itemId":"\\ud800","version":"1"}]}' })
    t.equal(batch.statusCode, 200, `POST /dedupe/batch with a lone surrogate id -> ${batch.statusCode} (expected the event rejected)`)
  })

  t.test('the redis app still answers', async (t) => {
    t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
    t.comment(`${requestsSent()} fuzz requests on redis`)
  })
}
