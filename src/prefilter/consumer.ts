// The Event Hubs edge: one EventHubConsumerClient subscription that feeds partitions' batches into the pipeline.
import {
  type CheckpointStore,
  CloseReason,
  earliestEventPosition,
  EventHubConsumerClient,
  type EventHubConsumerClientOptions,
  latestEventPosition,
  type LoadBalancingOptions,
  type PartitionContext,
  RetryMode,
  type RetryOptions,
  type Subscription,
  type TokenCredential,
} from '@azure/event-hubs'
import type { PartitionHandle, Pipeline } from './pipeline.js'

/** SDK knobs; the defaults suit production, tests shorten them (reference §9). */
export interface ConsumerTuning {
  maxBatchSize?: number
  maxWaitTimeInSeconds?: number
  loadBalancingOptions?: LoadBalancingOptions
  retryOptions?: RetryOptions
}

export interface ConsumerSource {
  connectionString?: string
  /** with `credential` when no connection string is given */
  namespace?: string
  credential?: TokenCredential
  eventHubName?: string
  consumerGroup: string
  startPosition: 'earliest' | 'latest'
}

export interface ConsumerEvents {
  /** any batch arrived (an empty one too): the link is alive */
  received(partitionId: string): void
  error(error: Error, partitionId: string | undefined): void
  partitionOpened(partitionId: string): void
  partitionClosed(partitionId: string, reason: string): void
}

export interface RunningConsumer {
  readonly client: EventHubConsumerClient
  readonly subscription: Subscription
  /** Stops receiving (and gives up ownership); the pipeline keeps what it already has. */
  stop(): Promise<void>
  close(): Promise<void>
}

function createClient(source: ConsumerSource, store: CheckpointStore, options: EventHubConsumerClientOptions): EventHubConsumerClient {
  if (source.connectionString) {
    return source.eventHubName
      ? new EventHubConsumerClient(source.consumerGroup, source.connectionString, source.eventHubName, store, options)
      : new EventHubConsumerClient(source.consumerGroup, source.connectionString, store, options)
  }
  if (!source.namespace || !source.eventHubName || !source.credential) {
    throw new Error('the pre-filter needs PREFILTER_EVENTHUB_CONNECTION_STRING, or a namespace, a hub name and a credential')
  }
  return new EventHubConsumerClient(source.consumerGroup, source.namespace, source.eventHubName, source.credential, store, options)
}

/**
 * Whether a partition just claimed gets an anchor checkpoint before its first event: when it has no checkpoint yet,
 * and when the listing fails. An anchor sits just before the first event this run receives, so it can repeat events
 * (a checkpoint another owner wrote meanwhile moves back) but never skip one; without it, a partition that had no
 * checkpoint restarts at PREFILTER_START_POSITION and, from "latest", skips what this run received but did not forward.
 */
export async function needsAnchor(
  store: Pick<CheckpointStore, 'listCheckpoints'>,
  context: Pick<PartitionContext, 'fullyQualifiedNamespace' | 'eventHubName' | 'consumerGroup' | 'partitionId'>,
  onError: (error: Error) => void,
): Promise<boolean> {
  try {
    const checkpoints = await store.listCheckpoints(context.fullyQualifiedNamespace, context.eventHubName, context.consumerGroup)
    return !checkpoints.some((checkpoint) => checkpoint.partitionId === context.partitionId)
  } catch (error) {
    onError(error as Error)
    return true
  }
}

export function startConsumer(
  source: ConsumerSource,
  store: CheckpointStore,
  pipeline: Pipeline,
  events: ConsumerEvents,
  tuning: ConsumerTuning = {},
): RunningConsumer {
  const clientOptions: EventHubConsumerClientOptions = {
    // Greedy: a starting sidecar claims every free partition (and its fair share of taken ones) in its first round
    // instead of one per 10 s round; the SDK's defaults stay for renewal and expiry.
    loadBalancingOptions: { strategy: 'greedy', updateIntervalInMs: 10_000, partitionOwnershipExpirationIntervalInMs: 60_000, ...tuning.loadBalancingOptions },
    // The SDK waits a fixed 30 s between retries by default; a dropped link should come back sooner.
    retryOptions: { mode: RetryMode.Exponential, retryDelayInMs: 1_000, maxRetryDelayInMs: 30_000, ...tuning.retryOptions },
  }
  const client = createClient(source, store, clientOptions)
  const handles = new Map<PartitionContext, PartitionHandle>()

  const open = (context: PartitionContext, anchor = false): PartitionHandle => {
    const existing = handles.get(context)
    if (existing) return existing
    const handle = pipeline.openPartition(context.partitionId, (position) =>
      // Written straight to the store, not through the context, so the last checkpoints survive the pump's close.
      store.updateCheckpoint({
        fullyQualifiedNamespace: context.fullyQualifiedNamespace,
        eventHubName: context.eventHubName,
        consumerGroup: context.consumerGroup,
        partitionId: context.partitionId,
        sequenceNumber: position.sequenceNumber,
        offset: position.offset,
      }),
      { anchor },
    )
    handles.set(context, handle)
    events.partitionOpened(context.partitionId)
    return handle
  }

  const subscription = client.subscribe(
    {
      processInitialize: async (context) => {
        open(context, await needsAnchor(store, context, (error) => events.error(error, context.partitionId)))
      },
      processEvents: async (received, context) => {
        events.received(context.partitionId)
        if (received.length === 0) return
        pipeline.ingest(open(context), received)
        await pipeline.waitForRoom()
      },
      processError: async (error, context) => {
        events.error(error, context?.partitionId)
      },
      processClose: async (reason, context) => {
        const handle = handles.get(context)
        handles.delete(context)
        if (handle) pipeline.closePartition(handle, reason === CloseReason.OwnershipLost ? 'ownership_lost' : 'shutdown')
        events.partitionClosed(context.partitionId, reason)
      },
    },
    {
      startPosition: source.startPosition === 'earliest' ? earliestEventPosition : latestEventPosition,
      maxBatchSize: tuning.maxBatchSize ?? 100,
      maxWaitTimeInSeconds: tuning.maxWaitTimeInSeconds ?? 5,
    },
  )

  let stopped: Promise<void> | undefined
  const stop = () => (stopped ??= subscription.close())
  return {
    client,
    subscription,
    stop,
    async close() {
      await stop()
      await client.close()
    },
  }
}
