// Composes the embedded memory store: one process, no setup, bounded by MEMORY_MAX_ITEMS.
import type { Config } from '../../config.js'
import type { CorrelateStore } from '../correlate-store.js'
import type { Store } from '../store.js'
import { MemoryCorrelateStore } from './correlate.js'
import { MemoryDedupeStore } from './dedupe.js'

export function createMemoryStore(config: Pick<Config, 'memoryMaxItems'>): Store {
  const dedupe = new MemoryDedupeStore({ maxItems: config.memoryMaxItems })
  const correlate: CorrelateStore = new MemoryCorrelateStore({ maxItems: config.memoryMaxItems })
  return {
    kind: 'memory',
    dedupe,
    correlate,
    async ping() {},
    async close() {},
  }
}
