// The error catalogue and the one problem-details (RFC 9457) shape every error response uses.

export interface FieldError {
  /** dotted path from the body root, e.g. "events.3.itemId" */
  path: string
  message: string
}

export interface ProblemDetails {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  code: string
  correlationId?: string
  retryable: boolean
  errors?: FieldError[]
}

interface CatalogueEntry {
  status: number
  title: string
  retryable: boolean
}

/** Every error the service answers with; `code` is stable for machines, `title` for people. */
export const ERROR_CATALOGUE = {
  invalid_input: { status: 400, title: 'Invalid input', retryable: false },
  unauthorized: { status: 401, title: 'Missing or wrong bearer token', retryable: false },
  not_found: { status: 404, title: 'Not found', retryable: false },
  method_not_allowed: { status: 405, title: 'Method not allowed', retryable: false },
  request_timeout: { status: 408, title: 'Request timeout', retryable: true },
  payload_too_large: { status: 413, title: 'Payload too large', retryable: false },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', retryable: false },
  overloaded: { status: 429, title: 'Overloaded', retryable: true },
  internal: { status: 500, title: 'Internal error', retryable: true },
  store_unavailable: { status: 503, title: 'Store unavailable', retryable: true },
} as const satisfies Record<string, CatalogueEntry>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

export class HttpProblem extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly errors?: FieldError[]
  readonly retryAfterSeconds?: number

  constructor(code: ErrorCode, detail: string, options: { errors?: FieldError[]; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(detail, { cause: options.cause })
    this.name = 'HttpProblem'
    this.code = code
    this.status = ERROR_CATALOGUE[code].status
    this.errors = options.errors
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

export function toProblem(problem: HttpProblem, instance?: string, correlationId?: string): ProblemDetails {
  const entry = ERROR_CATALOGUE[problem.code]
  return {
    type: `urn:calendar-sync-sidecar:problem:${problem.code.replaceAll('_', '-')}`,
    title: entry.title,
    status: entry.status,
    detail: problem.message,
    instance,
    code: problem.code,
    correlationId,
    retryable: entry.retryable,
    ...(problem.errors ? { errors: problem.errors } : {}),
  }
}
