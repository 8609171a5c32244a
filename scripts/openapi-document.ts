// Builds the app on the memory store and renders its OpenAPI document as YAML (used by the generator and the drift test).
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createStore } from '../src/stores/index.js'

export async function renderOpenApiYaml(): Promise<string> {
  const config = loadConfig({ LOG_LEVEL: 'silent' })
  const store = await createStore(config)
  const app = await buildApp(config, { store })
  try {
    await app.ready()
    return app.swagger({ yaml: true })
  } finally {
    await app.close()
    await store.close()
  }
}
