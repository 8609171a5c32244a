// /correlate family through app.inject on the memory store (the same scenarios run on Redis in correlate-redis.test.ts).
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { CORRELATE_ENV, runCorrelateHttp } from './correlate-scenarios.js'

runCorrelateHttp(t, async (t) => (await buildTestApp(t, CORRELATE_ENV)).app)
