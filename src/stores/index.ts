// Chooses the store the configuration names: embedded memory, Redis, or Redis Cluster.
import type { Config } from '../config.js'
import { createMemoryStore } from './memory/index.js'
import type { StoreLogger } from './redis/connection.js'
import { createRedisStore } from './redis/index.js'
import type { Store } from './store.js'

export type { StoreLogger } from './redis/connection.js'
export { StoreUnavailableError, type Store } from './store.js'

export async function createStore(config: Config, options: { logger?: StoreLogger } = {}): Promise<Store> {
  if (config.store === 'memory') return createMemoryStore(config)
  return createRedisStore(config, { logger: options.logger })
}
