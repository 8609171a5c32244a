// The one error handler: every failure leaves as problem details; 5xx bodies never carry internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { maxHeaderSize, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { describeInvalidField, InvalidFieldError } from '../domain/invalid-field.js'
import { ERROR_CATALOGUE, HttpProblem, toProblem, type FieldError } from '../errors.js'
import { StoreUnavailableError } from '../stores/store.js'

/** How many unknown keys of one object a 400 names; the rest are counted in one more entry. */
const UNKNOWN_KEYS_NAMED = 20

const FASTIFY_CODES: Record<string, (err: FastifyError) => HttpProblem> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new HttpProblem('payload_too_large', 'the request body is larger than this route accepts'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new HttpProblem('unsupported_media_type', 'send the body as JSON with Content-Type: application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new HttpProblem('invalid_input', 'Content-Length does not match the body'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new HttpProblem('invalid_input', 'the body is empty; send a JSON object', { errors: [{ path: '', message: 'is empty' }] }),
  FST_ERR_CTP_INVALID_JSON_BODY: (err) =>
    new HttpProblem('invalid_input', `the body is not valid JSON: ${err.message}`, { errors: [{ path: '', message: 'is not valid JSON' }] }),
}

/**
 * What the validator says of a body that is not a JSON object at all, in words a caller can act on: a POST without a
 * body (or without Content-Type, so nothing was parsed), the literal null, an array or a scalar.
 */
function bodyRootMessage(message: string | undefined): string {
  if (message === undefined) return 'is invalid'
  // (a POST without a body reaches the validator as null, as the literal null does)
  if (/expected object, received (null|undefined)/.test(message)) return 'is missing or null: send a JSON object with Content-Type: application/json'
  if (/expected object, received/.test(message)) return 'must be a JSON object'
  return message
}

const A_TYPE: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string', number: 'a number', boolean: 'true or false', integer: 'an integer', int: 'an integer' }
const BOUND_WORDS: Record<string, string> = { '>=': 'at least', '>': 'more than', '<=': 'at most', '<': 'less than' }

/**
 * Zod's own wording for the rules our schemas give no message of their own ("Invalid input: expected object, received
 * undefined") in the words of every other 400: "is required", "must be an object", "must not be empty". A message
 * zod did not write comes back as it is.
 */
export function plainZodMessage(message: string): string {
  let m = /^Invalid input: expected (\w+), received (\w+)$/.exec(message)
  if (m) return m[2] === 'undefined' ? 'is required' : `must be ${A_TYPE[m[1]] ?? m[1]}`
  m = /^Too (?:small|big): expected (string|array) to have (>=|>|<=|<)(\d+) (?:characters|items?)$/.exec(message)
  if (m) {
    if (m[1] === 'string' && m[2] === '>=' && m[3] === '1') return 'must not be empty'
    if (m[1] === 'array' && m[2] === '>=' && m[3] === '1') return 'must hold at least one entry'
    return m[1] === 'string' ? `must be ${BOUND_WORDS[m[2]]} ${m[3]} characters` : `must hold ${BOUND_WORDS[m[2]]} ${m[3]} entries`
  }
  m = /^Too (?:small|big): expected number to be (>=|>|<=|<)(-?[\d.e+]+)$/.exec(message)
  if (m) return `must be ${BOUND_WORDS[m[1]]} ${m[2]}`
  m = /^Invalid option: expected one of (.+)$/.exec(message)
  if (m) return `must be one of ${m[1].split('|').join(', ')}`
  return message
}

export interface SchemaIssue extends FieldError {
  /** the value is not of the field's type: the field's other rules say nothing then */
  wrongType?: boolean
}

/**
 * One entry per field: a field that breaks several rules (an empty tenant is too short and not printable) gets them
 * in one message, unless its value is of another type (an array for a string), which alone is said.
 */
export function oneEntryPerField(issues: SchemaIssue[]): FieldError[] {
  const byPath = new Map<string, { messages: string[]; wrongType: boolean }>()
  for (const { path, message, wrongType = false } of issues) {
    const entry = byPath.get(path)
    if (!entry) byPath.set(path, { messages: [message], wrongType })
    else if (wrongType && !entry.wrongType) byPath.set(path, { messages: [message], wrongType })
    else if (!entry.wrongType && !entry.messages.includes(message)) entry.messages.push(message)
  }
  return [...byPath].map(([path, { messages }]) => ({ path, message: messages.join('; ') }))
}

/** A 400 naming each invalid field, its detail listing them all. */
export function invalidInput(errors: FieldError[]): HttpProblem {
  return new HttpProblem('invalid_input', errors.map((e) => `${e.path || 'body'}: ${e.message}`).join('; '), { errors })
}

/**
 * A schema's refusal with what a route's own checks find wrong beside it (fields the schema did not name), so one
 * answer names every field to fix. Built on the refusal only, so a valid request pays nothing.
 */
export function refusalWith(validationError: Error, more: readonly FieldError[]): HttpProblem {
  const problem = asProblem(validationError)
  const named = new Set(problem.errors?.map((error) => error.path))
  const added = more.filter((error) => !named.has(error.path))
  return added.length === 0 ? problem : invalidInput([...(problem.errors ?? []), ...added])
}

/** Maps any thrown value to an HttpProblem; unknown errors become a generic 500. */
export function asProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error
  if (error instanceof InvalidFieldError) return new HttpProblem('invalid_input', error.message, { errors: describeInvalidField(error) })
  if (error instanceof StoreUnavailableError) {
    return new HttpProblem('store_unavailable', 'the store is unavailable; retry after the Retry-After delay', { retryAfterSeconds: 1, cause: error })
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as { validationContext?: string }).validationContext
    const fields: SchemaIssue[] = []
    for (const issue of error.validation) {
      const where = issue.instancePath.split('/').filter(Boolean)
      // a key a strict schema does not know (query strings, the bodies of /correlate/confirm and
      // /resolve-conflict) is named on its own, the first few of an object: a body may hold a hundred thousand
      const unknownKeys = issue.keyword === 'unrecognized_keys' ? (issue.params as { keys?: unknown }).keys : undefined
      if (Array.isArray(unknownKeys)) {
        const what = context === 'querystring' ? 'is not a query parameter of this route' : 'is not a field here'
        for (const key of unknownKeys.slice(0, UNKNOWN_KEYS_NAMED)) fields.push({ path: [...where, String(key)].join('.'), message: what })
        const more = unknownKeys.length - UNKNOWN_KEYS_NAMED
        if (more > 0) fields.push({ path: where.join('.') || (context === 'querystring' ? 'querystring' : 'body'), message: `holds ${more} more keys it does not know` })
        continue
      }
      const dotted = where.join('.')
      const path = dotted === '' && context && context !== 'body' ? context : dotted
      const message = dotted === '' && context === 'body' ? bodyRootMessage(issue.message) : plainZodMessage(issue.message ?? 'is invalid')
      fields.push({ path, message, wrongType: issue.keyword === 'invalid_type' })
    }
    return invalidInput(oneEntryPerField(fields))
  }
  const fastifyError = error as FastifyError
  if (fastifyError && typeof fastifyError.code === 'string' && FASTIFY_CODES[fastifyError.code]) return FASTIFY_CODES[fastifyError.code](fastifyError)
  if (fastifyError && fastifyError.statusCode === 415) return FASTIFY_CODES.FST_ERR_CTP_INVALID_MEDIA_TYPE(fastifyError)
  if (fastifyError && fastifyError.statusCode === 413) return FASTIFY_CODES.FST_ERR_CTP_BODY_TOO_LARGE(fastifyError)
  if (fastifyError && typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new HttpProblem('invalid_input', fastifyError.message)
  }
  return new HttpProblem('internal', 'an internal error occurred; the log has the details under this correlationId', { cause: error })
}

/**
 * Fastify's clientErrorHandler: Node's HTTP parser refuses some requests before any route sees them (a request line
 * and headers over http.maxHeaderSize, bytes that are not HTTP, a request that took too long to arrive). They get
 * problem details too, and the connection is closed, as the parser cannot go on with it. Oversized headers are a 400,
 * not 431: Mule's HTTP requester has an error type for 400 and none for 431, and the usual cause is an item id far
 * past its 1024-character limit in a GET or DELETE path, which is a 400 at any length below the parser's limit.
 */
export function answerClientError(this: FastifyInstance, error: ParserError, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  // A 413 already answered this request; what fails now is the reading of its dropped body (a client that stopped
  // sending it, say): a second answer would be read as the next request's, so the connection just closes.
  if (drainingSockets.has(socket)) {
    socket.destroy(error)
    return
  }
  this.log.debug({ err: error }, 'request refused by the HTTP parser')
  // A response is on this connection. When its request arrived whole, the refused bytes are a later request on the
  // keep-alive connection, and bytes written now would be read as the earlier one's answer (a 400 for a claim that
  // was granted, say); once its headers are out, nothing can be written either. Closing the connection makes the
  // client retry. When its request is still arriving (a body too slow, a broken chunk), the refusal is its answer.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean; req?: { complete?: boolean } } })._httpMessage
  if (inFlight && (inFlight.req?.complete !== false || inFlight.headersSent)) {
    socket.destroy(error)
    return
  }
  const problem = problemOfParserError(error)
  const body = JSON.stringify(toProblem(problem))
  const head = `HTTP/1.1 ${problem.status} ${ERROR_CATALOGUE[problem.code].title}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8`
  if (socket.writable) socket.write(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  socket.destroy(error)
}

/** The largest declared body over a route's limit that is read to its end, so that its 413 reaches the client. */
export const MAX_DRAINED_BODY_BYTES = 64 * 1024 * 1024

/** Connections whose request was answered 413 while its body is still being read and dropped. */
const drainingSockets = new WeakSet<Duplex>()

/** Requests that asked `Expect: 100-continue` and have not been sent 100 Continue. */
const awaitingContinue = new WeakSet<IncomingMessage>()

/** Node gives the bytes it was parsing as a Buffer; Fastify's types describe them as their JSON form. */
type ParserError = Error & { code?: string; rawPacket?: unknown }

function problemOfParserError(error: ParserError): HttpProblem {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new HttpProblem('request_timeout', 'the request did not arrive in time; send it again')
  if (error.code !== 'HPE_HEADER_OVERFLOW') return new HttpProblem('invalid_input', 'the request is not valid HTTP/1.1')
  const detail = `the request line and headers are larger than ${maxHeaderSize} bytes: a long path (an itemId is at most 1024 characters) or a large header`
  // The packet the parser stopped in tells which, when it starts at the request line (a request sent in one piece).
  const packet = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString('latin1', 0, maxHeaderSize + 2) : ''
  if (!/^[A-Z]+ \//.test(packet)) return new HttpProblem('invalid_input', detail)
  // The part that is most of the limit is named: the request line (the path), or the headers after it.
  const lineEnd = packet.indexOf('\r\n')
  const field = lineEnd === -1 || lineEnd > maxHeaderSize / 2 ? 'url' : 'headers'
  return new HttpProblem('invalid_input', detail, { errors: [{ path: field, message: `is too large: ${maxHeaderSize} bytes with the ${field === 'url' ? 'headers' : 'request line'} at most` }] })
}

/** Sends problem details as JSON, or as application/problem+json when the client's Accept asks for it. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: HttpProblem) {
  const accept = request.headers.accept ?? ''
  const type = accept.includes('application/problem+json') ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8'
  if (problem.retryAfterSeconds !== undefined) reply.header('retry-after', String(problem.retryAfterSeconds))
  // RFC 6750: a 401 names the scheme it wants
  if (problem.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="calendar-sync-sidecar"')
  const body = toProblem(problem, request.url.split('?', 1)[0], request.id)
  return reply.code(problem.status).type(type).serializer(JSON.stringify).send(body)
}

export default fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      let problem = asProblem(error)
      const limit = request.routeOptions.bodyLimit
      if (problem.code === 'payload_too_large') {
        if (limit !== undefined) problem = new HttpProblem('payload_too_large', `the request body is larger than this route accepts (${limit} bytes); split it or send less`)
        // Fastify answers a body over the limit before reading it and closes the connection, so a client still
        // sending the body fails on its write (EPIPE, connection reset) and never reads the 413. A declared body of
        // up to MAX_DRAINED_BODY_BYTES is read and dropped instead (Node does that on a kept-alive connection, within
        // the request timeout), and the client gets its 413; a body that stops coming closes the connection at that
        // timeout with no second answer (answerClientError). A larger one, or a chunked one of unknown length, still
        // closes the connection at once.
        const declared = Number(request.headers['content-length'])
        if (declared <= MAX_DRAINED_BODY_BYTES) {
          reply.removeHeader('connection')
          // So for a client that asked `Expect: 100-continue` and got this instead of 100 (see checkContinue): it may
          // send the body anyway, as RFC 9110 lets it, or close the connection (one that does neither waits for the
          // request timeout, with no second answer). Node would close it, failing an eager client's write with the
          // 413 unread. (A Node-internal flag: were it renamed, Node would close the connection as before.)
          if (awaitingContinue.has(request.raw)) (reply.raw as ServerResponse & { _expect_continue?: boolean })._expect_continue = false
          if (!request.raw.complete) {
            const socket = request.raw.socket
            drainingSockets.add(socket)
            request.raw.once('end', () => drainingSockets.delete(socket))
          }
        }
      }
      if (problem.code === 'store_unavailable') {
        request.log.warn({ err: error }, 'store unavailable')
      } else if (problem.status >= 500) {
        request.log.error({ err: error }, 'request failed')
      }
      return sendProblem(request, reply, problem)
    })
    // Node answers `Expect: 100-continue` with 100 as soon as the headers arrive, before any route is found, so a
    // client would send a body its route then refuses unread. The answer waits for the route instead: 100 when the
    // declared length fits the route's body limit (or no length is declared), and no 100 when it does not, so that
    // a client that waits gets the 413 without sending the body (the 413 keeps the connection for a body sent
    // anyway, above). A request answered before its body is read (a 401, say) gets no 100 either, and Node closes
    // its connection: no body is read that the client may never send. Only a real server emits checkContinue;
    // inject never does.
    app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      awaitingContinue.add(req)
      app.server.emit('request', req, res)
    })
    app.addHook('preParsing', (request, reply, payload, done) => {
      if (awaitingContinue.has(request.raw)) {
        const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? Number.POSITIVE_INFINITY
        // no declared length (chunked) reads as NaN: told to go on, as the limit is checked while reading
        if (!(Number(request.headers['content-length']) > limit)) {
          awaitingContinue.delete(request.raw)
          reply.raw.writeContinue()
        }
      }
      done(null, payload)
    })
    // The methods a 405 may name in its Allow header: every one a route registered after this plugin uses.
    const routedMethods = new Set<string>()
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routedMethods.add(method)
    })
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?', 1)[0]
      const shown = path.length > 200 ? `${path.slice(0, 200)}...` : path
      // A path that some route serves with another method is a 405 naming those methods (Mule: HTTP:METHOD_NOT_ALLOWED);
      // one its own method's route sent here (a file the docs do not have) is a 404.
      const routed = (method: string) => app.findRoute({ method: method as 'GET', url: path }) !== null
      const allowed = routed(request.method) ? [] : [...routedMethods].filter((method) => method !== request.method && routed(method))
      if (allowed.length === 0) return sendProblem(request, reply, new HttpProblem('not_found', `no route ${request.method} ${shown}`))
      reply.header('allow', allowed.join(', '))
      return sendProblem(request, reply, new HttpProblem('method_not_allowed', `${shown} does not accept ${request.method}; it accepts ${allowed.join(', ')}`))
    })
  },
  { name: 'error-handler' },
)
