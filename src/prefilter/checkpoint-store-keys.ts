// Naming and input checks shared by the project's own checkpoint stores.
import type { Checkpoint } from '@azure/event-hubs'

/** Namespace, hub and group lower-cased like the blob store does: `$Default` and `$default` are one group. */
export const groupKey = (fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string): string =>
  [fullyQualifiedNamespace, eventHubName, consumerGroup].map((part) => encodeURIComponent(part.toLowerCase())).join('/')

/** The SDK's stores refuse a checkpoint without both position fields; so do ours. */
export function requireCheckpoint(checkpoint: Checkpoint): void {
  if (typeof checkpoint.sequenceNumber !== 'number' || !Number.isFinite(checkpoint.sequenceNumber)) {
    throw new TypeError('checkpoint.sequenceNumber must be a number')
  }
  if (checkpoint.offset === undefined || checkpoint.offset === null || String(checkpoint.offset) === '') {
    throw new TypeError('checkpoint.offset is required')
  }
  if (typeof checkpoint.partitionId !== 'string' || checkpoint.partitionId === '') throw new TypeError('checkpoint.partitionId is required')
}
