// HTTP calls to a sidecar the way mule-examples' sidecar-call does: retry transient failures, stop on a 4xx.
import { SamplesByLabel, Tally, sleep } from './stats.js'

/** A permanent answer (4xx): the request is wrong by the sidecar's contract, or the sidecar is. Kept whole. */
export class SidecarRejected extends Error {
  constructor(
    readonly endpoint: string,
    readonly request: unknown,
    readonly status: number,
    readonly response: unknown,
  ) {
    super(`${endpoint} answered ${status}: ${JSON.stringify(response).slice(0, 300)}`)
    this.name = 'SidecarRejected'
  }
}

/** Still unavailable after every retry (connection refused, timeouts, 503): the flow fails and is redelivered. */
export class SidecarUnavailable extends Error {
  constructor(readonly endpoint: string, readonly lastError: string) {
    super(`${endpoint} unavailable: ${lastError}`)
    this.name = 'SidecarUnavailable'
  }
}

export interface Problem {
  endpoint: string
  request: unknown
  status: number
  response: unknown
  /** What the contract says should have happened, when the simulation can tell. */
  expected?: string
}

/** Shared by every client: what the report prints about the sidecar's side of things. */
export class SidecarMetrics {
  readonly latency = new SamplesByLabel()
  readonly calls = new Tally()
  readonly transientErrors = new Tally()
  readonly problems: Problem[] = []
  problemCount = 0
  retries = 0

  addProblem(problem: Problem): void {
    this.problemCount++
    // Keep the first few whole: they are what a person reads; the count says how many there were.
    if (this.problems.length < 25) this.problems.push(problem)
  }
}

export interface RetryPolicy {
  /** Between attempts (mule-examples: 2 s; shorter here, the faults are shorter too). */
  retryMs: number
  /** Attempts after the first before giving up: long enough to outlast a sidecar restart. */
  maxRetries: number
  timeoutMs: number
}

export interface Link {
  tenant: string
  outlook: { itemId: string }
  salesforce: { itemId: string }
  state: 'linked' | 'tombstoned'
  baseline?: Record<string, unknown>
}

export class SidecarClient {
  constructor(
    readonly baseUrl: string,
    private readonly metrics: SidecarMetrics,
    private readonly policy: RetryPolicy,
    private readonly stopping: () => boolean = () => false,
  ) {}

  post<T>(path: string, body: unknown, correlationId: string): Promise<T> {
    return this.call<T>('POST', path, `POST ${path}`, body, correlationId, [200])
  }

  /** GET /correlate/{system}/{itemId}: the link, or null when the item is not linked (404 is an answer). */
  async getLink(system: string, itemId: string, correlationId: string): Promise<Link | null> {
    const path = `/correlate/${system}/${encodeURIComponent(itemId)}`
    return this.call<Link | null>('GET', path, 'GET /correlate/{system}/{itemId}', undefined, correlationId, [200, 404])
  }

  private async call<T>(method: string, path: string, label: string, body: unknown, correlationId: string, ok: number[]): Promise<T> {
    let lastError = ''
    for (let attempt = 0; attempt <= this.policy.maxRetries; attempt++) {
      if (attempt > 0) {
        this.metrics.retries++
        if (this.stopping()) break
        await sleep(this.policy.retryMs)
      }
      const started = performance.now()
      let status: number
      let text: string
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.policy.timeoutMs),
        })
        status = response.status
        text = await response.text()
      } catch (error) {
        lastError = describeFetchError(error)
        this.metrics.transientErrors.add(`${label}: ${lastError}`)
        continue
      }
      this.metrics.calls.add(`${label} ${status}`)
      if (ok.includes(status)) {
        this.metrics.latency.add(label, performance.now() - started)
        if (status === 404) return null as T
        try {
          return JSON.parse(text) as T
        } catch {
          const problem = { endpoint: label, request: body, status, response: text.slice(0, 500), expected: 'a JSON body' }
          this.metrics.addProblem(problem)
          throw new SidecarRejected(label, body, status, problem.response)
        }
      }
      if (status === 429 || status >= 500) {
        lastError = `HTTP ${status}`
        this.metrics.transientErrors.add(`${label}: HTTP ${status}`)
        continue
      }
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // keep the text
      }
      this.metrics.addProblem({ endpoint: label, request: body, status, response: parsed })
      throw new SidecarRejected(label, body, status, parsed)
    }
    throw new SidecarUnavailable(label, lastError)
  }
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout'
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    if (cause?.code) return cause.code
    if (cause?.message) return cause.message.slice(0, 60)
    return error.message.slice(0, 60)
  }
  return String(error).slice(0, 60)
}
