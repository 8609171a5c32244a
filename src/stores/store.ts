// The one store interface the routes see; memory and Redis implement it.
import type { Cluster, Redis } from 'ioredis'
import type { CorrelateStore } from './correlate-store.js'
import type { DedupeStore } from './dedupe-store.js'

export interface Store {
  readonly kind: 'memory' | 'redis' | 'redis-cluster'
  readonly dedupe: DedupeStore
  readonly correlate: CorrelateStore
  /** The Redis connection, for the pre-filter's Redis checkpoint store; absent on the memory store. */
  readonly client?: Redis | Cluster
  /** Resolves when the backend answers; rejects (StoreUnavailableError) otherwise. */
  ping(): Promise<void>
  close(): Promise<void>
}

/** Thrown by a store when its backend cannot answer in time; the HTTP layer maps it to 503 or fail-open. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}
