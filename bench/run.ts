// `npm run bench`: /dedupe on memory and Redis against a bare Fastify echo route, and /dedupe/batch vs single calls.
// Every target runs in its own child process; one autocannon instance with the same connections drives them all.
import autocannon from 'autocannon'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { freePort, RedisServer } from '../test/support/redis-server.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20)
const BATCH = 100
const root = new URL('..', import.meta.url)

interface Target {
  name: string
  start(): Promise<{ url: string; child: ChildProcess }>
}

async function waitReady(url: string, child: ChildProcess) {
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    try {
      const res = await fetch(url + '/healthz').catch(() => fetch(url + '/dedupe', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }))
      if (res.status < 500) return
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`server at ${url} did not start`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function node(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, script.endsWith('.ts') ? ['--import', 'tsx', script] : [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}

const sidecar = (name: string, env: () => Promise<Record<string, string>>): Target => ({
  name,
  async start() {
    const port = await freePort()
    const child = node('dist/server.js', { ...(await env()), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' })
    const url = `http://127.0.0.1:${port}`
    await waitReady(url, child)
    return { url, child }
  },
})

let counter = 0
const uniqueEvent = () => {
  counter++
  return { system: 'outlook', itemId: `bench-${process.pid}-${counter}`, version: 'v1', modifiedAt: 1773048605000 + counter, changeType: 'updated' }
}

// Bodies are made before a run starts, so the load generator spends its CPU on requests, not on JSON.
// A pool larger than a run can use keeps every itemId unique; it is cycled only if a run outpaces it.
function pool(size: number, make: () => unknown): string[] {
  return Array.from({ length: size }, () => JSON.stringify(make()))
}

async function load(url: string, path: string, bodies: string[]) {
  let next = 0
  const result = await autocannon({
    url: url + path,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  })
  return {
    requestsPerSecond: Math.round(result.requests.average),
    totalRequests: result.requests.total,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    reusedBodies: next > bodies.length,
    // status code -> count, for the answers that were not 2xx (429 means under-pressure shed load)
    otherStatuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, stat]) => [code, stat.count])),
  }
}

// Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on common Linux builds).
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

// CPU time (user + system) a process has used, in microseconds, from /proc on Linux; undefined elsewhere.
function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

const perRequest = (before: number | undefined, after: number | undefined, requests: number) =>
  before === undefined || after === undefined || requests === 0 ? undefined : Math.round((after - before) / requests)

/** `alsoPid`: another process whose CPU per request is reported beside the server's (redis-server). */
async function measure(target: Target, path: string, makeBody: () => unknown, poolSize: number, alsoPid?: number) {
  const warmUp = pool(Math.ceil(poolSize / 4), makeBody)
  const bodies = pool(poolSize, makeBody)
  const { url, child } = await target.start()
  try {
    await load(url, path, warmUp) // warm-up, not counted
    const before = { server: cpuMicros(child.pid), also: cpuMicros(alsoPid) }
    const result = await load(url, path, bodies)
    const after = { server: cpuMicros(child.pid), also: cpuMicros(alsoPid) }
    return {
      ...result,
      serverCpuUsPerRequest: perRequest(before.server, after.server, result.totalRequests),
      redisCpuUsPerRequest: perRequest(before.also, after.also, result.totalRequests),
    }
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}

const redis = await RedisServer.start()
try {
  const baseline: Target = {
    name: 'baseline',
    async start() {
      const port = await freePort()
      const child = node('bench/baseline-server.ts', { PORT: String(port) })
      const url = `http://127.0.0.1:${port}`
      await waitReady(url, child)
      return { url, child }
    },
  }
  const memory = sidecar('memory', async () => ({ STORE: 'memory', MEMORY_MAX_ITEMS: '2000000' }))
  const onRedis = sidecar('redis', async () => {
    // a fresh database per target keeps runs comparable
    const { Redis } = await import('ioredis')
    const client = new Redis(redis.url)
    await client.flushall()
    await client.quit()
    return { REDIS_URL: redis.url }
  })

  const report: Record<string, unknown> = { seconds: SECONDS, connections: CONNECTIONS, cpus: (await import('node:os')).cpus().length }
  process.stdout.write(`benchmark: ${SECONDS}s per run, ${CONNECTIONS} connections, unique itemIds\n`)
  const singles = 45_000 * SECONDS
  const batches = 1_200 * SECONDS
  const base = await measure(baseline, '/dedupe', uniqueEvent, singles)
  const mem = await measure(memory, '/dedupe', uniqueEvent, singles)
  const red = await measure(onRedis, '/dedupe', uniqueEvent, singles, redis.pid)
  const batchBody = () => ({ events: Array.from({ length: BATCH }, uniqueEvent) })
  const memBatch = await measure(memory, '/dedupe/batch', batchBody, batches)
  const redBatch = await measure(onRedis, '/dedupe/batch', batchBody, batches, redis.pid)

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
  ]
  process.stdout.write(
    '\n| target | req/s (events/s) | p99 ms | server CPU µs per request (per event) | redis-server CPU µs per request (per event) | ratio | goal |\n|---|---|---|---|---|---|---|\n',
  )
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`)
  process.stdout.write(`\nmemory store: ${footprint}\n`)
  const runs = [base, mem, red, memBatch, redBatch]
  if (runs.some((r) => r.reusedBodies)) process.stdout.write('NOTE: a run outpaced its body pool; some itemIds repeated\n')
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
