// Starts and stops the tests' own redis-server processes on free loopback ports (never the machine's Redis).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function redisServerAvailable(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' })
  return probe.status === 0
}

/**
 * Why Redis tests may not run here, or undefined when they can. In CI (REQUIRE_REDIS_TESTS=1) a missing
 * redis-server is a failure, never a skip: callers throw instead of skipping.
 */
export function redisSkipReason(): string | undefined {
  if (redisServerAvailable()) return undefined
  if (process.env.REQUIRE_REDIS_TESTS === '1') throw new Error('redis-server is not on the PATH but REQUIRE_REDIS_TESTS=1')
  return 'redis-server is not on the PATH'
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Polls until something accepts connections on the loopback port; fails early when `child` exits. */
export async function waitForPort(port: number, deadlineMs: number, child?: ChildProcess, name = 'redis-server'): Promise<void> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.end()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port} in time`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** EVAL and EVALSHA calls a server has run so far (ioredis sends EVAL when the script is not loaded yet). */
export async function scriptCalls(client: { info(section: string): Promise<string> }): Promise<number> {
  const stats = await client.info('commandstats')
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
}

export interface RedisServerOptions {
  port?: number
  /** extra redis-server arguments, e.g. ['--appendonly', 'yes'] or cluster flags */
  args?: string[]
}

/** One redis-server child of the test; stop() and start() again keep the port (and the data dir, for AOF). */
export class RedisServer {
  readonly port: number
  readonly dir: string
  private child?: ChildProcess
  private readonly args: string[]

  private constructor(port: number, args: string[]) {
    this.port = port
    this.args = args
    this.dir = mkdtempSync(join(tmpdir(), 'css-redis-'))
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort()), options.args ?? [])
    await server.start()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** The running server's pid (undefined while stopped), e.g. to read its CPU time. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  async start(): Promise<void> {
    if (this.running) return
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, '--protected-mode', 'no', ...this.args],
      { stdio: 'ignore' },
    )
    this.child = child
    await waitForPort(this.port, 10_000)
  }

  /** Stops this server only (by its own pid); SIGKILL simulates a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (!child || !this.running) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
  }
}
