// Forwards each message to an output event hub with the item id as partition key, so one item stays in order.
import { EventHubProducerClient, type RetryOptions } from '@azure/event-hubs'
import { type Forwarder, ForwardError } from './delivery.js'
import type { Outbound } from './messages.js'

export interface EventHubForwarderOptions {
  connectionString: string
  eventHubName?: string
  /** SDK-level retries; our own backoff loop does the long retrying */
  retryOptions?: RetryOptions
}

/** core-amqp 4.4 throws an AggregateError of one MessagingError per attempt: the code sits inside. */
function codeOf(error: unknown): string {
  const inner = error instanceof AggregateError && error.errors.length > 0 ? error.errors[error.errors.length - 1] : error
  const code = (inner as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && /^[A-Za-z]+$/.test(code) ? code : 'error'
}

export function createEventHubForwarder(options: EventHubForwarderOptions): Forwarder {
  const retryOptions: RetryOptions = { maxRetries: 0, timeoutInMs: 10_000, ...options.retryOptions }
  const producer =
    options.eventHubName === undefined
      ? new EventHubProducerClient(options.connectionString, { retryOptions })
      : new EventHubProducerClient(options.connectionString, options.eventHubName, { retryOptions })

  return {
    kind: 'eventhub',
    async forward(outbound: Outbound, signal: AbortSignal): Promise<void> {
      try {
        await producer.sendBatch(
          [
            {
              body: outbound.message,
              contentType: 'application/json',
              messageId: outbound.idempotencyKey,
              properties: { 'Idempotency-Key': outbound.idempotencyKey, kind: outbound.message.kind },
            },
          ],
          { partitionKey: outbound.partitionKey, abortSignal: signal },
        )
      } catch (error) {
        const inner = error instanceof AggregateError ? error.errors[error.errors.length - 1] : error
        const message = inner instanceof Error ? inner.message : String(inner)
        throw new ForwardError(`send to the output event hub failed: ${message}`, `eventhub_${codeOf(error)}`, undefined, { cause: error })
      }
    },
    async close(): Promise<void> {
      await producer.close()
    },
  }
}
