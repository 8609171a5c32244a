// Over a real socket on a real redis-server: outage under load, readiness, fail-open, and a claimant that dies.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'

const skip = redisSkipReason()

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  return `http://127.0.0.1:${address.port}`
}

async function postJson(base: string, path: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers }
}

async function until(check: () => Promise<boolean>, deadlineMs: number, what: string) {
  const deadline = Date.now() + deadlineMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

t.test('redis stops under load and comes back: only 200 or 503, nothing processed twice, nothing lost', { skip }, async (t) => {
  const redis = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
  t.teardown(() => redis.destroy())
  const { app } = await buildTestApp(t, { REDIS_URL: redis.url })
  const base = await listen(app)

  const LEASE = 1000
  const committed = new Set<string>() // item@version whose commit answered true
  const pending = new Map<string, { itemId: string; version: string }>() // claimed, commit not confirmed
  const statuses = new Map<number, number>()
  const violations: string[] = []
  let stop = false

  const worker = async (w: number) => {
    let n = 0
    while (!stop) {
      const itemId = `item-${(w * 7 + n) % 12}`
      const version = `v${Math.floor(n / 3)}`
      n++
      const id = `${itemId}@${version}`
      const claim = await postJson(base, '/dedupe', { system: 'outlook', itemId, version, leaseMs: LEASE }).catch(() => undefined)
      if (!claim) continue
      statuses.set(claim.status, (statuses.get(claim.status) ?? 0) + 1)
      if (claim.status === 503) {
        t.ok(Number(claim.headers.get('retry-after')) >= 1, 'a 503 carries Retry-After')
        continue
      }
      if (claim.status !== 200) {
        violations.push(`status ${claim.status}`)
        continue
      }
      if (claim.body.decision !== 'process') continue
      if (committed.has(id)) violations.push(`second process for committed ${id}`)
      pending.set(id, { itemId, version })
      const commit = await postJson(base, '/dedupe/commit', { system: 'outlook', itemId, token: claim.body.claim.token }).catch(() => undefined)
      if (commit) statuses.set(commit.status, (statuses.get(commit.status) ?? 0) + 1)
      if (commit && commit.status !== 200 && commit.status !== 503) violations.push(`commit status ${commit.status}`)
      if (commit?.status === 200 && commit.body.committed === true) {
        committed.add(id)
        pending.delete(id)
      }
    }
  }

  const workers = Array.from({ length: 6 }, (_, w) => worker(w))
  await new Promise((r) => setTimeout(r, 400))
  await redis.stop()
  const down = Date.now()
  const during = await postJson(base, '/dedupe', { system: 'outlook', itemId: 'probe', version: '1' })
  t.equal(during.status, 503, 'fail-closed answers 503 while Redis is down')
  t.ok(Date.now() - down < 1500, 'and answers within about a second')
  await until(async () => (await fetch(base + '/readyz')).status === 503, 3000, '/readyz to turn false')
  t.equal((await fetch(base + '/readyz')).headers.get('retry-after'), '1', 'its 503 says when to ask again')
  await new Promise((r) => setTimeout(r, 300))
  await redis.start()
  await until(async () => (await fetch(base + '/readyz')).status === 200, 10_000, '/readyz to recover')
  await new Promise((r) => setTimeout(r, 400))
  stop = true
  await Promise.all(workers)

  t.same(violations, [], 'no unexpected status and no second process for a committed version')
  t.ok((statuses.get(200) ?? 0) > 20, `requests succeeded around the outage (${JSON.stringify([...statuses])})`)

  // Every claim that was not confirmed committed is processable again once its lease lapses (or was committed).
  await new Promise((r) => setTimeout(r, LEASE + 100))
  for (const [id, { itemId, version }] of pending) {
    const again = await postJson(base, '/dedupe', { system: 'outlook', itemId, version })
    t.ok(['process', 'duplicate', 'stale'].includes(again.body.decision), `${id} is processable again or was committed (${again.body.decision})`)
  }
})

t.test('fail-open processes without the store and says so in a header', { skip }, async (t) => {
  const redis = await RedisServer.start()
  t.teardown(() => redis.destroy())
  const { app } = await buildTestApp(t, { REDIS_URL: redis.url, STORE_OUTAGE_POLICY: 'fail-open' })
  const base = await listen(app)
  await redis.stop()
  const res = await postJson(base, '/dedupe', { system: 'outlook', itemId: 'fo', version: '1' })
  t.equal(res.status, 200)
  t.equal(res.body.decision, 'process')
  t.match(res.headers.get('x-sidecar-degraded'), /fail-open/)
  const commit = await postJson(base, '/dedupe/commit', { system: 'outlook', itemId: 'fo', token: res.body.claim.token })
  t.same(commit.body, { committed: false, reason: 'store_unavailable' })
  const release = await postJson(base, '/dedupe/release', { system: 'outlook', itemId: 'fo', token: res.body.claim.token })
  t.same([release.status, release.body], [200, { released: false }], 'a fail-open token held nothing to release')

  // a gap or overflow event keeps its instruction without the store
  const overflow = await postJson(base, '/dedupe', {
    changeEvent: { ChangeEventHeader: { entityName: 'Event', changeType: 'GAP_OVERFLOW', recordIds: ['000000000000000AAA'], commitTimestamp: 1773048605000, transactionKey: 'tx-o', sequenceNumber: 1 } },
  })
  t.same([overflow.status, overflow.body.decision], [200, 'process'])
  t.match(overflow.body.reason, /GAP_OVERFLOW.*resync/)
  const gap = await postJson(base, '/dedupe', {
    changeEvent: { ChangeEventHeader: { entityName: 'Event', changeType: 'GAP_UPDATE', recordIds: ['00U5g00000Xy12ZEAQ'], commitTimestamp: 1773048605000, transactionKey: 'tx-g', sequenceNumber: 1 } },
  })
  t.match(gap.body.reason, /re-read the record/)

  // the answers given without the store are counted like any other
  const metrics = await (await fetch(base + '/metrics')).text()
  t.match(metrics, /sidecar_decisions_total\{endpoint="dedupe_commit",decision="store_unavailable"\} 1/)
  t.match(metrics, /sidecar_decisions_total\{endpoint="dedupe_release",decision="not_held"\} 1/)
  t.match(metrics, /sidecar_fail_open_total\{endpoint="dedupe"\} 3/)
})

t.test('fail-open never answers a commit or release of a store-issued token without the store', { skip }, async (t) => {
  const redis = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
  t.teardown(() => redis.destroy())
  const { app } = await buildTestApp(t, { REDIS_URL: redis.url, STORE_OUTAGE_POLICY: 'fail-open' })
  const base = await listen(app)
  const event = { system: 'outlook', itemId: 'fo-held', version: '1' }
  const claimed = await postJson(base, '/dedupe', event)
  t.equal(claimed.body.decision, 'process')
  const owned = { system: 'outlook', itemId: 'fo-held', token: claimed.body.claim.token }

  await redis.stop()
  for (const path of ['/dedupe/commit', '/dedupe/release']) {
    const res = await postJson(base, path, owned)
    t.equal(res.status, 503, `${path} during the outage is a 503 the flow retries, not a 200 that ends its retries`)
    t.equal(res.headers.get('retry-after'), '1')
    t.equal(res.headers.get('x-sidecar-degraded'), null)
  }

  await redis.start()
  await until(async () => (await fetch(base + '/readyz')).status === 200, 10_000, '/readyz to recover')
  const retried = await postJson(base, '/dedupe/commit', owned)
  t.same([retried.status, retried.body], [200, { committed: true }], 'the retried commit lands')
  t.equal((await postJson(base, '/dedupe', event)).body.decision, 'duplicate', 'and the change is never written twice')
})

t.test('a full Redis under noeviction refuses writes: a 503 with Retry-After, and processable once there is room', { skip }, async (t) => {
  const redis = await RedisServer.start({ args: ['--maxmemory-policy', 'noeviction'] })
  t.teardown(() => redis.destroy())
  const { Redis } = await import('ioredis')
  const admin = new Redis(redis.url)
  t.teardown(() => admin.quit())
  const { app } = await buildTestApp(t, { REDIS_URL: redis.url })
  const base = await listen(app)
  const event = { system: 'outlook', itemId: 'oom', version: '1' }

  // Full: the memory in use is over maxmemory, so every write is refused with OOM until there is room again.
  await admin.config('SET', 'maxmemory', '1')
  await t.rejects(admin.set('probe', 'x'), /^OOM/, 'redis refuses writes')
  const full = await postJson(base, '/dedupe', event)
  t.equal(full.status, 503, 'OOM is the store being unavailable, not an internal error')
  t.equal(full.headers.get('retry-after'), '1')
  t.equal(full.body.code, 'store_unavailable')

  await admin.config('SET', 'maxmemory', '0')
  const later = await postJson(base, '/dedupe', event)
  t.same([later.status, later.body.decision], [200, 'process'], 'the retried event is processed')
})

for (const kind of ['memory', 'redis'] as const) {
  t.test(`${kind}: a claimant that dies loses nothing; the next delivery processes the event`, { skip: kind === 'redis' ? skip : false }, async (t) => {
    let env: Record<string, string> = {}
    if (kind === 'redis') {
      const redis = await RedisServer.start()
      t.teardown(() => redis.destroy())
      env = { REDIS_URL: redis.url }
    }
    const { app } = await buildTestApp(t, env)
    const base = await listen(app)
    const first = await postJson(base, '/dedupe', { system: 'salesforce', itemId: '00U1', version: 'tx:1', leaseMs: 1000 })
    t.equal(first.body.decision, 'process')
    // the worker dies here: no commit, no release
    t.equal((await postJson(base, '/dedupe', { system: 'salesforce', itemId: '00U1', version: 'tx:1' })).body.decision, 'in_flight')
    await new Promise((r) => setTimeout(r, 1100))
    const next = await postJson(base, '/dedupe', { system: 'salesforce', itemId: '00U1', version: 'tx:1' })
    t.equal(next.body.decision, 'process', 'redelivery after the lease lapsed is processed')
    const late = await postJson(base, '/dedupe/commit', { system: 'salesforce', itemId: '00U1', token: first.body.claim.token })
    t.same(late.body, { committed: false, reason: 'lease_expired' }, 'the dead worker cannot overwrite the new owner')
    t.same((await postJson(base, '/dedupe/commit', { system: 'salesforce', itemId: '00U1', token: next.body.claim.token })).body, { committed: true })
  })
}
