// /correlate family through app.inject on a real redis-server started by this test.
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'
import { CORRELATE_ENV, runCorrelateHttp } from './correlate-scenarios.js'

const skip = redisSkipReason()
if (skip) {
  t.test('/correlate on redis', { skip }, async () => {})
} else {
  const server = await RedisServer.start()
  t.teardown(() => server.destroy())
  runCorrelateHttp(t, async (t) => (await buildTestApp(t, { ...CORRELATE_ENV, REDIS_URL: server.url })).app)
}
