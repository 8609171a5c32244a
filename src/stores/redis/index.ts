// Composes the shared Redis store (single node, Azure Cache for Redis, or Redis Cluster) over one client.
import type { Config } from '../../config.js'
import type { CorrelateStore } from '../correlate-store.js'
import type { Store } from '../store.js'
import { closeRedisClient, createRedisClient, guard, waitUntilReady, type RedisClient, type StoreLogger } from './connection.js'
import { RedisCorrelateStore } from './correlate.js'
import { RedisDedupeStore } from './dedupe.js'

export interface RedisStoreOptions {
  logger?: StoreLogger
  /** how long creation waits for the first connection before going on unready (default 3000 ms) */
  readyTimeoutMs?: number
}

/** The store plus its client, for other Redis users of the process (e.g. the pre-filter's checkpoints). */
export interface RedisStore extends Store {
  readonly kind: 'redis' | 'redis-cluster'
  readonly client: RedisClient
}

export async function createRedisStore(
  config: Pick<Config, 'store' | 'redisUrl' | 'redisClusterNodes'>,
  options: RedisStoreOptions = {},
): Promise<RedisStore> {
  const client = createRedisClient(config, options.logger)
  const cluster = config.store === 'redis-cluster'
  // Not reachable yet is no reason to refuse to start: /readyz says so and the client keeps reconnecting.
  const ready = await waitUntilReady(client, options.readyTimeoutMs ?? 3_000)
  if (!ready) options.logger?.warn({ store: config.store }, 'redis not reachable yet; requests get 503 until it is')
  const dedupe = new RedisDedupeStore(client, { cluster })
  const correlate: CorrelateStore = new RedisCorrelateStore(client)
  return {
    kind: cluster ? 'redis-cluster' : 'redis',
    client,
    dedupe,
    correlate,
    async ping() {
      await guard(() => client.ping())
    },
    close: () => closeRedisClient(client),
  }
}
