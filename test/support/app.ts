// Builds the real app for a test (memory store unless one is given) and closes everything at teardown.
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createStore } from '../../src/stores/index.js'
import type { Store } from '../../src/stores/store.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export async function buildTestApp(
  t: Teardown,
  env: Record<string, string> = {},
  options: { store?: Store } = {},
): Promise<{ app: FastifyInstance; config: Config; store: Store }> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env })
  const store = options.store ?? (await createStore(config))
  const app = await buildApp(config, { store })
  t.teardown(async () => {
    await app.close()
    if (!options.store) await store.close()
  })
  await app.ready()
  return { app, config, store }
}
