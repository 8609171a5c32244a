// `npm run bench`: /dedupe on memory and Redis against a bare Fastify echo route, and /dedupe/batch vs single calls.
// Every target runs in its own child process; one autocannon instance with the same connections drives them all, a
// slice of seconds at a time, the targets taking turns (measureInterleaved).
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { RedisServer } from '../test/support/redis-server.js'
import { CONNECTIONS, ROUNDS, SECONDS, SLICE_SECONDS, claimThenCommit, emptiedRedisEnv, measure, measureInterleaved, median, memoryStoreEnv, posts, serverTarget, uniqueEvent, type Measured } from './harness.js'

const BATCH = 100
const root = new URL('..', import.meta.url)

type Run = Measured
type Round = Record<'base' | 'baseCoalesced' | 'mem' | 'red' | 'memBatch' | 'redBatch', Run>
const round2 = (value: number) => Math.round(value * 100) / 100
/** The goals' ratios, each from the runs of one round (unrounded). */
const ratios = {
  memory: (round: Round) => round.mem.requestsPerSecond / round.base.requestsPerSecond,
  redis: (round: Round) => round.red.requestsPerSecond / round.base.requestsPerSecond,
  batchMemory: (round: Round) => (round.memBatch.requestsPerSecond * BATCH) / round.mem.requestsPerSecond,
  batchRedis: (round: Round) => (round.redBatch.requestsPerSecond * BATCH) / round.red.requestsPerSecond,
}
/**
 * No goal: /dedupe against the baseline writing its answers as the sidecar does (src/plugins/coalesce-writes.ts), so
 * what that way of writing gains is seen apart from the route's own cost. The goals are against the bare route.
 */
const againstCoalesced = {
  memory: (round: Round) => round.mem.requestsPerSecond / round.baseCoalesced.requestsPerSecond,
  redis: (round: Round) => round.red.requestsPerSecond / round.baseCoalesced.requestsPerSecond,
}

const redis = await RedisServer.start()
const memoryBound = memoryStoreEnv().MEMORY_MAX_ITEMS
try {
  const baseline = serverTarget('baseline', 'bench/baseline-server.ts', async () => ({}))
  const baselineCoalesced = serverTarget('baseline, coalesced writes', 'bench/baseline-server.ts', async () => ({ BASELINE_COALESCE: '1' }))
  const memory = serverTarget('memory', 'dist/server.js', async () => memoryStoreEnv())
  // a fresh database for each round (both Redis targets start before either is loaded)
  const onRedis = serverTarget('redis', 'dist/server.js', () => emptiedRedisEnv(redis.url))

  process.stdout.write(
    `benchmark: ${SECONDS}s per target and round, in slices of about ${SLICE_SECONDS}s taking turns, ${ROUNDS} rounds, ${CONNECTIONS} connections, unique itemIds, memory store bound ${memoryBound}\n`,
  )
  const singles = 60_000 * SECONDS
  // room for 3,000 batches a second (300,000 events), above the fastest run so far (about 2,040 a second, which
  // outpaced 2,000 a second and repeated itemIds)
  const batches = 3_000 * SECONDS
  const batchBody = () => ({ events: Array.from({ length: BATCH }, uniqueEvent) })
  // Each round starts every target afresh and measures them in turns of short slices, so a machine whose speed drifts
  // moves them alike; its ratios use only its own runs, and the median round's ratio is reported.
  const rounds: Round[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const finished = await measureInterleaved<keyof Round>({
      base: { target: baseline, load: posts('/dedupe'), makeBody: uniqueEvent, poolSize: singles },
      baseCoalesced: { target: baselineCoalesced, load: posts('/dedupe'), makeBody: uniqueEvent, poolSize: singles },
      mem: { target: memory, load: posts('/dedupe'), makeBody: uniqueEvent, poolSize: singles },
      red: { target: onRedis, load: posts('/dedupe'), makeBody: uniqueEvent, poolSize: singles, alsoPid: redis.pid },
      memBatch: { target: memory, load: posts('/dedupe/batch'), makeBody: batchBody, poolSize: batches },
      redBatch: { target: onRedis, load: posts('/dedupe/batch'), makeBody: batchBody, poolSize: batches, alsoPid: redis.pid },
    })
    rounds.push(finished)
    const [m, r, mb, rb] = [ratios.memory, ratios.redis, ratios.batchMemory, ratios.batchRedis].map((of) => round2(of(finished)))
    process.stdout.write(`round ${round} of ${ROUNDS}: /dedupe memory ${m}, redis ${r}; batch memory ${mb}x, redis ${rb}x\n`)
  }
  // no goal: what a Mule flow's claim and commit cost together (once, after the rounds)
  const memFlow = await measure(memory, claimThenCommit, uniqueEvent, singles / 2)
  const redFlow = await measure(onRedis, claimThenCommit, uniqueEvent, singles / 2, redis.pid)

  const footprint = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/memory-footprint.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`footprint exited ${code}`))))
  })

  // A target's row: the median of each figure over the rounds; the ratio is the median of the rounds' ratios.
  const summary = (name: keyof Round, per = 1) => {
    const of = (pick: (run: Run) => number | undefined) => {
      const values = rounds.map((round) => pick(round[name])).filter((value): value is number => value !== undefined)
      return values.length > 0 ? median(values) : undefined
    }
    return {
      requestsPerSecond: Math.round(of((run) => run.requestsPerSecond)!),
      eventsPerSecond: Math.round(of((run) => run.requestsPerSecond * per)!),
      p99Ms: of((run) => run.p99Ms)!,
      serverCpuUsPerEvent: of((run) => run.serverCpuUsPerRequest === undefined ? undefined : run.serverCpuUsPerRequest / per),
      redisCpuUsPerEvent: of((run) => run.redisCpuUsPerRequest === undefined ? undefined : run.redisCpuUsPerRequest / per),
      loadGeneratorCpuUsPerEvent: of((run) => run.loadGeneratorCpuUsPerRequest === undefined ? undefined : run.loadGeneratorCpuUsPerRequest / per),
    }
  }
  const ratioOf = (of: (round: Round) => number) => round2(median(rounds.map(of)))
  const report = {
    seconds: SECONDS,
    rounds: ROUNDS,
    connections: CONNECTIONS,
    cpus: (await import('node:os')).cpus().length,
    memoryMaxItems: memoryBound,
    baseline: summary('base'),
    baselineCoalesced: {
      ...summary('baseCoalesced'),
      dedupeMemoryRatio: ratioOf(againstCoalesced.memory),
      dedupeRedisRatio: ratioOf(againstCoalesced.redis),
    },
    dedupeMemory: { ...summary('mem'), ratioToBaseline: ratioOf(ratios.memory), goal: 0.85 },
    dedupeRedis: { ...summary('red'), ratioToBaseline: ratioOf(ratios.redis), goal: 0.6 },
    batchMemory: { ...summary('memBatch', BATCH), ratioToSingle: ratioOf(ratios.batchMemory), goal: 10 },
    batchRedis: { ...summary('redBatch', BATCH), ratioToSingle: ratioOf(ratios.batchRedis), goal: 10 },
    claimThenCommitMemory: { ...memFlow, eventsPerSecond: Math.round(memFlow.requestsPerSecond / 2) },
    claimThenCommitRedis: { ...redFlow, eventsPerSecond: Math.round(redFlow.requestsPerSecond / 2) },
    memoryFootprint: JSON.parse(footprint),
    perRound: rounds,
  }

  const micros = (value: number | undefined, per = 1) => (value === undefined ? 'n/a' : Math.round((value / per) * 10) / 10)
  const row = (target: string, s: ReturnType<typeof summary>, ratio: number | string, goal: string) =>
    [target, s.eventsPerSecond, s.p99Ms, micros(s.serverCpuUsPerEvent), s.redisCpuUsPerEvent === undefined ? '-' : micros(s.redisCpuUsPerEvent), micros(s.loadGeneratorCpuUsPerEvent), ratio, goal]
  const rows = [
    row('baseline echo route', report.baseline, '-', '-'),
    row(
      'baseline, answers written as the sidecar writes them',
      report.baselineCoalesced,
      `/dedupe against it: memory ${report.baselineCoalesced.dedupeMemoryRatio}, redis ${report.baselineCoalesced.dedupeRedisRatio}`,
      'no goal',
    ),
    row('/dedupe memory', report.dedupeMemory, report.dedupeMemory.ratioToBaseline, '>= 0.85'),
    row('/dedupe redis', report.dedupeRedis, report.dedupeRedis.ratioToBaseline, '>= 0.60'),
    row('/dedupe/batch x100 memory (events/s)', report.batchMemory, `${report.batchMemory.ratioToSingle}x`, '>= 10x'),
    row('/dedupe/batch x100 redis (events/s)', report.batchRedis, `${report.batchRedis.ratioToSingle}x`, '>= 10x'),
    // two requests an event: CPU per request times two
    ['/dedupe then /dedupe/commit memory (events/s)', Math.round(memFlow.requestsPerSecond / 2), memFlow.p99Ms, micros(memFlow.serverCpuUsPerRequest, 0.5), '-', micros(memFlow.loadGeneratorCpuUsPerRequest, 0.5), '-', '-'],
    ['/dedupe then /dedupe/commit redis (events/s)', Math.round(redFlow.requestsPerSecond / 2), redFlow.p99Ms, micros(redFlow.serverCpuUsPerRequest, 0.5), micros(redFlow.redisCpuUsPerRequest, 0.5), micros(redFlow.loadGeneratorCpuUsPerRequest, 0.5), '-', '-'],
  ]
  process.stdout.write(
    `\nmedians of ${ROUNDS} rounds (the claim-then-commit rows: one run)\n\n| target | req/s (events/s) | p99 ms | server CPU µs per request (per event) | redis-server CPU µs per request (per event) | load generator CPU µs per request (per event) | ratio | goal |\n|---|---|---|---|---|---|---|---|\n`,
  )
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`)
  process.stdout.write(`\nmemory store: ${footprint}\n`)
  const runs: Array<[string, Run]> = [
    ...rounds.flatMap((round, i) => Object.entries(round).map(([name, run]): [string, Run] => [`round ${i + 1} ${name}`, run])),
    ['claim then commit memory', memFlow],
    ['claim then commit redis', redFlow],
  ]
  const outpaced = runs.filter(([, run]) => run.reusedBodies).map(([name]) => name)
  if (outpaced.length > 0) process.stdout.write(`NOTE: outpaced its body pool, so some itemIds repeated: ${outpaced.join(', ')}\n`)
  const failed = runs.filter(([, run]) => run.errors + run.non2xx > 0)
  if (failed.length > 0) {
    const detail = failed.map(([name, run]) => `${name}: ${run.errors} errors, non-2xx ${JSON.stringify(run.otherStatuses)}`).join('; ')
    process.stdout.write(`WARNING: errors or non-2xx answers during the runs (${detail})\n`)
  }
  mkdirSync(new URL('bench/results/', root), { recursive: true })
  writeFileSync(new URL('bench/results/latest.json', root), JSON.stringify(report, null, 2))
  process.stdout.write('written to bench/results/latest.json\n')
} finally {
  await redis.destroy()
}
