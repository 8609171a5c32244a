// Starts a Redis Cluster of the tests' own redis-server processes on loopback ports (3 masters by default).
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { freePort, RedisServer } from './redis-server.js'

const run = promisify(execFile)

export function redisCliAvailable(): boolean {
  return spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0
}

/** Why cluster tests may not run here (redis-server or redis-cli missing), or undefined. Throws in CI like redisSkipReason. */
export function redisClusterSkipReason(): string | undefined {
  const server = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
  if (server && redisCliAvailable()) return undefined
  const missing = server ? 'redis-cli' : 'redis-server'
  if (process.env.REQUIRE_REDIS_TESTS === '1') throw new Error(`${missing} is not on the PATH but REQUIRE_REDIS_TESTS=1`)
  return `${missing} is not on the PATH`
}

export interface RedisClusterOptions {
  /** Masters, each owning a share of the 16384 slots; no replicas (default 3). */
  masters?: number
  /** Extra redis-server arguments for every node, e.g. ['--appendonly', 'yes']. */
  args?: string[]
  /** cluster-node-timeout: how soon the others mark a silent node failed (default 3000 ms). */
  nodeTimeoutMs?: number
  /** How long start() and waitHealthy() wait for cluster_state:ok (default 20 s). */
  readyTimeoutMs?: number
}

/**
 * A cluster made of RedisServer children: each node keeps its port and data dir (nodes.conf, AOF) across
 * stopNode()/startNode(), so a SIGKILLed master comes back as the same node owning the same slots.
 */
export class RedisCluster {
  private constructor(
    /** The redis-server children, one per master. */
    readonly servers: RedisServer[],
    private readonly readyTimeoutMs: number,
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3
    const nodeArgs = [
      '--cluster-enabled',
      'yes',
      // Relative to --dir, which is the node's own data dir.
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(options.nodeTimeoutMs ?? 3_000),
      '--cluster-announce-ip',
      '127.0.0.1',
      ...(options.args ?? []),
    ]
    const servers: RedisServer[] = []
    try {
      // Each node gets its own bus port: the default (port + 10000) is refused above port 55535, which freePort()
      // hands out about one time in five on Linux's 32768-60999 ephemeral range.
      for (let i = 0; i < masters; i++) servers.push(await RedisServer.start({ args: [...nodeArgs, '--cluster-port', String(await freePort())] }))
      const cluster = new RedisCluster(servers, options.readyTimeoutMs ?? 20_000)
      if (masters === 1) {
        // redis-cli refuses a one-node cluster; one node owning every slot is a complete cluster all the same.
        await run('redis-cli', ['-p', String(servers[0].port), 'cluster', 'addslotsrange', '0', '16383'])
      } else {
        await run('redis-cli', ['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 })
      }
      await cluster.waitHealthy()
      return cluster
    } catch (error) {
      await Promise.all(servers.map((server) => server.destroy()))
      throw error
    }
  }

  /** Every node as `127.0.0.1:port` (seed nodes for a cluster client). */
  get nodes(): string[] {
    return this.servers.map((server) => `127.0.0.1:${server.port}`)
  }

  /** The value for REDIS_CLUSTER_NODES: every node, comma-separated. */
  get nodesEnv(): string {
    return this.nodes.join(',')
  }

  /** Resolves when every running node reports cluster_state:ok and knows every other node as connected. */
  async waitHealthy(timeoutMs = this.readyTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (await this.healthy()) return
      if (Date.now() > deadline) throw new Error(`redis cluster not healthy within ${timeoutMs} ms (${this.nodes.join(', ')})`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  private async healthy(): Promise<boolean> {
    for (const server of this.servers) {
      if (!server.running) return false
      try {
        const { stdout } = await run('redis-cli', ['-p', String(server.port), 'cluster', 'info'], { timeout: 2_000 })
        if (!stdout.includes('cluster_state:ok')) return false
        const { stdout: known } = await run('redis-cli', ['-p', String(server.port), 'cluster', 'nodes'], { timeout: 2_000 })
        if (/\b(fail\??|disconnected)\b/.test(known)) return false
      } catch {
        return false
      }
    }
    return true
  }

  /** Stops one node by its pid (SIGKILL: a crash). Its slots are unreachable until startNode(). */
  async stopNode(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.servers[index].stop(signal)
  }

  /** Restarts a stopped node on its port with its nodes.conf and data; waits for the cluster to be whole again. */
  async startNode(index: number): Promise<void> {
    await this.servers[index].start()
    await this.waitHealthy()
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.destroy()))
  }
}
