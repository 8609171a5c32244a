// The benchmark's baseline: a bare Fastify route that parses the JSON body and returns { decision, key }.
// BASELINE_SPIN_US (bench/breakdown.ts) adds a busy loop of that many microseconds to each request;
// BASELINE_COALESCE=1 writes its answers as the sidecar does (src/plugins/coalesce-writes.ts).
import Fastify from 'fastify'
import coalesceWrites from '../src/plugins/coalesce-writes.js'

const spinMs = Number(process.env.BASELINE_SPIN_US ?? 0) / 1000
const app = Fastify({ logger: false })
if (process.env.BASELINE_COALESCE === '1') await app.register(coalesceWrites)
app.post('/dedupe', async (request) => {
  const body = request.body as { system: string; itemId: string; version: string }
  if (spinMs > 0) for (const end = performance.now() + spinMs; performance.now() < end; );
  return { decision: 'process', key: { tenant: 'default', system: body.system, itemId: body.itemId, version: body.version } }
})
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
