// X-Correlation-ID: read from Mule (up to 128 printable ASCII characters) or generated; echoed and logged.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const CORRELATION_HEADER = 'x-correlation-id'
const VALID = /^[\x21-\x7e][\x20-\x7e]{0,127}$/

/** Fastify's genReqId: the request id is the correlation id, so every log line carries it. */
export function correlationIdFrom(req: IncomingMessage): string {
  const sent = req.headers[CORRELATION_HEADER]
  if (typeof sent === 'string' && sent.length <= 128 && VALID.test(sent)) return sent
  return randomUUID()
}
