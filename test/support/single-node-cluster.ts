// A one-node Redis Cluster owning every slot: a complete cluster (MOVED handling, slot checks) at the cost of one process.
import { Redis } from 'ioredis'
import { freePort, RedisServer } from './redis-server.js'

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
