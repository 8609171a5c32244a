// What every benchmark shares: targets in child processes, one autocannon load generator, CPU read from /proc.
import autocannon from 'autocannon'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
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
    await waitReady(url, child)
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

async function run(url: string, requests: (next: () => string) => Requests, bodies: string[]) {
  let used = 0
  const next = () => bodies[used++ % bodies.length]
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: requests(next),
  })
  return {
    requestsPerSecond: Math.round(result.requests.average),
    totalRequests: result.requests.total,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    reusedBodies: used > bodies.length,
    // status code -> count, for the answers that were not 2xx (429 means under-pressure shed load)
    otherStatuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, stat]) => [code, stat.count])),
  }
}

export type LoadResult = Awaited<ReturnType<typeof run>>
export type Load = (url: string, bodies: string[]) => Promise<LoadResult>

/** One POST to `path` per body. */
export const posts =
  (path: string): Load =>
  (url, bodies) =>
    run(url + path, (next) => [{ setupRequest: (req) => ({ ...req, body: next() }) }], bodies)

/**
 * What a Mule flow does per event: POST /dedupe with the body, then POST /dedupe/commit with the claim's token, on
 * the same connection. Two requests an event; a claim that is not `process` sends a commit the sidecar refuses (400),
 * which shows as non-2xx.
 */
export const claimThenCommit: Load = (url, bodies) =>
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
  )

// Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on common Linux builds).
const TICKS_PER_SECOND = (() => {
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
  const warmUp = pool(Math.ceil(poolSize / 4), makeBody)
  const bodies = pool(poolSize, makeBody)
  const { url, child } = await target.start()
  try {
    await load(url, warmUp) // warm-up, not counted
    const before = { server: cpuMicros(child.pid), also: cpuMicros(alsoPid) }
    const result = await load(url, bodies)
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
