// The infrastructure faults on a timeline: sidecar SIGKILL + restart, Redis SIGKILL + restart, calendar outages.
import type { WriteFaults } from './fake-api.js'
import type { Infra } from './infra.js'
import type { SimOptions } from './options.js'
import type { Random } from './random.js'
import { Tally, sleep } from './stats.js'

export interface ChaosEvent {
  at: number
  kind: 'sidecar' | 'redis'
  what: string
  /** From the kill to serving again. */
  downMs?: number
  error?: string
}

export class Chaos {
  readonly injected = new Tally()
  readonly events: ChaosEvent[] = []
  private readonly running = new Set<Promise<void>>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private stopped = false

  constructor(
    private readonly rng: Random,
    private readonly options: SimOptions,
    private readonly infra: Infra,
    private readonly outlookFaults: WriteFaults,
    private readonly salesforceFaults: WriteFaults,
  ) {}

  /** Spreads the faults over the middle of the active phase, a few seconds apart, so each recovery is visible. */
  plan(startAt: number, durationMs: number): void {
    const { faults } = this.options
    const jobs: Array<() => Promise<void>> = []
    for (let i = 0; i < faults.sidecarKills; i++) jobs.push(() => this.killSidecar())
    for (let i = 0; i < faults.redisRestarts && this.infra.redis; i++) jobs.push(() => this.restartRedis())
    // Shuffled, so sidecar kills and Redis restarts interleave.
    for (let i = jobs.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i)
      ;[jobs[i], jobs[j]] = [jobs[j], jobs[i]]
    }
    const slots = spread(this.rng, jobs.length, durationMs)
    jobs.forEach((job, i) => this.at(startAt + slots[i], job))
    // One outage per calendar with write failures on: longer than the connector's retries, so flows fail and redeliver.
    if (this.outlookFaults.enabled) this.outlookFaults.addOutage(startAt + this.rng.between(0.2, 0.7) * durationMs, this.rng.between(1_200, 2_000))
    if (this.salesforceFaults.enabled) this.salesforceFaults.addOutage(startAt + this.rng.between(0.2, 0.7) * durationMs, this.rng.between(1_200, 2_000))
  }

  private at(when: number, job: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      if (this.stopped) return
      const promise = job().finally(() => this.running.delete(promise))
      this.running.add(promise)
    }, Math.max(0, when - Date.now()))
    this.timers.add(timer)
  }

  get busy(): boolean {
    return this.running.size > 0
  }

  /** Cancels what has not started and waits for restarts in progress: the system must be whole for the checks. */
  async finish(): Promise<void> {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    while (this.running.size > 0) await Promise.all([...this.running])
  }

  private async killSidecar(): Promise<void> {
    const sidecar = this.rng.pick(this.infra.sidecars)
    const started = Date.now()
    const event: ChaosEvent = { at: started, kind: 'sidecar', what: `SIGKILL sidecar ${sidecar.index} (pid ${sidecar.pid})` }
    this.events.push(event)
    this.injected.add('sidecar SIGKILL + restart')
    try {
      await sidecar.stop('SIGKILL')
      await sleep(this.rng.between(300, 1_000))
      await sidecar.start()
      event.downMs = Date.now() - started
    } catch (error) {
      event.error = error instanceof Error ? error.message : String(error)
    }
  }

  private async restartRedis(): Promise<void> {
    const redis = this.infra.redis!
    const node = this.rng.int(0, redis.nodeCount - 1)
    const started = Date.now()
    const event: ChaosEvent = { at: started, kind: 'redis', what: redis.nodeCount > 1 ? `SIGKILL Redis Cluster master ${node}` : 'SIGKILL redis-server' }
    this.events.push(event)
    this.injected.add('Redis SIGKILL + restart (AOF)')
    try {
      await redis.stop(node)
      await sleep(this.rng.between(800, 1_500))
      await redis.start(node)
      event.downMs = Date.now() - started
    } catch (error) {
      event.error = error instanceof Error ? error.message : String(error)
    }
  }
}

/** n moments in the middle 70% of the phase, at least 3 s apart when there is room. */
function spread(rng: Random, n: number, durationMs: number): number[] {
  if (n === 0) return []
  const from = 0.15 * durationMs
  const width = 0.7 * durationMs
  const step = width / n
  return Array.from({ length: n }, (_, i) => from + i * step + rng.between(0, Math.max(0, step - 3_000)))
}
