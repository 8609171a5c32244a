// runSimulation: fakes, sidecars, store, workers, people and faults; run, let it settle, check, report.
import { Chaos } from './chaos.js'
import { Channel, Mailroom } from './channel.js'
import { runChecks, type Checks } from './checks.js'
import { WriteFaults } from './fake-api.js'
import { FakeOutlook, type GraphCollection } from './fake-outlook.js'
import { FakeSalesforce, type CdcMessage } from './fake-salesforce.js'
import { FlowStats } from './flow-stats.js'
import { Desk, Humans, Reviewer } from './humans.js'
import { startInfra, type Infra } from './infra.js'
import type { SimOptions } from './options.js'
import { Random } from './random.js'
import { SidecarClient, SidecarMetrics, type Link } from './sidecar-client.js'
import { sleep, type LatencySummary } from './stats.js'
import { Truth, type SyncWrite } from './truth.js'
import { Worker } from './worker.js'

export interface SimResult {
  ok: boolean
  seed: number
  startedAt: string
  finishedAt: string
  options: SimOptions
  setup: { store: string; storeDetail: string; flow: string; sidecars: number; workers: number; meetings: number; activeMs: number; drainMs: number }
  events: {
    delivered: number
    graph: ChannelReport
    cdc: ChannelReport
    graphNotificationsByType: Record<string, number>
    cdcEventsByType: Record<string, number>
  }
  human: { actions: Record<string, number>; changes: number; concurrentEdits: number; contestedDeletes: { mustSurvive: number; maySurvive: number }; reviewer: { requests: number; settled: number; nothingToDo: number; baselineRecorded: number; baselineSuperseded: number; baselineNotRecorded: number } }
  faults: {
    duplicateDeliveries: number
    outOfOrderDeliveries: number
    outlookWriteFailures: Record<string, number>
    salesforceWriteFailures: Record<string, number>
    workerCrashes: Record<string, number>
    workerStalls: Record<string, number>
    sidecarKills: number
    redisRestarts: number
    concurrentEdits: number
    timeline: Array<{ atMs: number; kind: 'sidecar' | 'redis'; what: string; downMs?: number; error?: string }>
  }
  checks: Checks & { health: { ok: boolean; problems: string[] } }
  decisions: Record<string, Record<string, number>>
  flow: { outcomes: Record<string, number>; dropped: Record<string, number>; calendarRetries: Record<string, number>; deadLetters: number; errors: string[] }
  latency: { sidecarMs: Record<string, LatencySummary>; syncLagMs: LatencySummary }
  sidecar: {
    problems: unknown[]
    problemCount: number
    transientErrors: Record<string, number>
    retries: number
    exits: Array<{ sidecar: number; atMs: number; code: number | null; signal: string | null; expected: boolean; logTail?: string[] }>
  }
  resultsFile?: string
}

interface ChannelReport {
  published: number
  delivered: number
  duplicatesInjected: number
  outOfOrder: number
  redeliveries: Record<string, number>
  deadLetters: number
}

export interface SimIo {
  /** A progress line (rewritten in place by the caller). */
  progress?: (line: string) => void
  /** A line worth keeping (phase changes, infrastructure events). */
  log?: (line: string) => void
  /** Aborting stops the run early: children are stopped and runSimulation rejects with an AbortError. */
  signal?: AbortSignal
}

const QUIET_MS = 1_500
const WATCH_AFTER_SETTLED_MS = 2_000

export async function runSimulation(options: SimOptions, io: SimIo = {}): Promise<SimResult> {
  const log = io.log ?? (() => {})
  const startedAt = Date.now()
  const rng = new Random(options.seed)
  const truth = new Truth()
  const mailroom = new Mailroom()
  const { faults } = options
  const channelOptions = (latencyMs: [number, number]) => ({
    latencyMs,
    reorderMs: faults.reorderMs,
    duplicates: faults.duplicates,
    duplicateDelayMs: [200, 4_000] as [number, number],
    maxAttempts: 60,
  })
  // Graph -> Event Hubs takes a little longer than CDC; both are well under a second here.
  const graphHub = mailroom.add(new Channel<GraphCollection>('graph', rng.fork('graph-hub'), channelOptions([150, 400]), mailroom.wake))
  const cdc = mailroom.add(new Channel<CdcMessage>('cdc', rng.fork('cdc'), channelOptions([80, 250]), mailroom.wake))
  const outlookFaults = new WriteFaults('outlook', rng.fork('outlook-faults'), faults.outlookWriteFailures)
  const salesforceFaults = new WriteFaults('salesforce', rng.fork('salesforce-faults'), faults.salesforceWriteFailures)
  const outlook = new FakeOutlook(rng.fork('outlook'), graphHub, truth, outlookFaults)
  const salesforce = new FakeSalesforce(rng.fork('salesforce'), cdc, truth, salesforceFaults)
  const desk = new Desk(outlook, salesforce, truth, rng.fork('desk'), options)
  const humans = new Humans(desk, rng.fork('humans'), options)
  const reviewer = new Reviewer(desk)
  const stats = new FlowStats()
  const metrics = new SidecarMetrics()

  let infra: Infra | undefined
  let ticker: NodeJS.Timeout | undefined
  let stopped = false
  let phase = 'starting'
  let activeStart = 0
  let activeMs = 0
  let drainStart = 0
  let chaos: Chaos | undefined
  try {
    log(`starting ${options.store} store and ${options.sidecars} sidecar(s)...`)
    infra = await startInfra(options)
    const sidecars = infra.sidecars
    log(`${infra.description}; sidecars on ports ${sidecars.map((s) => s.port).join(', ')}`)
    const clients = sidecars.map((s) => new SidecarClient(s.url, metrics, { retryMs: 200, maxRetries: 75, timeoutMs: 3_000 }, () => stopped))
    // The review tool's own clients: a short retry budget per sidecar, then the next one, so the settled baseline
    // is recorded promptly or not at all (see RecordSettled).
    const reviewClients = sidecars.map((s) => new SidecarClient(s.url, metrics, { retryMs: 200, maxRetries: 1, timeoutMs: 2_000 }, () => stopped))
    let reviews = 0
    reviewer.connect(async (request, baseline, stillSettled) => {
      const body = { source: { system: 'outlook', itemId: request.outlookId }, target: { system: 'salesforce', itemId: request.salesforceId }, baseline }
      const cid = `review-${++reviews}`
      let lastError: unknown
      for (let round = 0; round < 3; round++) {
        for (const client of reviewClients) {
          if (!stillSettled()) return 'superseded'
          try {
            await client.post('/correlate/confirm', body, cid)
            return 'recorded'
          } catch (error) {
            lastError = error
          }
        }
      }
      throw lastError
    })
    const workers = Array.from(
      { length: options.workers },
      (_, index) =>
        new Worker({
          index,
          options,
          mailroom,
          graphHub,
          cdc,
          outlook,
          salesforce,
          // Each worker talks to "its" sidecar, as a Mule worker talks to the sidecar beside it.
          sidecar: clients[index % clients.length],
          metrics,
          truth,
          stats,
          rng: rng.fork(`worker-${index}`),
          review: (request) => reviewer.enqueue(request),
          stopped: () => stopped,
        }),
    )
    const running = workers.map((worker) => worker.run())
    const reviewing = reviewer.run(() => stopped)
    chaos = new Chaos(rng.fork('chaos'), options, infra, outlookFaults, salesforceFaults)
    const progressLine = () => {
      const elapsed = phase === 'active' ? `${((Date.now() - activeStart) / 1000).toFixed(1)}/${(options.durationMs / 1000).toFixed(0)}s` : phase === 'draining' ? `${((Date.now() - drainStart) / 1000).toFixed(1)}s` : ''
      const delivered = graphHub.stats.delivered + cdc.stats.delivered
      const up = sidecars.filter((s) => s.running).length
      return `[${phase} ${elapsed}] delivered ${delivered} · backlog ${graphHub.backlog + cdc.backlog} · busy ${stats.busy}/${options.workers} · human changes ${truth.human.length} · sync writes ${truth.writes.length} · crashes ${stats.crashes.total} · sidecars ${up}/${sidecars.length} up${chaos?.busy ? ' · recovering' : ''}`
    }
    if (io.progress) ticker = setInterval(() => io.progress!(progressLine()), 250)

    outlook.publishValidationMessage()
    phase = 'seeding'
    await humans.seed(options.meetings)
    phase = 'active'
    activeStart = Date.now()
    chaos.plan(activeStart, options.durationMs)
    const aborted = () => io.signal?.aborted === true
    await humans.run(options.durationMs, aborted)
    await humans.settle()
    activeMs = Date.now() - activeStart
    phase = 'recovering'
    await chaos.finish()
    phase = 'draining'
    drainStart = Date.now()
    io.signal?.throwIfAborted()
    const settled = await waitSettled(options.drainTimeoutMs, () => mailroom.idle && stats.busy === 0 && reviewer.idle, () => truth.writes.length, aborted)
    io.signal?.throwIfAborted()
    const drainMs = Date.now() - drainStart
    phase = 'watching'
    const writesBefore = truth.writes.length
    await sleep(WATCH_AFTER_SETTLED_MS)
    const writesAfterSettled: SyncWrite[] = truth.writes.slice(writesBefore)
    stopped = true
    await Promise.all(running)
    await reviewing
    if (ticker) clearInterval(ticker)
    ticker = undefined
    log(settled ? `settled ${(drainMs / 1000).toFixed(1)} s after the active phase` : `did not settle within ${options.drainTimeoutMs / 1000} s`)

    phase = 'checking'
    const outlookItems = outlook.liveEvents()
    const salesforceItems = salesforce.liveRecords()
    const links = new Map<string, Link | null>()
    const lookup = new SidecarClient(sidecars[0].url, new SidecarMetrics(), { retryMs: 200, maxRetries: 50, timeoutMs: 3_000 })
    for (const item of outlookItems) links.set(item.id, await lookup.getLink('outlook', item.id, 'sim-check'))
    const checks = runChecks({ truth, outlookItems, salesforceItems, links, stats, options, startedAt, settled, writesAfterSettled })

    const health: string[] = []
    for (const sidecar of sidecars) {
      for (const exit of sidecar.unexpectedExits()) health.push(`sidecar ${sidecar.index} exited on its own (code ${exit.code}, signal ${exit.signal})`)
    }
    for (const event of chaos.events) if (event.error) health.push(`${event.what}: recovery failed: ${event.error}`)
    if (metrics.problemCount > 0) health.push(`${metrics.problemCount} unexpected sidecar answer(s) (see sidecar.problems)`)
    if (stats.errors.length > 0) health.push(`${stats.errors.length} unexpected error(s) in the flows (see flow.errors)`)
    const deadLetters = graphHub.deadLetters.length + cdc.deadLetters.length
    if (deadLetters > 0) health.push(`${deadLetters} message(s) given up after 60 deliveries`)

    const channelReport = (channel: Channel<unknown>): ChannelReport => ({
      published: channel.stats.published,
      delivered: channel.stats.delivered,
      duplicatesInjected: channel.stats.duplicatesInjected,
      outOfOrder: channel.stats.outOfOrder,
      redeliveries: channel.stats.redeliveries.toObject(),
      deadLetters: channel.deadLetters.length,
    })
    const humanActions = humans.actions.toObject()
    const ok = checks.converged.ok && checks.lost.ok && checks.loops.ok && health.length === 0
    return {
      ok,
      seed: options.seed,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date().toISOString(),
      options,
      setup: { store: infra.label, storeDetail: infra.description, flow: options.flow, sidecars: sidecars.length, workers: options.workers, meetings: options.meetings, activeMs, drainMs },
      events: {
        delivered: graphHub.stats.delivered + cdc.stats.delivered,
        graph: channelReport(graphHub as Channel<unknown>),
        cdc: channelReport(cdc as Channel<unknown>),
        graphNotificationsByType: outlook.notifications.toObject(),
        cdcEventsByType: salesforce.cdcEvents.toObject(),
      },
      human: {
        actions: humanActions,
        changes: truth.human.length,
        concurrentEdits: humanActions['concurrent edit (other side)'] ?? 0,
        contestedDeletes: {
          mustSurvive: truth.human.filter((c) => c.contest === 'must-survive').length,
          maySurvive: truth.human.filter((c) => c.contest === 'may-survive').length,
        },
        reviewer: { ...reviewer.stats },
      },
      faults: {
        duplicateDeliveries: graphHub.stats.duplicatesInjected + cdc.stats.duplicatesInjected,
        outOfOrderDeliveries: graphHub.stats.outOfOrder + cdc.stats.outOfOrder,
        outlookWriteFailures: outlookFaults.injected.toObject(),
        salesforceWriteFailures: salesforceFaults.injected.toObject(),
        workerCrashes: stats.crashes.toObject(),
        workerStalls: stats.stalls.toObject(),
        sidecarKills: chaos.injected.get('sidecar SIGKILL + restart'),
        redisRestarts: chaos.injected.get('Redis SIGKILL + restart (AOF)'),
        concurrentEdits: humanActions['concurrent edit (other side)'] ?? 0,
        timeline: chaos.events.map((e) => ({ atMs: e.at - startedAt, kind: e.kind, what: e.what, downMs: e.downMs, error: e.error })),
      },
      checks: { ...checks, health: { ok: health.length === 0, problems: health } },
      decisions: {
        '/dedupe': stats.dedupe.toObject(),
        '/correlate': stats.correlate.toObject(),
        '/resolve-conflict': stats.resolve.toObject(),
        'conflict rules': stats.conflictRules.toObject(),
        '/correlate/confirm': stats.confirm.toObject(),
        '/dedupe/commit': stats.commit.toObject(),
        '/dedupe/release': stats.release.toObject(),
      },
      flow: {
        outcomes: stats.outcomes.toObject(),
        dropped: stats.dropped.toObject(),
        calendarRetries: stats.calendarRetries.toObject(),
        deadLetters,
        errors: stats.errors,
      },
      latency: { sidecarMs: metrics.latency.toObject(), syncLagMs: truth.lag.summary() },
      sidecar: {
        problems: metrics.problems,
        problemCount: metrics.problemCount,
        transientErrors: metrics.transientErrors.toObject(),
        retries: metrics.retries,
        exits: sidecars.flatMap((s) =>
          s.exits.map((e) => ({ sidecar: s.index, atMs: e.at - startedAt, code: e.code, signal: e.signal, expected: e.expected, logTail: e.expected ? undefined : s.logTail() })),
        ),
      },
    }
  } finally {
    stopped = true
    if (ticker) clearInterval(ticker)
    await chaos?.finish()
    await infra?.close()
  }
}

/** True once nothing is queued or running and no sync write happened for QUIET_MS; false at the deadline. */
async function waitSettled(timeoutMs: number, idle: () => boolean, writes: () => number, aborted: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  let quietSince: number | undefined
  let lastWrites = writes()
  while (Date.now() < deadline && !aborted()) {
    await sleep(100)
    const now = Date.now()
    const count = writes()
    if (!idle() || count !== lastWrites) {
      quietSince = undefined
      lastWrites = count
      continue
    }
    quietSince ??= now
    if (now - quietSince >= QUIET_MS) return true
  }
  return false
}
