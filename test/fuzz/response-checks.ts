// What every answer must satisfy, whatever was sent: no 5xx, JSON, problem details with field paths on 4xx.
import type { LightMyRequestResponse as Response } from 'fastify'

export interface SentRequest {
  method: string
  url: string
  headers?: Record<string, string>
  payload?: string | Buffer
}

/** A failed invariant, with the exact request and response for the report. */
export class FuzzFailure extends Error {
  constructor(reason: string, request: SentRequest, response: Response) {
    const payload = request.payload === undefined ? '' : String(request.payload)
    super(
      [
        reason,
        `request: ${request.method} ${request.url} ${JSON.stringify(request.headers ?? {})}`,
        `body (${payload.length} chars): ${payload.length > 1500 ? `${payload.slice(0, 1500)}...` : payload}`,
        `response: ${response.statusCode} ${String(response.headers['content-type'] ?? '')} ${response.body.slice(0, 1500)}`,
      ].join('\n'),
    )
    this.name = 'FuzzFailure'
  }
}

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The problem-details shape (RFC 9457 plus code, retryable and errors); returns what is wrong, or undefined. */
export function problemShapeError(body: unknown, status: number, needsFieldErrors: boolean): string | undefined {
  if (!isObject(body)) return 'is not an object'
  for (const key of ['type', 'title', 'detail', 'code'] as const) {
    if (typeof body[key] !== 'string' || (body[key] as string).length === 0) return `has no ${key} string`
  }
  if (body.status !== status) return `says status ${String(body.status)}, not ${status}`
  if (typeof body.retryable !== 'boolean') return 'has no retryable boolean'
  if (status >= 400 && status < 500 && body.retryable !== false) return 'marks a client error retryable'
  if (needsFieldErrors) {
    const errors = body.errors
    if (!Array.isArray(errors) || errors.length === 0) return 'has no errors[] naming the field'
    for (const entry of errors) {
      if (!isObject(entry) || typeof entry.path !== 'string' || typeof entry.message !== 'string' || entry.message.length === 0) {
        return `has an errors[] entry without path and message: ${JSON.stringify(entry)}`
      }
    }
  }
  return undefined
}

export interface Expectation {
  /** statuses this route may answer; anything else (and every 5xx) fails */
  statuses: readonly number[]
  /** a key every 200 body has */
  okKey?: string
  /** a 400 here is about the body (or params): it must name fields in errors[] */
  fieldErrorsOn400?: boolean
}

/** Throws FuzzFailure when the answer breaks an invariant; returns the parsed body. */
export function checkResponse(request: SentRequest, response: Response, expect: Expectation): unknown {
  const fail = (reason: string): never => {
    throw new FuzzFailure(reason, request, response)
  }
  const status = response.statusCode
  if (status >= 500) fail(`answered ${status}: a request must never cause a 5xx`)
  if (!expect.statuses.includes(status)) fail(`answered ${status}, expected one of ${expect.statuses.join(', ')}`)

  const correlationId = String(response.headers['x-correlation-id'] ?? '')
  if (!/^[\x20-\x7e]{1,128}$/.test(correlationId) || correlationId.trim() === '') fail(`x-correlation-id header is ${JSON.stringify(correlationId)}`)
  if (request.method === 'HEAD') return undefined

  const type = String(response.headers['content-type'] ?? '')
  if (!/^application\/(problem\+)?json\b/.test(type)) fail(`content-type is ${JSON.stringify(type)}, not JSON`)
  let body: unknown
  try {
    body = JSON.parse(response.body)
  } catch {
    fail('the body is not JSON')
  }

  if (status >= 400) {
    const wantsProblemJson = (request.headers?.accept ?? '').includes('application/problem+json')
    if (wantsProblemJson && !type.startsWith('application/problem+json')) fail('Accept asked for application/problem+json but did not get it')
    const shape = problemShapeError(body, status, status === 400 && expect.fieldErrorsOn400 !== false)
    if (shape) fail(`the ${status} is not problem details: it ${shape}`)
  } else if (expect.okKey && !(isObject(body) && expect.okKey in body)) {
    fail(`the 200 body has no "${expect.okKey}"`)
  }
  return body
}

/** Paths are related when one is the other or lies inside it ("a.b" and "a.b.c"); "" is the whole body. */
export function pathsRelated(reported: string, mutated: string): boolean {
  if (reported === mutated) return true
  if (reported === '' || mutated === '') return reported === mutated
  return mutated.startsWith(`${reported}.`) || reported.startsWith(`${mutated}.`)
}

const parentOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('.')))
/** Fields of one nested object: a cross-field rule there (isAllDay vs end) may blame the other one. */
const siblings = (a: string, b: string) => parentOf(a) !== '' && parentOf(a) === parentOf(b)

/** When a 400 follows replacements of fields, some errors[].path must point at (or into, or around) one of them. */
export function checkBlame(touched: Array<{ path: string; op: string }>, errors: Array<{ path: string }>, fail: (reason: string) => never): void {
  const blamable = touched.filter((p) => p.op === 'replace' && p.path !== '')
  if (blamable.length === 0 || blamable.length !== touched.length) return
  if (errors.some((e) => blamable.some((p) => pathsRelated(e.path, p.path) || siblings(e.path, p.path)))) return
  fail(`errors[].path (${errors.map((e) => JSON.stringify(e.path)).join(', ')}) names none of the mutated fields (${blamable.map((p) => p.path).join(', ')})`)
}
