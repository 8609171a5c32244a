// The sidecar as server.ts builds it, plus /breakdown/* routes that stop partway along /dedupe's path, so
// bench/breakdown.ts can price each part: the stack alone, zod validation, and the memory store's claim; and floors:
// routes that claim in the least way any store could, to show what /dedupe could reach at best on this machine.
// With REDIS_URL set the store is Redis, and the Redis floors are served too.
// Plain JavaScript over the compiled dist/ (npm run build), like the real server: tsx would add its own costs.
import { buildApp, registerApiGuards } from '../dist/app.js'
import { loadConfig } from '../dist/config.js'
import { readDedupeRequest } from '../dist/domain/dedupe-event.js'
import { createLogger } from '../dist/logger.js'
import { createMetrics } from '../dist/plugins/metrics.js'
import { dedupeRequestSchema, dedupeResponseSchema } from '../dist/routes/dedupe-schemas.js'
import { itemMapKey } from '../dist/domain/keys.js'
import { createStore } from '../dist/stores/index.js'
import { createNonce } from '../dist/stores/nonce.js'
import { closeRedisClient, createRedisClient, waitUntilReady } from '../dist/stores/redis/connection.js'
import { Gatherer } from '../dist/stores/redis/gatherer.js'
import { BareMapClaims } from './bare-map.mjs'

const config = loadConfig()
const logger = createLogger(config.logLevel)
const store = await createStore(config, { logger })
const app = await buildApp(config, { store, logger, metrics: createMetrics() })

// The baseline's answer, so the steps differ from it only in what they run.
const echo = (body) => ({ decision: 'process', key: { tenant: 'default', system: body.system, itemId: body.itemId, version: body.version } })
const schema = { body: dedupeRequestSchema, response: { 200: dedupeResponseSchema } }

const readEvent = (body) => readDedupeRequest(body, { leaseMs: config.defaultLeaseMs, allowFanOut: false })[0]

// The memory floor: the store's bound, one small object an item, no rules (bench/bare-map.mjs).
const bareMap = new BareMapClaims(config.memoryMaxItems, createNonce)

// The Redis floors, gathered per pass of the event loop into one script call as the store gathers its claims, the
// arguments as one JSON string as the store sends them (the store sends a pass's lone claim in a script of its own,
// its arguments one by one), over a client made as the store makes its own: a call that runs no command (the round
// trip alone), and one that claims each key with a single SET NX PX of its token and version, the least an atomic
// claim with a lease can do on Redis.
const ROUND_TRIP_LUA = `local A = cjson.decode(ARGV[1])
local r = {}
for i = 1, #KEYS do r[i] = 1 end
return r`
const SET_NX_LUA = `local A = cjson.decode(ARGV[1])
local r = {}
for i = 1, #KEYS do r[i] = redis.call('SET', KEYS[i], A[3 * i - 2] .. '|' .. A[3 * i - 1], 'NX', 'PX', A[3 * i]) and 1 or 0 end
return r`
const redis = config.store === 'redis' ? createRedisClient(config, logger) : undefined
if (redis && !(await waitUntilReady(redis, 5_000))) throw new Error(`the floors' Redis client did not connect to ${config.redisUrl}`)
redis?.defineCommand('floorRoundTrip', { lua: ROUND_TRIP_LUA })
redis?.defineCommand('floorSetNx', { lua: SET_NX_LUA })
const gathered = (command) =>
  new Gatherer(async (events) => {
    const keys = events.map((event) => `floor:${itemMapKey(event.key)}`)
    const args = JSON.stringify(events.flatMap((event) => [`1.${createNonce()}`, event.version, String(event.leaseMs)]))
    return redis[command](keys.length, ...keys, args)
  })
const redisFloors = redis && { roundTrip: gathered('floorRoundTrip'), setNx: gathered('floorSetNx') }

await app.register(async (api) => {
  await registerApiGuards(api, config)
  api.post('/breakdown/stack', async (request) => echo(request.body))
  api.post('/breakdown/validated', { schema }, async (request) => echo(request.body))
  api.post('/breakdown/claimed', { schema }, async (request) => {
    const event = readEvent(request.body)
    const now = Date.now()
    // Object literals written out: on Node 20, `{ ...object, more }` costs ~0.4-1.3 us a time (bench/object-spread.mjs).
    const { key, version } = event
    const input = { key, version, modifiedAt: event.modifiedAt, changeType: event.changeType, fingerprint: event.fingerprint, gap: event.gap, overflow: event.overflow, leaseMs: event.leaseMs, now, ttlMs: config.dedupeTtlMs, meta: event.meta }
    const { decision } = await store.dedupe.claim(input)
    return { decision, key: { tenant: key.tenant, system: key.system, itemId: key.itemId, version } }
  })
  api.post('/breakdown/bare-map', { schema }, async (request) => {
    const event = readEvent(request.body)
    const claim = bareMap.claim(itemMapKey(event.key), event.version, Date.now(), event.leaseMs)
    if (claim === undefined) throw new Error('a new item was held: the floor must only claim new items')
    return echo(request.body)
  })
  if (redisFloors) {
    api.post('/breakdown/redis-round-trip', { schema }, async (request) => {
      await redisFloors.roundTrip.add(readEvent(request.body))
      return echo(request.body)
    })
    api.post('/breakdown/redis-set-nx', { schema }, async (request) => {
      if ((await redisFloors.setNx.add(readEvent(request.body))) !== 1) throw new Error('a new item was held: the floor must only claim new items')
      return echo(request.body)
    })
  }
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => store.close()).then(() => redis && closeRedisClient(redis)).then(() => process.exit(0)))
