// Runs a store operation under the outage policy: 503 (fail-closed) or a degraded answer with a header (fail-open).
import type { FastifyInstance, FastifyReply } from 'fastify'
import { StoreUnavailableError } from '../stores/store.js'

export const DEGRADED_HEADER = 'x-sidecar-degraded'

export async function callStore<T>(
  app: FastifyInstance,
  reply: FastifyReply,
  endpoint: string,
  operation: () => Promise<T>,
  failOpen?: () => T,
): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error
    app.metrics.storeErrors.inc({ endpoint })
    if (app.config.storeOutagePolicy === 'fail-open' && failOpen) {
      app.metrics.failOpen.inc({ endpoint })
      reply.header(DEGRADED_HEADER, 'store-unavailable; fail-open: answered without shared state')
      reply.log.warn({ err: error, endpoint }, 'store unavailable; answering fail-open')
      return failOpen()
    }
    throw error
  }
}
