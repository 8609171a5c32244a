// The benchmark's baseline: a bare Fastify route that parses the JSON body and returns { decision, key }.
// BASELINE_SPIN_US (bench/breakdown.ts) adds a busy loop of that many microseconds to each request.
import Fastify from 'fastify'

const spinMs = Number(process.env.BASELINE_SPIN_US ?? 0) / 1000
const app = Fastify({ logger: false })
app.post('/dedupe', async (request) => {
  const body = request.body as { system: string; itemId: string; version: string }
  if (spinMs > 0) for (const end = performance.now() + spinMs; performance.now() < end; );
  return { decision: 'process', key: { tenant: 'default', system: body.system, itemId: body.itemId, version: body.version } }
})
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
