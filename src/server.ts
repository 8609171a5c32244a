// Entry: loadConfig -> createStore -> buildApp -> listen; the pre-filter when configured; graceful shutdown.
import './require-node.js' // first: it stops an unsupported Node.js before the other imports load
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, SHUTDOWN_MARGIN_MS, type Config } from './config.js'
import { createLogger } from './logger.js'
import { createMetrics } from './plugins/metrics.js'
import type { ReadinessCheck } from './routes/health.js'
import { createStore } from './stores/index.js'

async function main(config: Config) {
  const logger = createLogger(config.logLevel)
  const metrics = createMetrics()
  const store = await createStore(config, { logger })

  const readiness: ReadinessCheck[] = []
  let prefilter: { isReady(): boolean; close(): Promise<void> } | undefined
  if (config.prefilter) {
    const { startPrefilter } = await import('./prefilter/index.js')
    prefilter = await startPrefilter(config.prefilter, {
      logger,
      registry: metrics.registry,
      redis: store.client,
      shutdownGraceMs: config.shutdownGraceMs,
    })
    readiness.push({ name: 'prefilter', check: () => prefilter?.isReady() ?? false })
  }

  const app = await buildApp(config, { store, logger, metrics, readiness })
  app.server.keepAliveTimeout = 65_000 // longer than Mule's default idle timeout, so pooled connections are not cut under it
  // A request whose headers or body stall is answered 408 (retryable); Node checks every 30 s, so after 30-60 s.
  app.server.headersTimeout = 30_000
  app.server.requestTimeout = 30_000

  // The pre-filter flushes first, while HTTP still serves: what it forwards makes the Mule flow call this sidecar.
  // Its flush may take the whole grace, so the process is cut short only SHUTDOWN_MARGIN_MS past it, leaving HTTP and
  // the store (which the pre-filter's checkpoints use) time to close.
  closeWithGrace({ delay: config.shutdownGraceMs + SHUTDOWN_MARGIN_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await prefilter?.close()
    await app.close()
    await store.close()
  })

  await app.listen({ host: config.host, port: config.port })
  logger.info({ store: store.kind, docs: `http://${config.host}:${config.port}/docs` }, 'calendar-sync-sidecar ready')
}

let config: Config
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`calendar-sync-sidecar: ${error.message}\n`)
    process.exit(1)
  }
  throw error
}
main(config).catch((error) => {
  process.stderr.write(`calendar-sync-sidecar failed to start: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
