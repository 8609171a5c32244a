// Standalone pre-filter (`npm run prefilter`): the same consumer as inside the sidecar, with /healthz /readyz /metrics.
import http from 'node:http'
import closeWithGrace from 'close-with-grace'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { type Config, ConfigError, loadConfig, SHUTDOWN_MARGIN_MS } from '../config.js'
import { createLogger } from '../logger.js'
import { createRedisClient } from '../stores/redis/connection.js'
import { type PrefilterHandle, startPrefilter } from './index.js'

function serveOperations(handle: PrefilterHandle, registry: Registry): http.Server {
  return http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type })
      response.end(body)
    }
    if (request.method !== 'GET') return send(405, 'application/json', JSON.stringify({ title: 'Method Not Allowed', status: 405 }))
    if (path === '/healthz') return send(200, 'application/json', JSON.stringify({ status: 'ok' }))
    if (path === '/readyz') {
      const status = handle.status()
      return send(status.ready ? 200 : 503, 'application/json', JSON.stringify({ ready: status.ready, checks: { prefilter: status.ready }, prefilter: status }))
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        () => send(500, 'application/json', JSON.stringify({ title: 'Internal Server Error', status: 500 })),
      )
      return
    }
    send(404, 'application/json', JSON.stringify({ title: 'Not Found', status: 404, detail: `no route ${path}` }))
  })
}

async function main(): Promise<void> {
  let config: Config
  try {
    // its endpoints are operational (health, readiness, metrics) and open, as the sidecar's are: no API_TOKENS needed
    config = loadConfig(process.env, { api: false })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    process.exitCode = 1
    return
  }
  const logger = createLogger(config.logLevel)
  if (!config.prefilter) {
    logger.fatal('the pre-filter is not configured: set PREFILTER_EVENTHUB_CONNECTION_STRING (or PREFILTER_EVENTHUB_NAMESPACE) and a forward target')
    process.exitCode = 1
    return
  }
  const redis = config.prefilter.checkpointStore === 'redis' ? createRedisClient(config, logger) : undefined
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  let handle: PrefilterHandle
  try {
    handle = await startPrefilter(config.prefilter, { logger, registry, redis, shutdownGraceMs: config.shutdownGraceMs })
  } catch (error) {
    logger.fatal({ err: error }, 'the pre-filter could not start')
    redis?.disconnect()
    process.exitCode = 1
    return
  }
  const server = serveOperations(handle, registry)
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve))
  logger.info({ host: config.host, port: config.port }, 'pre-filter operations endpoints listening')

  closeWithGrace({ delay: config.shutdownGraceMs + SHUTDOWN_MARGIN_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error')
    else logger.info({ signal }, 'stopping')
    server.close()
    await handle.close()
    await redis?.quit().catch(() => redis.disconnect())
    server.closeAllConnections()
  })
}

await main()
