// Prometheus metrics: decisions by endpoint and decision, request latency, store errors; served at /metrics.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

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
    const latency = new Histogram({
      name: 'sidecar_http_request_duration_seconds',
      help: 'Request latency by method, route and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    })
    app.decorate('metrics', opts.metrics)
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched'
      if (route !== '/metrics') latency.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000)
      done()
    })
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(registry.contentType)
      return registry.metrics()
    })
  },
  { name: 'metrics' },
)
