// Bytes of heap per committed item on the memory store (run with --expose-gc).
import { loadConfig } from '../src/config.js'
import { createStore } from '../src/stores/index.js'

const gc = (globalThis as { gc?: () => void }).gc
const items = Number(process.env.FOOTPRINT_ITEMS ?? 100_000)
const config = loadConfig({ MEMORY_MAX_ITEMS: String(items), LOG_LEVEL: 'silent' })
const store = await createStore(config)
gc?.()
const before = process.memoryUsage().heapUsed
const now = Date.now()
for (let i = 0; i < items; i++) {
  const key = { tenant: 'default', system: 'outlook', itemId: `AAMkAGQ1ZTM3NWYwLTk4ZjYt-${i}` }
  const claim = await store.dedupe.claim({ key, version: `DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3f${i}`, modifiedAt: now, changeType: 'updated', fingerprint: 'f'.repeat(64), leaseMs: 60_000, now, ttlMs: 7 * 86_400_000 })
  await store.dedupe.commit({ key, token: claim.claim!.token, now, ttlMs: 7 * 86_400_000 })
}
gc?.()
const after = process.memoryUsage().heapUsed
process.stdout.write(JSON.stringify({ items, bytesPerItem: Math.round((after - before) / items), gcExposed: Boolean(gc) }) + '\n')
await store.close()
