// The sidecar as server.ts builds it, plus /breakdown/* routes that stop partway along /dedupe's path, so
// bench/breakdown.ts can price each part: the stack alone, zod validation, and the memory store's claim.
// Plain JavaScript over the compiled dist/ (npm run build), like the real server: tsx would add its own costs.
import { buildApp, registerApiGuards } from '../dist/app.js'
import { loadConfig } from '../dist/config.js'
import { readDedupeRequest } from '../dist/domain/dedupe-event.js'
import { createLogger } from '../dist/logger.js'
import { createMetrics } from '../dist/plugins/metrics.js'
import { dedupeRequestSchema, dedupeResponseSchema } from '../dist/routes/dedupe-schemas.js'
import { createStore } from '../dist/stores/index.js'

const config = loadConfig()
const logger = createLogger(config.logLevel)
const store = await createStore(config, { logger })
const app = await buildApp(config, { store, logger, metrics: createMetrics() })

// The baseline's answer, so the steps differ from it only in what they run.
const echo = (body) => ({ decision: 'process', key: { tenant: 'default', system: body.system, itemId: body.itemId, version: body.version } })
const schema = { body: dedupeRequestSchema, response: { 200: dedupeResponseSchema } }

await app.register(async (api) => {
  await registerApiGuards(api, config)
  api.post('/breakdown/stack', async (request) => echo(request.body))
  api.post('/breakdown/validated', { schema }, async (request) => echo(request.body))
  api.post('/breakdown/claimed', { schema }, async (request) => {
    const [event] = readDedupeRequest(request.body, { leaseMs: config.defaultLeaseMs, allowFanOut: false })
    const now = Date.now()
    // Object literals written out: on Node 20, `{ ...object, more }` costs ~0.4-1.3 us a time (bench/object-spread.mjs).
    const { key, version } = event
    const input = { key, version, modifiedAt: event.modifiedAt, changeType: event.changeType, fingerprint: event.fingerprint, gap: event.gap, overflow: event.overflow, leaseMs: event.leaseMs, now, ttlMs: config.dedupeTtlMs, meta: event.meta }
    const { decision } = await store.dedupe.claim(input)
    return { decision, key: { tenant: key.tenant, system: key.system, itemId: key.itemId, version } }
  })
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)))
