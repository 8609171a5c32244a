// What every benchmark shares: targets in child processes, one autocannon load generator, CPU read from /proc.
import autocannon from 'autocannon'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { DEFAULT_MEMORY_MAX_ITEMS } from '../src/config.js'
import { freePort } from '../test/support/redis-server.js'

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20)
const root = new URL('..', import.meta.url)

/** Rounds of `npm run bench` and `npm run bench:breakdown`: each runs every target once, in turn. */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be a whole number of at least 1, not ${process.env.BENCH_ROUNDS}`)

/** The middle value; the mean of the two middle ones for an even count. */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing')
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export interface Target {
  name: string
  start(): Promise<{ url: string; child: ChildProcess }>
}

export async function waitReady(url: string, child: ChildProcess) {
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

export function node(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, script.endsWith('.ts') ? ['--import', 'tsx', script] : [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}

/** A server script (dist/server.js, or a bench server) on a free loopback port, logging at warn. */
export const serverTarget = (name: string, script: string, env: () => Promise<Record<string, string>>): Target => ({
  name,
  async start() {
    const port = await freePort()
    const child = node(script, { ...(await env()), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' })
    const url = `http://127.0.0.1:${port}`
    try {
      await waitReady(url, child)
    } catch (error) {
      await stop(child) // a server that did not come up is not left behind
      throw error
    }
    return { url, child }
  },
})

let counter = 0
export const uniqueEvent = () => {
  counter++
  return { system: 'outlook', itemId: `bench-${process.pid}-${counter}`, version: 'v1', modifiedAt: 1773048605000 + counter, changeType: 'updated' }
}

// Bodies are made before a run starts, so the load generator spends its CPU on requests, not on JSON.
// A pool larger than a run can use keeps every itemId unique; it is cycled only if a run outpaces it.
export function pool(size: number, make: () => unknown): string[] {
  return Array.from({ length: size }, () => JSON.stringify(make()))
}

type Requests = NonNullable<autocannon.Options['requests']>

/** Bodies handed out in order; a run that outpaces the pool cycles it (and repeats itemIds), which is noted. */
export class BodyCursor {
  private used = 0
  constructor(private readonly bodies: string[]) {}
  readonly next = (): string => this.bodies[this.used++ % this.bodies.length]
  get outpaced(): boolean {
    return this.used > this.bodies.length
  }
}

async function run(url: string, requests: (next: () => string) => Requests, bodies: BodyCursor, seconds: number) {
  // The load generator runs in this process: its CPU is this process's while the run lasts.
  const cpuBefore = process.cpuUsage()
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: requests(bodies.next),
  })
  const cpu = process.cpuUsage(cpuBefore)
  return {
    loadGeneratorCpu: cpu.user + cpu.system,
    requestsPerSecond: Math.round(result.requests.average),
    totalRequests: result.requests.total,
    seconds: result.duration,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    reusedBodies: bodies.outpaced,
    // status code -> count, for the answers that were not 2xx (429 means under-pressure shed load)
    otherStatuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, stat]) => [code, stat.count])),
  }
}

export type LoadResult = Awaited<ReturnType<typeof run>>
export type Load = (url: string, bodies: BodyCursor, seconds: number) => Promise<LoadResult>

/** One POST to `path` per body. */
export const posts =
  (path: string): Load =>
  (url, bodies, seconds) =>
    run(url + path, (next) => [{ setupRequest: (req) => ({ ...req, body: next() }) }], bodies, seconds)

/**
 * What a Mule flow does per event: POST /dedupe with the body, then POST /dedupe/commit with the claim's token, on
 * the same connection. Two requests an event; a claim that is not `process` sends a commit the sidecar refuses (400),
 * which shows as non-2xx.
 */
export const claimThenCommit: Load = (url, bodies, seconds) =>
  run(
    url,
    (next) => [
      {
        path: '/dedupe',
        setupRequest: (req) => ({ ...req, body: next() }),
        onResponse: (_status, body, context: { commit?: string }) => {
          let answer: { key?: { system: string; itemId: string }; claim?: { token: string } } = {}
          try {
            answer = JSON.parse(body) as typeof answer
          } catch {
            // not JSON (a proxy's error page, say): the commit below is refused and counted as non-2xx
          }
          context.commit = JSON.stringify({ system: answer.key?.system, itemId: answer.key?.itemId, token: answer.claim?.token })
        },
      },
      { path: '/dedupe/commit', setupRequest: (req, context: { commit?: string }) => ({ ...req, body: context.commit }) },
    ],
    bodies,
    seconds,
  )

// Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on common Linux builds).
export const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

// CPU time (user + system) a process has used, in microseconds, from /proc on Linux; undefined elsewhere.
export function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

export const perRequest = (before: number | undefined, after: number | undefined, requests: number) =>
  before === undefined || after === undefined || requests === 0 ? undefined : Math.round(((after - before) / requests) * 10) / 10

/** `alsoPid`: another process whose CPU per request is reported beside the server's (redis-server). */
export async function measure(target: Target, load: Load, makeBody: () => unknown, poolSize: number, alsoPid?: number) {
  // As many bodies for the warm-up as for the run: a warm-up that cycled its pool would send items again, which a
  // store answers in_flight and a floor of bench:breakdown refuses, and the run would start from that.
  const warmUp = new BodyCursor(pool(poolSize, makeBody))
  const bodies = new BodyCursor(pool(poolSize, makeBody))
  const { url, child } = await target.start()
  try {
    const warm = await load(url, warmUp, SECONDS) // warm-up, not counted
    if (warm.non2xx + warm.errors > 0) throw new Error(`${target.name}: the warm-up got ${warm.non2xx} non-2xx answers and ${warm.errors} errors ${JSON.stringify(warm.otherStatuses)}`)
    const before = { server: cpuMicros(child.pid), also: cpuMicros(alsoPid) }
    const result = await load(url, bodies, SECONDS)
    const after = { server: cpuMicros(child.pid), also: cpuMicros(alsoPid) }
    return {
      ...result,
      serverCpuUsPerRequest: perRequest(before.server, after.server, result.totalRequests),
      redisCpuUsPerRequest: perRequest(before.also, after.also, result.totalRequests),
      loadGeneratorCpuUsPerRequest: perRequest(0, result.loadGeneratorCpu, result.totalRequests),
    }
  } finally {
    await stop(child)
  }
}

/** Stops a server the benchmark started (SIGTERM) and waits for it to exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
}

export type Measured = Awaited<ReturnType<typeof measure>>

/**
 * Waits, after a slice, until the process that was loaded goes quiet (no more than one clock tick of CPU in 200 ms),
 * for at most 3 s: what it still does then (a garbage collection of what the slice left) is its own work, counted in
 * its slice, where it would otherwise slow the next target's.
 */
async function settle(pid: number | undefined): Promise<void> {
  const tick = 1e6 / TICKS_PER_SECOND
  const deadline = Date.now() + 3_000
  let last = cpuMicros(pid)
  while (last !== undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    const now = cpuMicros(pid)
    if (now === undefined || now - last <= tick) return
    last = now
  }
}

/**
 * The memory store's environment in the benchmarks: its default bound (MEMORY_MAX_ITEMS 100,000), as `npm start` runs
 * it, so a run soon reaches the steady state of a full store that evicts its least recently used item for each new
 * one. BENCH_MEMORY_MAX_ITEMS sets another bound (2000000: nothing is evicted and the heap grows all run). The bound is
 * always set, so a MEMORY_MAX_ITEMS exported in the shell does not reach the servers.
 */
export function memoryStoreEnv(): { STORE: 'memory'; MEMORY_MAX_ITEMS: string } {
  return { STORE: 'memory', MEMORY_MAX_ITEMS: process.env.BENCH_MEMORY_MAX_ITEMS ?? String(DEFAULT_MEMORY_MAX_ITEMS) }
}

/** A Redis target's environment: the benchmark's redis-server at `url`, emptied first, so each run starts alike. */
export async function emptiedRedisEnv(url: string): Promise<Record<string, string>> {
  const client = new Redis(url, { maxRetriesPerRequest: 0 })
  try {
    await client.flushall()
  } finally {
    client.disconnect()
  }
  return { REDIS_URL: url }
}

/** Seconds of one slice of `measureInterleaved` (BENCH_SLICE_SECONDS, default 2). */
export const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 2)
if (!(SLICE_SECONDS >= 1)) throw new Error(`BENCH_SLICE_SECONDS must be at least 1, not ${process.env.BENCH_SLICE_SECONDS}`)

export interface Contestant {
  target: Target
  load: Load
  makeBody: () => unknown
  /** bodies made for the counted slices; the warm-up slice gets a slice's share of its own */
  poolSize: number
  /** another process whose CPU per request is reported beside the server's (redis-server) */
  alsoPid?: number
}

/**
 * Measures several targets, all running at once (idle while another is loaded), in slices that take turns: each gets
 * SECONDS in all, in slices of SLICE_SECONDS, and the order of a turn alternates. A machine whose speed drifts over
 * tens of seconds then moves every target alike, so ratios between them keep still, where runs one after another
 * would each catch a different minute. Requests/s are counted requests over measured seconds; p99 is the median of
 * the slices' p99s; CPU is read from /proc around each slice.
 */
export async function measureInterleaved<K extends string>(contestants: Record<K, Contestant>): Promise<Record<K, Measured>> {
  const names = Object.keys(contestants) as K[]
  const started = new Map<K, { url: string; child: ChildProcess }>()
  try {
    for (const name of names) started.set(name, await contestants[name].target.start())
    const turns = Math.max(1, Math.round(SECONDS / SLICE_SECONDS))
    const sliceSeconds = SECONDS / turns
    const cursors = new Map<K, BodyCursor>()
    for (const name of names) {
      const { load, makeBody, poolSize } = contestants[name]
      // warm-up, one slice long, with bodies of its own (a slice's share of the pool)
      await load(started.get(name)!.url, new BodyCursor(pool(Math.ceil(poolSize / turns), makeBody)), sliceSeconds)
      await settle(started.get(name)!.child.pid)
      cursors.set(name, new BodyCursor(pool(poolSize, makeBody)))
    }
    const slices = new Map<K, Array<LoadResult & { serverCpu?: number; alsoCpu?: number }>>(names.map((name) => [name, []]))
    const startCpu = new Map(names.map((name) => [name, cpuMicros(started.get(name)!.child.pid) ?? 0]))
    for (let turn = 0; turn < turns; turn++) {
      for (const name of turn % 2 === 0 ? names : [...names].reverse()) {
        const { load, alsoPid } = contestants[name]
        const { url, child } = started.get(name)!
        const before = { server: cpuMicros(child.pid), also: cpuMicros(alsoPid) }
        const result = await load(url, cursors.get(name)!, sliceSeconds)
        await settle(child.pid)
        const after = { server: cpuMicros(child.pid), also: cpuMicros(alsoPid) }
        const delta = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : b - a)
        slices.get(name)!.push({ ...result, serverCpu: delta(before.server, after.server), alsoCpu: delta(before.also, after.also) })
      }
    }
    // What a target's process did while others were loaded (work after its slice settled, timers) lands in their
    // slices; BENCH_SHOW_IDLE_CPU=1 prints it.
    if (process.env.BENCH_SHOW_IDLE_CPU) {
      const idle = names.map((name) => {
        const total = (cpuMicros(started.get(name)!.child.pid) ?? 0) - startCpu.get(name)!
        const own = slices.get(name)!.reduce((sum, slice) => sum + (slice.serverCpu ?? 0), 0)
        return `${name} ${Math.round(own / 1000)} ms in its slices, ${Math.round((total - own) / 1000)} ms outside`
      })
      process.stdout.write(`server CPU: ${idle.join('; ')}\n`)
    }
    const out = {} as Record<K, Measured>
    for (const name of names) {
      const runs = slices.get(name)!
      const sum = (pick: (slice: (typeof runs)[number]) => number) => runs.reduce((total, slice) => total + pick(slice), 0)
      const cpu = (pick: (slice: (typeof runs)[number]) => number | undefined) =>
        runs.every((slice) => pick(slice) !== undefined) ? sum((slice) => pick(slice)!) : undefined
      const totalRequests = sum((slice) => slice.totalRequests)
      const statuses: Record<string, number> = {}
      for (const slice of runs) for (const [code, count] of Object.entries(slice.otherStatuses)) statuses[code] = (statuses[code] ?? 0) + (count ?? 0)
      const serverCpu = cpu((slice) => slice.serverCpu)
      const alsoCpu = cpu((slice) => slice.alsoCpu)
      const loadGeneratorCpu = sum((slice) => slice.loadGeneratorCpu)
      out[name] = {
        requestsPerSecond: Math.round(totalRequests / sum((slice) => slice.seconds)),
        totalRequests,
        seconds: sum((slice) => slice.seconds),
        p99Ms: median(runs.map((slice) => slice.p99Ms)),
        non2xx: sum((slice) => slice.non2xx),
        errors: sum((slice) => slice.errors),
        reusedBodies: cursors.get(name)!.outpaced,
        otherStatuses: statuses,
        serverCpuUsPerRequest: perRequest(0, serverCpu, totalRequests),
        redisCpuUsPerRequest: perRequest(0, alsoCpu, totalRequests),
        loadGeneratorCpu,
        loadGeneratorCpuUsPerRequest: perRequest(0, loadGeneratorCpu, totalRequests),
      }
    }
    return out
  } finally {
    for (const { child } of started.values()) await stop(child)
  }
}
