// /dedupe/batch on a real redis-server this test starts: Salesforce events whose recordIds fan out to far more claims
// than one script call takes (sent whole, the call ran past the command timeout and answered 503 for granted claims).
import { Redis } from 'ioredis'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { RedisServer, redisSkipReason, scriptCalls } from '../support/redis-server.js'
import { batchReplayScenario } from './dedupe-batch-replay.js'
import { batchUndeleteScenario } from './dedupe-batch-undelete.js'

const skip = redisSkipReason()

t.test('redis: a batch of 500 change events with 100 recordIds each (50,000 claims) is answered, and its claims commit', { skip }, async (t) => {
  const redis = await RedisServer.start()
  t.teardown(() => redis.destroy())
  const { app } = await buildTestApp(t, { REDIS_URL: redis.url })
  const ids = (event: number) => Array.from({ length: 100 }, (_, i) => `00U${String(event).padStart(4, '0')}${String(i).padStart(3, '0')}`)
  const events = Array.from({ length: 500 }, (_, event) => ({
    changeEvent: {
      ChangeEventHeader: {
        entityName: 'Event',
        recordIds: ids(event),
        changeType: 'UPDATE',
        changeOrigin: 'com/salesforce/api/rest/62.0',
        transactionKey: `tx-${event}`,
        sequenceNumber: 1,
        commitTimestamp: 1773047561000,
        commitUser: '0055g0000012345AAA',
        nulledFields: [],
        diffFields: [],
        changedFields: ['Subject'],
      },
    },
  }))

  const raw = new Redis(redis.url)
  t.teardown(() => raw.disconnect())
  const before = await scriptCalls(raw)
  const res = await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { events } })
  t.equal(res.statusCode, 200, `answered, not timed out: ${res.statusCode === 200 ? '' : res.body.slice(0, 200)}`)
  const results: Array<Array<{ decision: string; key: { itemId: string }; claim?: { token: string } }>> = res.json().results
  const flat = results.flat()
  t.equal(flat.length, 50_000)
  t.ok(flat.every((result) => result.decision === 'process' && result.claim), 'every record id is granted a claim')
  t.same(results[499].map((result) => result.key.itemId), ids(499), 'fanned out in order, to the last event')
  t.equal((await scriptCalls(raw)) - before, 100, 'in 100 script calls of 500 claims')

  // The batch holds the event loop for a second or more on a busy machine, and the overload guard then sheds the next
  // requests with 429 and Retry-After: 1 (MAX_EVENT_LOOP_DELAY_MS): retried as a flow retries them.
  for (const result of [flat[0], flat[25_000], flat[49_999]]) {
    const payload = { system: 'salesforce', itemId: result.key.itemId, token: result.claim!.token }
    let commit = await app.inject({ method: 'POST', url: '/dedupe/commit', payload })
    for (let tries = 1; commit.statusCode === 429 && tries < 10; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      commit = await app.inject({ method: 'POST', url: '/dedupe/commit', payload })
    }
    t.same(commit.json(), { committed: true }, `${result.key.itemId} commits with its token`)
  }
})

t.test('redis: a replay placed after a newer change of its item in a batch does not hide that change', { skip }, async (t) => {
  const redis = await RedisServer.start()
  t.teardown(() => redis.destroy())
  const { app } = await buildTestApp(t, { REDIS_URL: redis.url })
  await batchReplayScenario(t, app)
})

t.test('redis: an undelete and a newer change of its item in one batch: the restore first, the change waits for it', { skip }, async (t) => {
  const redis = await RedisServer.start()
  t.teardown(() => redis.destroy())
  const { app } = await buildTestApp(t, { REDIS_URL: redis.url })
  await batchUndeleteScenario(t, app)
})
