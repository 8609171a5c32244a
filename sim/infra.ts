// The real things under test: redis-server (or a 3-master cluster) with AOF, and the sidecar processes on it.
import { resolve } from 'node:path'
import { RedisCluster } from '../test/support/redis-cluster.js'
import { RedisServer, freePort } from '../test/support/redis-server.js'
import { CLIENT_ID, INTEGRATION_USER } from './fake-salesforce.js'
import type { SimOptions } from './options.js'
import { SidecarProcess } from './sidecar-process.js'

const AOF_ARGS = ['--appendonly', 'yes', '--appendfsync', 'always']

/** What a Redis fault acts on: the one server, or one master of the cluster. */
export interface RedisTarget {
  readonly description: string
  readonly nodeCount: number
  stop(node: number): Promise<void>
  start(node: number): Promise<void>
  destroy(): Promise<void>
}

export interface Infra {
  sidecars: SidecarProcess[]
  redis?: RedisTarget
  /** Short, for the summary line. */
  label: string
  description: string
  close(): Promise<void>
}

export async function startInfra(options: SimOptions): Promise<Infra> {
  let redis: RedisTarget | undefined
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    SALESFORCE_CLIENT_ID: CLIENT_ID,
    SALESFORCE_INTEGRATION_USER_IDS: INTEGRATION_USER,
    ECHO_WINDOW: '10m',
    DEFAULT_LEASE_MS: String(options.leaseMs),
  }
  let description: string
  let label: string
  if (options.store === 'redis') {
    const server = await RedisServer.start({ args: AOF_ARGS })
    redis = {
      description: `redis-server :${server.port} (AOF, appendfsync always)`,
      nodeCount: 1,
      stop: () => server.stop('SIGKILL'),
      start: () => server.start(),
      destroy: () => server.destroy(),
    }
    env.REDIS_URL = server.url
    description = `Redis ${server.url} (AOF, appendfsync always)`
    label = 'Redis (AOF, appendfsync always)'
  } else if (options.store === 'cluster') {
    const cluster = await RedisCluster.start({ masters: 3, args: AOF_ARGS })
    redis = {
      description: `Redis Cluster ${cluster.nodesEnv} (3 masters, AOF)`,
      nodeCount: cluster.servers.length,
      stop: (node) => cluster.stopNode(node, 'SIGKILL'),
      start: (node) => cluster.startNode(node),
      destroy: () => cluster.destroy(),
    }
    env.REDIS_CLUSTER_NODES = cluster.nodesEnv
    description = `Redis Cluster, 3 masters on ${cluster.nodesEnv} (AOF, appendfsync always)`
    label = 'Redis Cluster, 3 masters (AOF, appendfsync always)'
  } else {
    env.STORE = 'memory'
    description = 'memory store (inside the one sidecar)'
    label = 'memory store'
  }

  const sidecars: SidecarProcess[] = []
  try {
    for (let i = 0; i < options.sidecars; i++) sidecars.push(new SidecarProcess(i, await freePort(), env, options.sidecarDir ? resolve(options.sidecarDir) : undefined))
    await Promise.all(sidecars.map((sidecar) => sidecar.start()))
  } catch (error) {
    await Promise.all(sidecars.map((sidecar) => sidecar.stop('SIGKILL')))
    await redis?.destroy()
    throw error
  }
  return {
    sidecars,
    redis,
    label,
    description,
    close: async () => {
      await Promise.all(sidecars.map((sidecar) => sidecar.stop('SIGTERM')))
      await redis?.destroy()
    },
  }
}
