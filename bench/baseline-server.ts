// The benchmark's baseline: a bare Fastify route that parses the JSON body and returns { decision, key }.
// BASELINE_SPIN_US (bench/breakdown.ts) adds a busy loop of that many microseconds to each request;
// BASELINE_COALESCE=1 writes its answers as the sidecar does (src/plugins/coalesce-writes.ts). BASELINE_BARE_MAP=N
// claims each item in a bare Map of N items first (bench/bare-map.mjs): the least a memory claim adds to a route.
import Fastify from 'fastify'
import coalesceWrites from '../src/plugins/coalesce-writes.js'
import { itemMapKey } from '../src/domain/keys.js'
import { createNonce } from '../src/stores/nonce.js'
import { BareMapClaims } from './bare-map.mjs'

/** A setting of at least 0 (0 when unset), a whole number where asked; anything else stops the server. */
function setting(name: string, whole: boolean): number {
  const value = Number(process.env[name] ?? 0)
  if (!(value >= 0) || !Number.isFinite(value) || (whole && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${whole ? 'a whole number' : 'a number'} of at least 0, not ${process.env[name]}`)
  }
  return value
}
// A claim's lease: any will do for a floor, whose items are all new.
const LEASE_MS = 60_000
const spinMs = setting('BASELINE_SPIN_US', false) / 1000
const bareMapBound = setting('BASELINE_BARE_MAP', true)
const bareMap = bareMapBound > 0 ? new BareMapClaims(bareMapBound, createNonce) : undefined
const app = Fastify({ logger: false })
if (process.env.BASELINE_COALESCE === '1') await app.register(coalesceWrites)
app.post('/dedupe', async (request) => {
  const body = request.body as { system: string; itemId: string; version: string }
  if (spinMs > 0) for (const end = performance.now() + spinMs; performance.now() < end; );
  if (bareMap && !bareMap.claim(itemMapKey({ tenant: 'default', system: body.system, itemId: body.itemId }), body.version, Date.now(), LEASE_MS)) {
    throw new Error('a new item was held')
  }
  // written out, not spread: a spread costs this route more than its own work (bench/object-spread.mjs)
  return { decision: 'process', key: { tenant: 'default', system: body.system, itemId: body.itemId, version: body.version } }
})
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
