// `npm run bench`: /dedupe on memory and Redis against a bare Fastify echo route, and /dedupe/batch vs single calls.
// Every target runs in its own child process; one autocannon instance with the same connections drives them all.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { RedisServer } from '../test/support/redis-server.js'
import { CONNECTIONS, SECONDS, claimThenCommit, measure, posts, serverTarget, uniqueEvent } from './harness.js'

const BATCH = 100
const root = new URL('..', import.meta.url)

const redis = await RedisServer.start()
try {
  const baseline = serverTarget('baseline', 'bench/baseline-server.ts', async () => ({}))
  const memory = serverTarget('memory', 'dist/server.js', async () => ({ STORE: 'memory', MEMORY_MAX_ITEMS: '2000000' }))
  const onRedis = serverTarget('redis', 'dist/server.js', async () => {
    // a fresh database per target keeps runs comparable
    const { Redis } = await import('ioredis')
    const client = new Redis(redis.url)
    await client.flushall()
    await client.quit()
    return { REDIS_URL: redis.url }
  })

  const report: Record<string, unknown> = { seconds: SECONDS, connections: CONNECTIONS, cpus: (await import('node:os')).cpus().length }
  process.stdout.write(`benchmark: ${SECONDS}s per run, ${CONNECTIONS} connections, unique itemIds\n`)
  const singles = 60_000 * SECONDS
  const batches = 2_000 * SECONDS
  const base = await measure(baseline, posts('/dedupe'), uniqueEvent, singles)
  const mem = await measure(memory, posts('/dedupe'), uniqueEvent, singles)
  const red = await measure(onRedis, posts('/dedupe'), uniqueEvent, singles, redis.pid)
  const batchBody = () => ({ events: Array.from({ length: BATCH }, uniqueEvent) })
  const memBatch = await measure(memory, posts('/dedupe/batch'), batchBody, batches)
  const redBatch = await measure(onRedis, posts('/dedupe/batch'), batchBody, batches, redis.pid)
  // no goal: what a Mule flow's claim and commit cost together
  const memFlow = await measure(memory, claimThenCommit, uniqueEvent, singles / 2)
  const redFlow = await measure(onRedis, claimThenCommit, uniqueEvent, singles / 2, redis.pid)

  const footprint = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/memory-footprint.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`footprint exited ${code}`))))
  })

  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100
  Object.assign(report, {
    baseline: base,
    dedupeMemory: { ...mem, ratioToBaseline: ratio(mem.requestsPerSecond, base.requestsPerSecond), goal: 0.85 },
    dedupeRedis: { ...red, ratioToBaseline: ratio(red.requestsPerSecond, base.requestsPerSecond), goal: 0.6 },
    batchMemory: { ...memBatch, eventsPerSecond: memBatch.requestsPerSecond * BATCH, ratioToSingle: ratio(memBatch.requestsPerSecond * BATCH, mem.requestsPerSecond), goal: 10 },
    batchRedis: { ...redBatch, eventsPerSecond: redBatch.requestsPerSecond * BATCH, ratioToSingle: ratio(redBatch.requestsPerSecond * BATCH, red.requestsPerSecond), goal: 10 },
    claimThenCommitMemory: { ...memFlow, eventsPerSecond: Math.round(memFlow.requestsPerSecond / 2) },
    claimThenCommitRedis: { ...redFlow, eventsPerSecond: Math.round(redFlow.requestsPerSecond / 2) },
    memoryFootprint: JSON.parse(footprint),
  })

  const micros = (value: number | undefined, per = 1) => (value === undefined ? 'n/a' : Math.round((value / per) * 10) / 10)
  const cpu = (run: { serverCpuUsPerRequest?: number }, per = 1) => micros(run.serverCpuUsPerRequest, per)
  const redisCpu = (run: { redisCpuUsPerRequest?: number }, per = 1) => micros(run.redisCpuUsPerRequest, per)
  const rows = [
    ['baseline echo route', base.requestsPerSecond, base.p99Ms, cpu(base), '-', '-', '-'],
    ['/dedupe memory', mem.requestsPerSecond, mem.p99Ms, cpu(mem), '-', (report.dedupeMemory as { ratioToBaseline: number }).ratioToBaseline, '>= 0.85'],
    ['/dedupe redis', red.requestsPerSecond, red.p99Ms, cpu(red), redisCpu(red), (report.dedupeRedis as { ratioToBaseline: number }).ratioToBaseline, '>= 0.60'],
    ['/dedupe/batch x100 memory (events/s)', memBatch.requestsPerSecond * BATCH, memBatch.p99Ms, cpu(memBatch, BATCH), '-', (report.batchMemory as { ratioToSingle: number }).ratioToSingle, '>= 10x'],
    ['/dedupe/batch x100 redis (events/s)', redBatch.requestsPerSecond * BATCH, redBatch.p99Ms, cpu(redBatch, BATCH), redisCpu(redBatch, BATCH), (report.batchRedis as { ratioToSingle: number }).ratioToSingle, '>= 10x'],
    // two requests an event: CPU per request times two
    ['/dedupe then /dedupe/commit memory (events/s)', Math.round(memFlow.requestsPerSecond / 2), memFlow.p99Ms, cpu(memFlow, 0.5), '-', '-', '-'],
    ['/dedupe then /dedupe/commit redis (events/s)', Math.round(redFlow.requestsPerSecond / 2), redFlow.p99Ms, cpu(redFlow, 0.5), redisCpu(redFlow, 0.5), '-', '-'],
  ]
  process.stdout.write(
    '\n| target | req/s (events/s) | p99 ms | server CPU µs per request (per event) | redis-server CPU µs per request (per event) | ratio | goal |\n|---|---|---|---|---|---|---|\n',
  )
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`)
  process.stdout.write(`\nmemory store: ${footprint}\n`)
  const runs = [base, mem, red, memBatch, redBatch, memFlow, redFlow]
  const outpaced = rows.filter((_, i) => runs[i].reusedBodies).map((row) => row[0])
  if (outpaced.length > 0) process.stdout.write(`NOTE: outpaced its body pool, so some itemIds repeated: ${outpaced.join(', ')}\n`)
  const errors = runs.reduce((n, r) => n + r.errors + r.non2xx, 0)
  if (errors > 0) {
    const statuses = runs.map((r) => JSON.stringify(r.otherStatuses)).join(' ')
    process.stdout.write(`WARNING: ${errors} errors or non-2xx answers during the runs (non-2xx by run: ${statuses})\n`)
  }
  mkdirSync(new URL('bench/results/', root), { recursive: true })
  writeFileSync(new URL('bench/results/latest.json', root), JSON.stringify(report, null, 2))
  process.stdout.write('written to bench/results/latest.json\n')
} finally {
  await redis.destroy()
}
