// The request latency histogram prints what prom-client's own Histogram prints for the same observations.
import { Histogram, Registry, type Metric } from 'prom-client'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { RequestLatency } from '../../src/plugins/metrics.js'
import { createStore } from '../../src/stores/index.js'

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const NAME = 'latency_seconds'

function both() {
  const theirs = new Registry()
  const histogram = new Histogram({ name: NAME, help: 'h', labelNames: ['method', 'route', 'status_code'], buckets: BOUNDS, registers: [theirs] })
  const ours = new Registry()
  const latency = new RequestLatency(NAME, 'h', BOUNDS)
  ours.registerMetric(latency as unknown as Metric)
  const observe = (method: string, route: string, status: number, seconds: number) => {
    histogram.observe({ method, route, status_code: status }, seconds)
    latency.observe(method, route, status, seconds)
  }
  return { theirs, ours, latency, observe }
}

t.test('the same text and JSON as prom-client for several series, bounds included', async (t) => {
  const { theirs, ours, observe } = both()
  // below the first bound, exactly on bounds, between them, above the last, in several series
  const values = [0, 0.0001, 0.0005, 0.0007, 0.001, 0.003, 0.05, 0.3, 2.5, 2.6, 40]
  for (const [i, seconds] of values.entries()) {
    observe('POST', '/dedupe', 200, seconds)
    if (i % 2 === 0) observe('POST', '/dedupe', 503, seconds * 3)
    if (i % 3 === 0) observe('GET', '/dedupe/:system/:itemId', 404, seconds / 7)
  }
  const text = await ours.metrics()
  t.equal(text, await theirs.metrics())
  t.match(text, /latency_seconds_bucket\{le="0\.0005",method="POST",route="\/dedupe",status_code="200"\} 3\n/)
  t.match(text, /latency_seconds_count\{method="POST",route="\/dedupe",status_code="200"\} 11\n/)
  // the JSON form: the same values (prom-client adds an empty exemplar to each)
  const json = async (registry: Registry) =>
    (await registry.getMetricsAsJSON()).map(({ name, help, type, values }) => ({
      name,
      help,
      type,
      values: values.map((entry) => ({ labels: entry.labels, value: entry.value, metricName: (entry as { metricName?: string }).metricName })),
    }))
  t.same(await json(ours), await json(theirs))
})

t.test('empty, and empty again after a reset', async (t) => {
  const { theirs, ours, observe } = both()
  t.equal(await ours.metrics(), await theirs.metrics())
  observe('POST', '/correlate', 200, 0.002)
  t.not(await ours.metrics(), (await new Registry().metrics()))
  ours.resetMetrics()
  theirs.resetMetrics()
  t.equal(await ours.metrics(), await theirs.metrics())
  t.notMatch(await ours.metrics(), /_count/)
})

t.test('/metrics counts each request once under its route pattern and status, and not itself', async (t) => {
  const config = loadConfig({ STORE: 'memory' })
  const store = await createStore(config)
  const app = await buildApp(config, { store })
  t.teardown(async () => {
    await app.close()
    await store.close()
  })
  const event = { system: 'outlook', itemId: 'm-1', version: 'v1' }
  for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/dedupe', payload: event })
  await app.inject({ method: 'GET', url: '/dedupe/outlook/unknown-item' })
  await app.inject({ method: 'GET', url: '/metrics' })
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(text, /sidecar_http_request_duration_seconds_count\{method="POST",route="\/dedupe",status_code="200"\} 3\n/)
  t.match(text, /sidecar_http_request_duration_seconds_count\{method="GET",route="\/dedupe\/:system\/:itemId",status_code="404"\} 1\n/)
  t.match(text, /sidecar_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/dedupe",status_code="200"\} 3\n/)
  t.notMatch(text, /route="\/metrics"/)
})
