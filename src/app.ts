// buildApp(config, deps): registers infrastructure, error handling, docs and routes, in that order; never listens.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import auth from './plugins/auth.js'
import { correlationIdFrom, CORRELATION_HEADER } from './plugins/correlation-id.js'
import docs from './plugins/docs.js'
import errorHandler from './plugins/error-handler.js'
import metrics, { createMetrics, type SidecarMetrics } from './plugins/metrics.js'
import { correlateRoutes } from './routes/correlate.js'
import { dedupeRoutes } from './routes/dedupe.js'
import { healthRoutes, type ReadinessCheck } from './routes/health.js'
import { resolveConflictRoutes } from './routes/resolve-conflict.js'
import type { Store } from './stores/store.js'
import { VERSION } from './version.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    store: Store
  }
}

export interface AppDeps {
  store: Store
  /** the process's pino logger (server.ts); tests usually pass none, which means no logging */
  logger?: FastifyBaseLogger
  metrics?: SidecarMetrics
  /** extra readiness checks, e.g. the Event Hubs pre-filter */
  readiness?: ReadinessCheck[]
}

export const LOG_REDACT = ['req.headers.authorization', 'headers.authorization', '*.token', '*.forwardToken', '*.connectionString']

export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: correlationIdFrom,
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  // Responses are plain data shaped by the handlers; their zod schemas document them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  // JSON only: anything else is a 415, not a string for the validator to trip over.
  app.removeContentTypeParser(['text/plain'])
  app.decorate('config', config)
  app.decorate('store', deps.store)

  app.addHook('onRequest', async (request, reply) => {
    reply.header(CORRELATION_HEADER, request.id)
  })

  await app.register(metrics, { metrics: deps.metrics ?? createMetrics() })
  await app.register(errorHandler)
  await app.register(auth, { tokens: config.apiTokens })
  await app.register(docs, { version: VERSION })

  await app.register(healthRoutes, {
    checks: [
      {
        name: 'store',
        check: async () => {
          await deps.store.ping()
          return true
        },
      },
      ...(deps.readiness ?? []),
    ],
  })
  await app.register(dedupeRoutes)
  await app.register(correlateRoutes)
  await app.register(resolveConflictRoutes)

  return app
}
