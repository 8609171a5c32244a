// buildApp(config, deps): registers infrastructure, error handling, docs and routes, in that order; never listens.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import underPressure from '@fastify/under-pressure'
import type { Config } from './config.js'
import { HttpProblem } from './errors.js'
import auth from './plugins/auth.js'
import bodyGuard from './plugins/body-guard.js'
import coalesceWrites from './plugins/coalesce-writes.js'
import { correlationIdFrom, CORRELATION_HEADER } from './plugins/correlation-id.js'
import docs from './plugins/docs.js'
import errorHandler, { answerClientError, sendProblem } from './plugins/error-handler.js'
import { isLevelAware, lazyChildLoggerFactory } from './plugins/lazy-logger.js'
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

/** The longest path parameter the router reads; longer ones are a 400 before any route (the schemas bound ids at 1024). */
const MAX_PARAM_LENGTH = 4096

export interface AppDeps {
  store: Store
  /** the process's pino logger (server.ts); tests usually pass none, which means no logging */
  logger?: FastifyBaseLogger
  metrics?: SidecarMetrics
  /** extra readiness checks, e.g. the Event Hubs pre-filter */
  readiness?: ReadinessCheck[]
}

export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // Request loggers are made when a line is written.
    ...(deps.logger && isLevelAware(deps.logger) ? { childLoggerFactory: lazyChildLoggerFactory } : {}),
    bodyLimit: config.bodyLimitBytes,
    genReqId: correlationIdFrom,
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    // Graph event ids run to ~150 characters, more once URI-encoded; ids are bounded at 1024 by the schemas.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A key named __proto__ or constructor.prototype is dropped rather than refusing the whole body.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    // Requests Node's HTTP parser refuses (headers too large, not HTTP) get problem details like every other error,
    clientErrorHandler: answerClientError,
    // and so do malformed URLs (bad percent-encoding).
    frameworkErrors: (error, request, reply) => {
      // The router's message quotes the whole URL; the detail names the fault instead (the path is in `instance`).
      const problem = (error as { code?: string }).code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new HttpProblem('invalid_input', `a path parameter is longer than ${MAX_PARAM_LENGTH} characters; an itemId is at most 1024`, {
            errors: [{ path: 'url', message: `holds a path parameter longer than ${MAX_PARAM_LENGTH} characters` }],
          })
        : new HttpProblem('invalid_input', 'the URL is malformed: its percent-encoding does not decode', { errors: [{ path: 'url', message: 'is not a valid URL' }] })
      sendProblem(request, reply, problem)
    },
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  // Responses are plain data shaped by the handlers; their zod schemas document them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  // JSON only: anything else is a 415, not a string for the validator to trip over.
  app.removeContentTypeParser(['text/plain'])
  app.decorate('config', config)
  app.decorate('store', deps.store)

  // A callback hook, not an async one: it runs on every request and needs no promise.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(CORRELATION_HEADER, request.id)
    done()
  })

  await app.register(coalesceWrites)
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
  // The business routes share one context, so overload shedding never touches health, metrics or docs.
  await app.register(async (api) => {
    await registerApiGuards(api, config)
    await api.register(dedupeRoutes)
    await api.register(correlateRoutes)
    await api.register(resolveConflictRoutes)
  })

  return app
}

/** What every business route gets in its context: the body guard and overload shedding. */
export async function registerApiGuards(api: FastifyInstance, config: Config): Promise<void> {
  await api.register(bodyGuard)
  if (config.maxEventLoopDelayMs > 0) {
    await api.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      // A window no shorter than the delay called overload: a single pause shorter than that (a major GC, the
      // memory store's Map growing past a million entries) leaves samples in the window and is no overload. With
      // a shorter window under-pressure reads a window without samples as infinite delay and answers 429.
      sampleInterval: Math.max(250, config.maxEventLoopDelayMs),
      // Refused by a rejected promise, which ends the request's hooks: a handler that sent the answer itself would let
      // the request go on to its route (an answer is only sent once written, see coalesce-writes.ts), and the claim
      // the caller never hears of would hold the item until its lease ran out.
      pressureHandler: async (_request, _reply, type) => {
        throw new HttpProblem('overloaded', `the sidecar is overloaded (${type}); retry after the Retry-After delay`, { retryAfterSeconds: 1 })
      },
    })
  }
}
