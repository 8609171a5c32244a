// Forwards each message as one JSON POST (Idempotency-Key, optional bearer token) to PREFILTER_FORWARD_URL.
import { createHash } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import { parseRetryAfter } from './backoff.js'
import { type Forwarder, ForwardError } from './delivery.js'
import type { Outbound } from './messages.js'

export interface HttpForwarderOptions {
  url: string
  token?: string
  /** an attempt fails after this long without an answer; a hung target must not hold a lane forever */
  requestTimeoutMs?: number
  /** open connections to the target at most */
  maxSockets?: number
  now?: () => number
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

/**
 * A short id derived from the Idempotency-Key, the same on every retry: Mule's listener adopts X-Correlation-ID, so
 * the flow's calls to the sidecar log under one id per forwarded change (the key itself can pass 128 characters).
 */
export function correlationIdOf(idempotencyKey: string): string {
  return `pf-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`
}

/** node:http with a keep-alive agent: on loopback it forwards about twice what fetch does. */
export function createHttpForwarder(options: HttpForwarderOptions): Forwarder {
  const url = new URL(options.url)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`PREFILTER_FORWARD_URL must be http(s), got ${url.protocol}`)
  const transport = url.protocol === 'https:' ? https : http
  const agent = new transport.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 })
  const timeoutMs = options.requestTimeoutMs ?? 10_000
  const now = options.now ?? Date.now
  const where = `POST ${url.origin}${url.pathname}`
  const baseHeaders: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (options.token) baseHeaders.authorization = `Bearer ${options.token}`

  const forward = (outbound: Outbound, signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(JSON.stringify(outbound.message), 'utf8')
      const headers = {
        ...baseHeaders,
        'content-length': String(body.length),
        'idempotency-key': outbound.idempotencyKey,
        'x-correlation-id': correlationIdOf(outbound.idempotencyKey),
      }
      const request = transport.request(url, { method: 'POST', agent, headers, signal, timeout: timeoutMs }, (response) => {
        const status = response.statusCode ?? 0
        // Drain the body so the keep-alive socket returns to the pool.
        response.resume()
        response.on('error', (error) => reject(new ForwardError(`${where} failed: ${error.message}`, 'connection', undefined, { cause: error })))
        response.once('end', () => {
          if (status >= 200 && status < 300) return resolve()
          const retryAfter = response.headers['retry-after']
          const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, now())
          const reason = status === 429 ? 'http_429' : status >= 500 ? 'http_5xx' : 'http_4xx'
          reject(new ForwardError(`${where} answered ${status}`, reason, retryAfterMs))
        })
      })
      request.once('timeout', () => request.destroy(new TimeoutError(timeoutMs)))
      request.on('error', (error) => {
        const reason = error instanceof TimeoutError ? 'timeout' : 'connection'
        reject(new ForwardError(`${where} failed: ${error.message}`, reason, undefined, { cause: error }))
      })
      request.end(body)
    })

  return {
    kind: 'http',
    forward,
    async close(): Promise<void> {
      agent.destroy()
    },
  }
}
