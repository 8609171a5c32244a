// The benchmark's baseline: a bare Fastify route that parses the JSON body and returns { decision, key }.
// BASELINE_SPIN_US (bench/breakdown.ts) adds a busy loop of that many microseconds to each request;
// BASELINE_COALESCE=1 writes its answers as the sidecar does (src/plugins/coalesce-writes.ts). BASELINE_BARE_MAP=N
// claims each item in a bare Map of N items first (bench/bare-map.mjs): the least a memory claim adds to a route.
import Fastify from 'fastify'
import coalesceWrites from '../src/plugins/coalesce-writes.js'
import { createNonce } from '../src/stores/nonce.js'
import { BareMapClaims } from './bare-map.mjs'

const spinMs = Number(process.env.BASELINE_SPIN_US ?? 0) / 1000
const bareMapBound = Number(process.env.BASELINE_BARE_MAP ?? 0)
const bareMap = bareMapBound > 0 ? new BareMapClaims(bareMapBound, createNonce) : undefined
const app = Fastify({ logger: false })
if (process.env.BASELINE_COALESCE === '1') await app.register(coalesceWrites)
app.post('/dedupe', async (request) => {
  const body = request.body as { system: string; itemId: string; version: string }
  if (spinMs > 0) for (const end = performance.now() + spinMs; performance.now() < end; );
  if (bareMap && !bareMap.claim(`default\u0000${body.system}\u0000${body.itemId}`, body.version, Date.now(), 60_000)) throw new Error('a new item was held')
  return { decision: 'process', key: { tenant: 'default', system: body.system, itemId: body.itemId, version: body.version } }
})
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
