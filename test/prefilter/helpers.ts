// Test helpers of the pre-filter: Graph notification builders, a fake clock, a recording forward target, polling.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import type { PrefilterConfig } from '../../src/config.js'
import type { PrefilterTuning } from '../../src/prefilter/index.js'
import type { Scheduler, TimerHandle } from '../../src/prefilter/scheduler.js'

export const TENANT = 'a1c4e8f2-3b5d-4f6a-8c9e-0d1f2a3b4c5d'
export const SUBSCRIPTION = '3f6d9a41-7b2e-4c8f-9d15-6a0e2b7c4d11'
export const CLIENT_STATE = 'c3-sync-7Qw2'

export interface ChangeSpec {
  itemId: string
  changeType?: 'created' | 'updated' | 'deleted'
  etag?: string
  tenantId?: string
  clientState?: string | null
  subscriptionId?: string
}

export function change(spec: ChangeSpec): Record<string, unknown> {
  const tenantId = spec.tenantId ?? TENANT
  const resource = `Users/5b1e0c7a-2f4d-4e8b-a6c3-91d2e4f0b7aa/Events/${spec.itemId}`
  const resourceData: Record<string, unknown> = {
    '@odata.type': '#Microsoft.Graph.Event',
    '@odata.id': resource,
    id: spec.itemId,
  }
  if (spec.etag !== undefined) resourceData['@odata.etag'] = `W/"${spec.etag}"`
  const n: Record<string, unknown> = {
    subscriptionId: spec.subscriptionId ?? SUBSCRIPTION,
    subscriptionExpirationDateTime: '2026-03-12T08:00:00.0000000+00:00',
    changeType: spec.changeType ?? 'updated',
    resource,
    resourceData,
    tenantId,
  }
  if (spec.clientState !== null) n.clientState = spec.clientState ?? CLIENT_STATE
  return n
}

export function lifecycle(event: string, clientState: string | null = CLIENT_STATE): Record<string, unknown> {
  const n: Record<string, unknown> = {
    subscriptionId: SUBSCRIPTION,
    subscriptionExpirationDateTime: '2026-03-12T08:00:00.0000000+00:00',
    tenantId: TENANT,
    lifecycleEvent: event,
  }
  if (clientState !== null) n.clientState = clientState
  return n
}

export function validation(): Record<string, unknown> {
  return {
    subscriptionId: 'NA',
    subscriptionExpirationDateTime: 'NA',
    clientState: 'NA',
    changeType: 'Validation: Testing client application reachability for subscription Request-Id: 8e2b6c1d-4f3a-47d9-b05e-2c9a1f7e6d30',
    resource: 'NA',
    resourceData: { '@odata.type': 'NA', '@odata.id': 'NA', id: 'NA' },
  }
}

export const collection = (...notifications: unknown[]) => ({ value: notifications })

export const silentLogger = () => pino({ level: 'silent' })

/** Polls `check` until it is truthy; fails with `what` after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as Exclude<T, undefined | null | false | 0 | ''>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A manual clock: timers fire only inside advance(). */
export class FakeScheduler implements Scheduler {
  private time = 1_700_000_000_000
  private seq = 0
  private readonly timers = new Map<number, { at: number; callback: () => void }>()

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = ++this.seq
    this.timers.set(id, { at: this.time + Math.max(0, ms), callback })
    return id
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number)
  }

  get pendingTimers(): number {
    return this.timers.size
  }

  /** Moves time forward, firing due timers in order and letting promise callbacks run between them. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms
    for (;;) {
      await flushMicrotasks()
      let next: [number, { at: number; callback: () => void }] | undefined
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry
      if (!next) break
      this.timers.delete(next[0])
      this.time = Math.max(this.time, next[1].at)
      next[1].callback()
    }
    this.time = end
    await flushMicrotasks()
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

export interface Received {
  headers: http.IncomingHttpHeaders
  body: Record<string, unknown>
}

type Answer = { status: number; retryAfter?: string }

/** A local HTTP forward target that records every POST and answers as told. */
export class ForwardTarget {
  readonly received: Received[] = []
  /** every attempt, failed ones too */
  attempts = 0
  private answers: Answer[] = []
  private always?: Answer
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<ForwardTarget> {
    const server = http.createServer()
    const target = new ForwardTarget(server)
    server.on('request', (request, response) => target.handle(request, response))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return target
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/graph-changes`
  }

  /** The next answers, in order (then 200 again). */
  answer(...answers: Answer[]): void {
    this.answers.push(...answers)
  }

  /** Every request gets this answer until `recover()`. */
  failAlways(status = 503, retryAfter?: string): void {
    this.always = { status, retryAfter }
  }

  recover(): void {
    this.always = undefined
    this.answers = []
  }

  bodies(): Record<string, unknown>[] {
    return this.received.map((r) => r.body)
  }

  changesFor(itemId: string): Record<string, unknown>[] {
    return this.bodies().filter((b) => b.kind === 'change' && b.itemId === itemId)
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      this.attempts += 1
      const answer = this.always ?? this.answers.shift() ?? { status: 200 }
      if (answer.status >= 200 && answer.status < 300) {
        this.received.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter
      response.writeHead(answer.status, headers)
      response.end('{}')
    })
  }
}

/** A pre-filter configuration for tests: fast windows, earliest start, memory checkpoints unless told. */
export function prefilterConfig(overrides: Partial<PrefilterConfig>): PrefilterConfig {
  return {
    consumerGroup: '$Default',
    clientStates: [CLIENT_STATE],
    quietMs: 150,
    maxWaitMs: 1_000,
    checkpointStore: 'memory',
    startPosition: 'earliest',
    unreadyAfterMs: 30_000,
    ...overrides,
  }
}

/** SDK settings from the reference's §9: one claim cycle per 100 ms tick, quick expiry, short waits. */
export function fastTuning(extra: Partial<PrefilterTuning> = {}): PrefilterTuning {
  return {
    consumer: {
      maxBatchSize: 50,
      maxWaitTimeInSeconds: 1,
      loadBalancingOptions: { strategy: 'greedy', updateIntervalInMs: 100, partitionOwnershipExpirationIntervalInMs: 1_500 },
      retryOptions: { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 3_000 },
    },
    backoff: { minMs: 20, maxMs: 200 },
    ...extra,
  }
}
