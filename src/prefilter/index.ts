// Starts the Event Hubs pre-filter (consumer, collapse, forwarder, checkpoints) and hands back readiness and shutdown.
import type { CheckpointStore, TokenCredential } from '@azure/event-hubs'
import type { Cluster, Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { PrefilterConfig } from '../config.js'
import type { BackoffOptions } from './backoff.js'
import { createBlobCheckpointStore } from './blob-checkpoint-store.js'
import { type ConsumerTuning, type RunningConsumer, startConsumer } from './consumer.js'
import { Delivery, type Forwarder } from './delivery.js'
import { createEventHubForwarder } from './eventhub-forwarder.js'
import { createHttpForwarder } from './http-forwarder.js'
import { MemoryCheckpointStore } from './memory-checkpoint-store.js'
import type { DropReason } from './notifications.js'
import { createPrefilterMetrics, type PrefilterMetrics } from './metrics.js'
import { type PartitionStatus, Pipeline } from './pipeline.js'
import { RedisCheckpointStore } from './redis-checkpoint-store.js'
import { type Scheduler, systemScheduler } from './scheduler.js'

/** Knobs outside the environment contract: tests shorten SDK intervals, benchmarks raise concurrency. */
export interface PrefilterTuning {
  consumer?: ConsumerTuning
  /** forwards in flight at once (default 8) */
  forwardConcurrency?: number
  backoff?: BackoffOptions
  /** one HTTP attempt's limit (default 10 s) */
  forwardTimeoutMs?: number
  /** receiving pauses while this many notifications wait (default 50,000) */
  maxUnsettled?: number
  scheduler?: Scheduler
  /** for namespace + credential configuration; default: DefaultAzureCredential from @azure/identity */
  credential?: TokenCredential
}

export interface PrefilterDeps {
  logger: Logger
  registry: Registry
  redis?: Redis | Cluster
  shutdownGraceMs: number
  tuning?: PrefilterTuning
}

export interface PrefilterStatus {
  ready: boolean
  running: boolean
  closing: boolean
  forwardTarget: 'http' | 'eventhub'
  checkpointStore: PrefilterConfig['checkpointStore']
  partitions: PartitionStatus[]
  unsettledNotifications: number
  waitingItems: number
  pendingForwards: number
  forwardFailingForMs?: number
  lastForwardFailure?: { reason: string; message: string; at: string }
  consumerFailingForMs?: number
  lastConsumerError?: { message: string; at: string }
}

export interface PrefilterHandle {
  isReady(): boolean
  status(): PrefilterStatus
  /** Stops receiving, flushes within shutdownGraceMs, checkpoints what was forwarded, closes the clients. */
  close(): Promise<void>
}

// The memory store outlives one pre-filter run inside the process (a restart resumes from its checkpoints), one per
// event hub connection so unrelated hubs that share a host name never mix.
const memoryStores = new Map<string, MemoryCheckpointStore>()

function memoryStoreFor(config: PrefilterConfig): MemoryCheckpointStore {
  const key = `${config.connectionString ?? config.namespace ?? ''}|${config.eventHubName ?? ''}`
  let store = memoryStores.get(key)
  if (!store) memoryStores.set(key, (store = new MemoryCheckpointStore()))
  return store
}

async function createCheckpointStore(config: PrefilterConfig, deps: PrefilterDeps): Promise<CheckpointStore> {
  switch (config.checkpointStore) {
    case 'redis':
      if (!deps.redis) throw new Error('PREFILTER_CHECKPOINT_STORE=redis needs the sidecar Redis client (REDIS_URL)')
      return new RedisCheckpointStore(deps.redis)
    case 'blob':
      if (!config.blobConnectionString || !config.blobContainer) {
        throw new Error('PREFILTER_CHECKPOINT_STORE=blob needs PREFILTER_BLOB_CONNECTION_STRING and PREFILTER_BLOB_CONTAINER')
      }
      return createBlobCheckpointStore(config.blobConnectionString, config.blobContainer)
    default:
      return memoryStoreFor(config)
  }
}

function createForwarder(config: PrefilterConfig, tuning: PrefilterTuning): Forwarder {
  if (config.forwardUrl) {
    return createHttpForwarder({ url: config.forwardUrl, token: config.forwardToken, requestTimeoutMs: tuning.forwardTimeoutMs })
  }
  if (config.outputConnectionString) {
    return createEventHubForwarder({ connectionString: config.outputConnectionString, eventHubName: config.outputEventHubName })
  }
  throw new Error('the pre-filter needs PREFILTER_FORWARD_URL or PREFILTER_OUTPUT_EVENTHUB_CONNECTION_STRING')
}

// Kept out of the dependencies on purpose: only namespace + credential setups need it.
async function defaultCredential(): Promise<TokenCredential> {
  const name = '@azure/identity'
  try {
    const identity = (await import(name)) as { DefaultAzureCredential: new () => TokenCredential }
    return new identity.DefaultAzureCredential()
  } catch (error) {
    throw new Error(
      `PREFILTER_EVENTHUB_NAMESPACE without a connection string needs @azure/identity installed (${(error as Error).message})`,
    )
  }
}

export async function startPrefilter(config: PrefilterConfig, deps: PrefilterDeps): Promise<PrefilterHandle> {
  const log = deps.logger.child({ component: 'prefilter' })
  const tuning = deps.tuning ?? {}
  const scheduler = tuning.scheduler ?? systemScheduler
  const dropLog = new DropLog(log, scheduler)
  const credential = config.connectionString ? undefined : (tuning.credential ?? (await defaultCredential()))
  const checkpointStore = await createCheckpointStore(config, deps)
  const forwarder = createForwarder(config, tuning)

  let closing = false
  let consumer: RunningConsumer | undefined
  let consumerFailingSince: number | undefined
  let lastConsumerError: { message: string; at: number } | undefined
  let stallReported = false

  const forwardFailingFor = (): number | undefined => {
    const since = delivery.failingSince()
    return since === undefined ? undefined : scheduler.now() - since
  }
  // Errors with no receive in between count as one outage; a pause in errors this long ends it (a sidecar that owns
  // no partition never receives, so only the errors themselves can tell that the outage is over).
  const lbInterval = tuning.consumer?.loadBalancingOptions?.updateIntervalInMs ?? 10_000
  const errorQuietMs = 2 * Math.max(lbInterval, (tuning.consumer?.maxWaitTimeInSeconds ?? 5) * 1_000)
  const consumerFailingFor = (): number | undefined => {
    if (consumerFailingSince === undefined || lastConsumerError === undefined) return undefined
    if (scheduler.now() - lastConsumerError.at > errorQuietMs) return undefined
    return scheduler.now() - consumerFailingSince
  }
  const isReady = (): boolean => {
    if (closing || !consumer?.subscription.isRunning) return false
    if ((forwardFailingFor() ?? 0) >= config.unreadyAfterMs) return false
    return (consumerFailingFor() ?? 0) < config.unreadyAfterMs
  }

  const metrics: PrefilterMetrics = createPrefilterMetrics(deps.registry, {
    ready: isReady,
    partitions: () => pipeline.partitionStatus(),
    unsettledNotifications: () => pipeline.unsettledNotifications,
    waitingItems: () => pipeline.waitingItems,
    pendingForwards: () => delivery.pending,
  })

  const delivery: Delivery = new Delivery({
    forwarder,
    scheduler,
    concurrency: tuning.forwardConcurrency,
    backoff: tuning.backoff,
    hooks: {
      forwarded(outbound, attempts) {
        metrics.forwarded.inc({ kind: outbound.message.kind })
        if (attempts > 1) {
          metrics.forwardRetries.inc()
          log.info({ idempotencyKey: outbound.idempotencyKey, attempts }, 'forward succeeded after retries')
        }
        if (stallReported && delivery.failingSince() === undefined) {
          stallReported = false
          log.info('forwarding recovered')
        }
      },
      failed(outbound, error, attempt, delayMs) {
        metrics.forwardFailures.inc({ reason: error.reason })
        log.warn({ idempotencyKey: outbound.idempotencyKey, reason: error.reason, attempt, retryInMs: delayMs, err: error.message }, 'forward failed; retrying')
        if (!stallReported && (forwardFailingFor() ?? 0) >= config.unreadyAfterMs) {
          stallReported = true
          log.error({ unreadyAfterMs: config.unreadyAfterMs }, 'forwarding keeps failing: checkpoints are held back and the pre-filter reports not ready')
        }
      },
      error(error) {
        log.error({ err: error }, 'pre-filter completion callback failed')
      },
    },
  })

  const pipeline: Pipeline = new Pipeline({
    clientStates: config.clientStates,
    quietMs: config.quietMs,
    maxWaitMs: config.maxWaitMs,
    scheduler,
    delivery,
    maxUnsettled: tuning.maxUnsettled,
    hooks: {
      received(events, notifications) {
        metrics.eventsReceived.inc(events)
        metrics.notificationsReceived.inc(notifications)
      },
      dropped(reason, count, where) {
        metrics.dropped.inc({ reason }, count)
        dropLog.note(reason, count, where)
      },
      collapsed(count) {
        metrics.collapsed.inc(count)
      },
      checkpointed() {
        metrics.checkpointsWritten.inc()
      },
      checkpointFailed(partitionId, error) {
        metrics.checkpointFailures.inc()
        log.warn({ partitionId, err: (error as Error)?.message }, 'checkpoint write failed; retrying')
      },
    },
  })

  try {
    consumer = startConsumer(
      {
        connectionString: config.connectionString,
        namespace: config.namespace,
        credential,
        eventHubName: config.eventHubName,
        consumerGroup: config.consumerGroup,
        startPosition: config.startPosition,
      },
      checkpointStore,
      pipeline,
      {
        received() {
          consumerFailingSince = undefined
        },
        error(error, partitionId) {
          metrics.consumerErrors.inc()
          const now = scheduler.now()
          if (consumerFailingSince === undefined || lastConsumerError === undefined || now - lastConsumerError.at > errorQuietMs) {
            consumerFailingSince = now
          }
          lastConsumerError = { message: error.message, at: now }
          log.warn({ partitionId, code: (error as { code?: string }).code, err: error.message }, 'event hubs consumer error')
        },
        partitionOpened(partitionId) {
          log.info({ partitionId }, 'partition claimed')
        },
        partitionClosed(partitionId, reason) {
          log.info({ partitionId, reason }, 'partition released')
        },
      },
      tuning.consumer,
    )
  } catch (error) {
    pipeline.stop()
    await forwarder.close().catch(() => undefined)
    throw error
  }
  log.info(
    { checkpointStore: config.checkpointStore, forwardTarget: forwarder.kind, quietMs: config.quietMs, maxWaitMs: config.maxWaitMs },
    'pre-filter started',
  )
  if (config.checkpointStore === 'memory') {
    log.warn(
      { startPosition: config.startPosition },
      'checkpoints are kept in this process only: after a restart the pre-filter starts again from PREFILTER_START_POSITION, so with "latest" it skips what was sent meanwhile; set PREFILTER_CHECKPOINT_STORE=redis or blob in production',
    )
  }

  let closed: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing = true
    const started = scheduler.now()
    try {
      await consumer?.stop()
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'stopping the subscription failed')
    }
    const left = Math.max(0, deps.shutdownGraceMs - (scheduler.now() - started))
    const complete = await pipeline.drain(left)
    const unforwarded = delivery.pending
    if (complete) log.info('pre-filter flushed; checkpoints written for everything forwarded')
    else log.warn({ unforwarded }, 'shutdown grace over: unforwarded messages will be received again after the restart')
    await Promise.allSettled([consumer?.close(), forwarder.close()])
  }

  return {
    isReady,
    status(): PrefilterStatus {
      const failure = delivery.lastFailure
      return {
        ready: isReady(),
        running: consumer?.subscription.isRunning ?? false,
        closing,
        forwardTarget: forwarder.kind,
        checkpointStore: config.checkpointStore,
        partitions: pipeline.partitionStatus(),
        unsettledNotifications: pipeline.unsettledNotifications,
        waitingItems: pipeline.waitingItems,
        pendingForwards: delivery.pending,
        forwardFailingForMs: forwardFailingFor(),
        lastForwardFailure: failure && { reason: failure.reason, message: failure.message, at: new Date(failure.at).toISOString() },
        consumerFailingForMs: consumerFailingFor(),
        lastConsumerError: lastConsumerError && { message: lastConsumerError.message, at: new Date(lastConsumerError.at).toISOString() },
      }
    },
    close: () => (closed ??= close()),
  }
}

/** At most one log line per drop reason in this long (DropLog). */
export const DROP_LOG_INTERVAL_MS = 10_000

/**
 * Logs the notifications checkpointed past without a forward (validation probes, a clientState not configured, ones
 * that cannot be read), so an operator can tell which went: the first of each reason at once, then at most one line
 * per reason every DROP_LOG_INTERVAL_MS with the count since the last.
 */
class DropLog {
  private readonly last = new Map<DropReason, { at: number; since: number }>()

  constructor(
    private readonly log: Pick<Logger, 'info' | 'warn'>,
    private readonly clock: { now(): number },
  ) {}

  note(reason: DropReason, count: number, where: { partitionId: string; sequenceNumber: number }): void {
    const now = this.clock.now()
    const seen = this.last.get(reason)
    if (seen !== undefined && now - seen.at < DROP_LOG_INTERVAL_MS) {
      seen.since += count
      return
    }
    const line = { reason, ...where, droppedSinceLastLine: seen === undefined ? count : seen.since + count }
    // a validation probe is expected; the others mean a notification nobody will see
    if (reason === 'validation') this.log.info(line, 'notification dropped and checkpointed past')
    else this.log.warn(line, 'notification dropped and checkpointed past')
    this.last.set(reason, { at: now, since: 0 })
  }
}
