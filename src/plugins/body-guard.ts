// Refuses bodies no route should see: strings with lone UTF-16 surrogates and nesting deeper than any calendar item.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { HttpProblem } from '../errors.js'

/** Deeper than any Graph event, Salesforce record or canonical item nests; stops stack-deep inputs early. */
export const MAX_BODY_DEPTH = 64

/**
 * The dotted path of the first value that breaks a rule, with the rule; undefined when the body is fine. Iterative,
 * so a hostile depth cannot exhaust the stack here.
 */
export function findBadValue(body: unknown): { path: string; message: string } | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 0 }]
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number }
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return { path, message: 'holds a lone UTF-16 surrogate; send well-formed Unicode text' }
      continue
    }
    if (typeof value !== 'object' || value === null) continue
    if (depth >= MAX_BODY_DEPTH) return { path, message: `nests deeper than ${MAX_BODY_DEPTH} levels` }
    const join = (key: string | number) => (path === '' ? String(key) : `${path}.${key}`)
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: join(i), depth: depth + 1 })
    } else {
      for (const [key, child] of Object.entries(value)) {
        if (!key.isWellFormed()) return { path: join(key.toWellFormed()), message: 'is a key with a lone UTF-16 surrogate' }
        stack.push({ value: child, path: join(key), depth: depth + 1 })
      }
    }
  }
  return undefined
}

/**
 * Whether a JSON text could hold a value findBadValue refuses: an escaped UTF-16 surrogate (raw text decoded from
 * UTF-8 cannot hold a lone one) or nesting deeper than MAX_BODY_DEPTH. False means the parsed body is fine, so the
 * walk is skipped; true only means the walk must look (a well-formed pair also answers true).
 */
export function textNeedsBodyCheck(text: string): boolean {
  if (text.includes('\\u') && /\\u[dD][89a-fA-F]/.test(text)) return true
  if (text.length <= MAX_BODY_DEPTH) return false
  let depth = 0
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      i = stringEnd(text, i) + 1 // strings hold no structure: jump over them
      if (i === 0) return true // unterminated: let the walk (or the JSON parser) decide
      continue
    }
    if (c === 0x7b || c === 0x5b) {
      if (++depth >= MAX_BODY_DEPTH) return true
    } else if (c === 0x7d || c === 0x5d) depth--
    i++
  }
  return false
}

/** The index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1)
  while (end !== -1) {
    let backslashes = 0
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++
    if (backslashes % 2 === 0) return end
    end = text.indexOf('"', end + 1)
  }
  return -1
}

/** The charset parameter of a Content-Type header, lower-cased and unquoted; undefined when there is none. */
export function declaredCharset(contentType: string | undefined): string | undefined {
  // most requests send no parameters: no regular expression for them
  if (contentType === undefined || !contentType.includes(';')) return undefined
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType)
  return match && match[1] !== '' ? match[1].toLowerCase() : undefined
}

/** Charsets whose text reads the same as UTF-8 (ASCII is a subset of it). */
const UTF8_COMPATIBLE = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii'])

function hasKeys(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  for (const _ in value) return true
  return false
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'per-event': the route checks each element of body.events itself, so one bad event is rejected alone */
    bodyGuard?: 'per-event'
  }
  interface FastifyRequest {
    /** set by the JSON parser when the raw text may hold a value the body guard refuses; see textNeedsBodyCheck */
    bodyNeedsCheck: boolean
  }
}

export default fp(
  async function bodyGuard(app: FastifyInstance) {
    // The JSON parser sees the raw text, where one scan tells whether the parsed body needs the walk at all. A body
    // no parser of ours has scanned is walked: the flag clears only after a scan.
    const { onProtoPoisoning, onConstructorPoisoning } = app.initialConfig
    const parseJson = app.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error')
    app.decorateRequest('bodyNeedsCheck', true)
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
      // A route that takes no body (DELETE) is not refused for an empty one sent with a JSON content type, which
      // some HTTP clients set on every request.
      if ((text as string).trim() === '' && !request.routeOptions.schema?.body) {
        request.bodyNeedsCheck = false
        done(null, undefined)
        return
      }
      // The body is read as UTF-8: text in another charset would reach the rules with its accents replaced, and two
      // different subjects could fingerprint alike. JSON is UTF-8 (RFC 8259), so any other charset is refused.
      const charset = declaredCharset(request.headers['content-type'])
      if (charset !== undefined && !UTF8_COMPATIBLE.has(charset)) {
        done(new HttpProblem('unsupported_media_type', `charset ${charset.slice(0, 40)} is not accepted: send the JSON body as UTF-8 (Content-Type: application/json; charset=UTF-8)`), undefined)
        return
      }
      request.bodyNeedsCheck = textNeedsBodyCheck(text as string)
      parseJson(request, text as string, done)
    })
    app.addHook('preValidation', (request, _reply, done) => {
      let bad: ReturnType<typeof findBadValue>
      if (request.bodyNeedsCheck) {
        const perEvent = request.routeOptions.config.bodyGuard === 'per-event'
        const body = perEvent && typeof request.body === 'object' && request.body !== null ? { ...request.body, events: undefined } : request.body
        bad = findBadValue(body)
      }
      if (!bad && hasKeys(request.params)) bad = findBadValue(request.params)
      if (!bad && hasKeys(request.query)) bad = findBadValue(request.query)
      done(bad ? new HttpProblem('invalid_input', `${bad.path || 'body'}: ${bad.message}`, { errors: [bad] }) : undefined)
    })
  },
  { name: 'body-guard' },
)
