// Liveness, readiness (store reachable, pre-filter running when enabled).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

export interface ReadinessCheck {
  name: string
  check(): Promise<boolean> | boolean
}

const readySchema = z
  .object({
    ready: z.boolean().describe('true when every dependency answers'),
    checks: z.record(z.string(), z.boolean()).describe('each dependency and whether it is ready'),
  })
  .describe('readiness')

export const healthRoutes: FastifyPluginAsyncZod<{ checks: ReadinessCheck[] }> = async (app, opts) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness',
        description: 'The process is alive. Needs no token.',
        security: [],
        response: { 200: z.object({ status: z.literal('ok').describe('always ok while the process runs') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  )
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness',
        description:
          'The store answers (Redis PING within its timeout) and, when enabled, the Event Hubs pre-filter is receiving and forwarding. 503 with Retry-After while not ready; it recovers by itself when the dependency is back. Needs no token.',
        security: [],
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(
        opts.checks.map(async (c) => {
          try {
            return [c.name, await c.check()] as const
          } catch {
            return [c.name, false] as const
          }
        }),
      )
      const checks = Object.fromEntries(results)
      const ready = results.every(([, ok]) => ok)
      // Like every 503 here, it says when to ask again.
      if (!ready) reply.header('retry-after', '1')
      return reply.code(ready ? 200 : 503).send({ ready, checks })
    },
  )
}
