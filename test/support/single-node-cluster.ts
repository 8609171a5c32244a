// A one-node Redis Cluster owning every slot: a complete cluster (MOVED handling, slot checks) at the cost of one process.
import { Redis } from 'ioredis'
import { loadConfig } from '../../src/config.js'
import { createStore } from '../../src/stores/index.js'
import type { Store } from '../../src/stores/store.js'
import { freePort, redisSkipReason, RedisServer } from './redis-server.js'

export interface SingleNodeCluster {
  server: RedisServer
  /** a plain connection for CLUSTER and KEYSLOT calls */
  admin: Redis
  /** REDIS_CLUSTER_NODES for the app */
  nodes: string
  destroy(): Promise<void>
}

export async function startSingleNodeCluster(): Promise<SingleNodeCluster> {
  // The bus port defaults to port + 10000, which Redis refuses above 55535: name a free one instead.
  const busPort = await freePort()
  const server = await RedisServer.start({
    args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1', '--cluster-port', String(busPort)],
  })
  const admin = new Redis(server.url, { protocol: 2 })
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  const deadline = Date.now() + 10_000
  while (!String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error('cluster did not come up')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    server,
    admin,
    nodes: `127.0.0.1:${server.port}`,
    async destroy() {
      admin.disconnect()
      await server.destroy()
    },
  }
}

interface Teardown {
  teardown(fn: () => unknown): void
  test(name: string, options: { skip: string }, fn: () => Promise<void>): unknown
}

/**
 * A one-node cluster and the app's store on it for one test file, both closed at teardown. Undefined, with a
 * skipped test named `what`, when redis-server is missing (and CI does not require it).
 */
export async function clusterStoreForTest(t: Teardown, what: string): Promise<{ store: Store; admin: Redis; url: string } | undefined> {
  const skip = redisSkipReason()
  if (skip) {
    t.test(what, { skip }, async () => {})
    return undefined
  }
  const cluster = await startSingleNodeCluster()
  t.teardown(() => cluster.destroy())
  const store = await createStore(loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes }))
  t.teardown(() => store.close())
  return { store, admin: cluster.admin, url: cluster.server.url }
}
