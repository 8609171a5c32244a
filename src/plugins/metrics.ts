// Prometheus metrics: decisions by endpoint and decision, request latency, store errors; served at /metrics.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Registry, collectDefaultMetrics, type Metric } from 'prom-client'

export interface SidecarMetrics {
  registry: Registry
  decisions: Counter<'endpoint' | 'decision'>
  storeErrors: Counter<'endpoint'>
  failOpen: Counter<'endpoint'>
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: SidecarMetrics
  }
}

export function createMetrics(registry = new Registry()): SidecarMetrics {
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    decisions: new Counter({
      name: 'sidecar_decisions_total',
      help: 'Business outcomes by endpoint and decision (dedupe decision, correlate action, conflict outcome)',
      labelNames: ['endpoint', 'decision'],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'sidecar_store_errors_total',
      help: 'Requests that found the store unavailable, by endpoint',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
    failOpen: new Counter({
      name: 'sidecar_fail_open_total',
      help: 'Requests answered without the store under STORE_OUTAGE_POLICY=fail-open',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
  }
}

export default fp(
  async function metrics(app: FastifyInstance, opts: { metrics: SidecarMetrics }) {
    const { registry } = opts.metrics
    const latency = new RequestLatency(
      'sidecar_http_request_duration_seconds',
      'Request latency by method, route and status',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    )
    // The registry reads a metric through name, help, type, get() and getForPromString(), which RequestLatency has.
    registry.registerMetric(latency as unknown as Metric)
    app.decorate('metrics', opts.metrics)
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched'
      if (route !== '/metrics') latency.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
      done()
    })
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(registry.contentType)
      return registry.metrics()
    })
  },
  { name: 'metrics' },
)

interface LatencySeries {
  labels: { method: string; route: string; status_code: number }
  /** observations per bucket, not cumulative; the last slot counts those above every bound */
  counts: Float64Array
  sum: number
}

interface LatencyValue {
  labels: { le?: number | '+Inf' }
  sharedLabels: LatencySeries['labels']
  value: number
  metricName: string
}

/**
 * A histogram of request latency by method, route and status, printed as prom-client's Histogram prints one (the
 * same lines in the same order; a test compares them). prom-client's validates and hashes the labels object on
 * every observation, about 4 us a request on the benchmark's slowest VM; here a request costs a Map lookup and an
 * increment.
 */
export class RequestLatency {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, LatencySeries>()

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    const id = `${status} ${method} ${route}`
    let series = this.series.get(id)
    if (series === undefined) {
      series = { labels: { method, route, status_code: status }, counts: new Float64Array(this.bounds.length + 1), sum: 0 }
      this.series.set(id, series)
    }
    let bucket = 0
    while (bucket < this.bounds.length && seconds > this.bounds[bucket]) bucket++
    series.counts[bucket]++
    series.sum += seconds
  }

  /** What the registry prints: each series' cumulative buckets (`le`), `+Inf`, sum and count. */
  getForPromString() {
    const values: LatencyValue[] = []
    const line = (le: LatencyValue['labels']['le'], value: number, suffix: string, sharedLabels: LatencySeries['labels']) =>
      values.push({ labels: le === undefined ? {} : { le }, sharedLabels, value, metricName: `${this.name}${suffix}` })
    for (const { labels, counts, sum } of this.series.values()) {
      let below = 0
      this.bounds.forEach((bound, i) => line(bound, (below += counts[i]), '_bucket', labels))
      const count = below + counts[this.bounds.length]
      line('+Inf', count, '_bucket', labels)
      line(undefined, sum, '_sum', labels)
      line(undefined, count, '_count', labels)
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** The JSON form (registry.getMetricsAsJSON): each value's labels are the series' labels with `le`. */
  get() {
    const metric = this.getForPromString()
    return { ...metric, values: metric.values.map(({ sharedLabels, labels, value, metricName }) => ({ labels: { ...labels, ...sharedLabels }, value, metricName })) }
  }

  reset(): void {
    this.series.clear()
  }
}
