// `npm run bench:breakdown`: where /dedupe's cost goes, on the memory store and on Redis, and the floors: what any
// claim could reach at best here. Each step runs in a fresh process under the same load as `npm run bench`; the table
// shows requests/s against the bare route and CPU per request.
//   bare route            the baseline of `npm run bench`
//   bare route + N us     the same with a busy loop of N us (BREAKDOWN_SPIN_US, default 3,6,10): how requests/s
//                         fall as the server gets slower, and what it pays beyond N once it is the slower side
//   + coalesced writes    the bare route writing its answers as the sidecar does (src/plugins/coalesce-writes.ts),
//                         with the largest busy loop: what the sidecar's way of writing gains a route that is slower
//                         than its client, apart from the route's own work
//   bare route + bare Map the bare route claiming each item in a plain Map of the memory store's bound first, one
//                         small object an item, no rules (bench/bare-map.mjs): the least a memory claim adds to a route
//   sidecar stack         the sidecar's app (logger, correlation id, metrics, body guard, overload check, answers
//                         written together once per pass), no schema
//   + zod validation      the /dedupe request schema (answers are serialised with JSON.stringify, unchecked)
//   + bare Map claim      the memory floor of the sidecar: readDedupeRequest, then the same bare Map claim
//   + memory claim        readDedupeRequest and the memory store's claim
//   /dedupe               the real route: reasons, claim token, last state, decision metrics
// and on Redis (a redis-server of the benchmark's own, emptied before each step):
//   + Redis round trip    readDedupeRequest, then the requests of one pass gathered into one script call that runs
//                         no command, as the store gathers its claims: the round trip alone
//   + SET NX PX           the Redis floor: the same call claiming each item with one SET NX PX, the least an atomic
//                         claim with a lease can do on Redis
//   + Redis claim         readDedupeRequest and the Redis store's claim
//   /dedupe (Redis)       the real route on Redis
// BREAKDOWN_STEPS=memory or redis runs the bare route and the shared steps with that store's steps only.
import { RedisServer } from '../test/support/redis-server.js'
import { CONNECTIONS, ROUNDS, SECONDS, emptiedRedisEnv, measure, median, memoryStoreEnv, posts, serverTarget, uniqueEvent, type Target } from './harness.js'

// Busy loops to add to the bare route, in us: several show where a slower server starts to lose requests/s.
const SPINS_US = (process.env.BREAKDOWN_SPIN_US ?? '3,6,10').split(',').map(Number)
if (SPINS_US.some((us) => !(us > 0))) throw new Error(`BREAKDOWN_SPIN_US must be positive numbers separated by commas, not ${process.env.BREAKDOWN_SPIN_US}`)
const STEPS = process.env.BREAKDOWN_STEPS ?? 'all'
if (!['all', 'memory', 'redis'].includes(STEPS)) throw new Error(`BREAKDOWN_STEPS must be all, memory or redis, not ${STEPS}`)

const redis = STEPS === 'memory' ? undefined : await RedisServer.start()
const memory = async () => memoryStoreEnv()
const bareRoute = (env: Record<string, string>) => async () => env
const sidecarStep = (path: string) => ({ target: serverTarget(path, 'bench/breakdown-server.mjs', memory), path })
// the same server on the benchmark's redis-server, emptied before each step
const redisStep = (path: string) => ({
  redis: true,
  target: serverTarget(`${path} (Redis)`, 'bench/breakdown-server.mjs', () => emptiedRedisEnv(redis!.url)),
  path,
})
// `after`: the step whose CPU this one adds to; `redis`: the step runs on the benchmark's redis-server
interface Step {
  name: string
  after?: string
  redis?: boolean
  target: Target
  path: string
}
const zod = '+ zod request validation'
const steps: Step[] = [
  { name: 'bare route', target: serverTarget('bare', 'bench/baseline-server.ts', bareRoute({})), path: '/dedupe' },
  ...SPINS_US.map((us) => ({
    name: `bare route + ${us} us busy loop`,
    after: 'bare route',
    target: serverTarget(`spin ${us}`, 'bench/baseline-server.ts', bareRoute({ BASELINE_SPIN_US: String(us) })),
    path: '/dedupe',
  })),
  {
    name: `bare route + ${Math.max(...SPINS_US)} us busy loop + coalesced writes`,
    after: `bare route + ${Math.max(...SPINS_US)} us busy loop`,
    target: serverTarget('spin coalesced', 'bench/baseline-server.ts', bareRoute({ BASELINE_SPIN_US: String(Math.max(...SPINS_US)), BASELINE_COALESCE: '1' })),
    path: '/dedupe',
  },
  ...(STEPS === 'redis'
    ? []
    : [
        {
          name: 'bare route + bare Map claim',
          after: 'bare route',
          // the memory store's bound as the benchmarks run it
          target: serverTarget('bare map', 'bench/baseline-server.ts', bareRoute({ BASELINE_BARE_MAP: memoryStoreEnv().MEMORY_MAX_ITEMS })),
          path: '/dedupe',
        },
      ]),
  { name: 'sidecar stack, no schema', after: 'bare route', ...sidecarStep('/breakdown/stack') },
  { name: zod, after: 'sidecar stack, no schema', ...sidecarStep('/breakdown/validated') },
  ...(STEPS === 'redis'
    ? []
    : [
        { name: '+ bare Map claim', after: zod, ...sidecarStep('/breakdown/bare-map') },
        { name: '+ memory claim', after: zod, ...sidecarStep('/breakdown/claimed') },
        { name: '/dedupe (memory)', after: '+ memory claim', ...sidecarStep('/dedupe') },
      ]),
  ...(STEPS === 'memory'
    ? []
    : [
        { name: '+ Redis round trip, no command', after: zod, ...redisStep('/breakdown/redis-round-trip') },
        { name: '+ SET NX PX (the Redis floor)', after: zod, ...redisStep('/breakdown/redis-set-nx') },
        { name: '+ Redis claim', after: zod, ...redisStep('/breakdown/claimed') },
        { name: '/dedupe (Redis)', after: '+ Redis claim', ...redisStep('/dedupe') },
      ]),
]

try {
  // Rounds run the steps in turn, so a slow minute of a shared machine touches every step; medians are reported.
  process.stdout.write(`breakdown: ${SECONDS}s per step, ${ROUNDS} rounds (medians), ${CONNECTIONS} connections, unique itemIds\n`)
  const runs = new Map<string, { rps: number[]; cpu: number[]; redisCpu: number[] }>(steps.map((step) => [step.name, { rps: [], cpu: [], redisCpu: [] }]))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const step of steps) {
      const run = await measure(step.target, posts(step.path), uniqueEvent, 60_000 * SECONDS, step.redis ? redis!.pid : undefined)
      if (run.non2xx + run.errors > 0) throw new Error(`${step.name}: ${run.non2xx} non-2xx answers and ${run.errors} errors ${JSON.stringify(run.otherStatuses)}`)
      const seen = runs.get(step.name)!
      seen.rps.push(run.requestsPerSecond)
      if (run.serverCpuUsPerRequest !== undefined) seen.cpu.push(run.serverCpuUsPerRequest)
      if (run.redisCpuUsPerRequest !== undefined) seen.redisCpu.push(run.redisCpuUsPerRequest)
    }
    process.stdout.write(`round ${round} of ${ROUNDS} done\n`)
  }

  process.stdout.write('\n| step | req/s | ratio to bare route | server CPU us/request | CPU added to | redis-server CPU us/request |\n|---|---|---|---|---|---|\n')
  const bare = median(runs.get(steps[0].name)!.rps)
  const of = (values: number[]) => (values.length > 0 ? Math.round(median(values) * 10) / 10 : undefined)
  const cpuOf = (name: string) => of(runs.get(name)!.cpu)
  for (const step of steps) {
    const rps = Math.round(median(runs.get(step.name)!.rps))
    const cpu = cpuOf(step.name)
    const base = step.after === undefined ? undefined : cpuOf(step.after)
    const added = cpu === undefined || base === undefined ? '-' : `${cpu >= base ? '+' : ''}${Math.round((cpu - base) * 10) / 10} (${step.after})`
    process.stdout.write(`| ${step.name} | ${rps} | ${Math.round((rps / bare) * 100) / 100} | ${cpu ?? 'n/a'} | ${added} | ${of(runs.get(step.name)!.redisCpu) ?? '-'} |\n`)
  }
} finally {
  await redis?.destroy()
}
