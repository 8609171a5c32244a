// In-process CheckpointStore (dev, tests): the same etag and ownership rules as the Redis store, lost on exit.
import { randomUUID } from 'node:crypto'
import type { Checkpoint, CheckpointStore, PartitionOwnership } from '@azure/event-hubs'
import { groupKey, requireCheckpoint } from './checkpoint-store-keys.js'

export class MemoryCheckpointStore implements CheckpointStore {
  private readonly ownerships = new Map<string, Map<string, PartitionOwnership>>()
  private readonly checkpoints = new Map<string, Map<string, Checkpoint>>()

  constructor(private readonly now: () => number = Date.now) {}

  async listOwnership(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string): Promise<PartitionOwnership[]> {
    const group = this.ownerships.get(groupKey(fullyQualifiedNamespace, eventHubName, consumerGroup))
    return group ? [...group.values()].map((record) => ({ ...record })) : []
  }

  async claimOwnership(requested: PartitionOwnership[]): Promise<PartitionOwnership[]> {
    const claimed: PartitionOwnership[] = []
    for (const ownership of requested) {
      const key = groupKey(ownership.fullyQualifiedNamespace, ownership.eventHubName, ownership.consumerGroup)
      let group = this.ownerships.get(key)
      if (!group) this.ownerships.set(key, (group = new Map()))
      const current = group.get(ownership.partitionId)
      // Conflicts are left out of the result, never thrown: the processor reads an empty result as "someone else won".
      if (current ? current.etag !== ownership.etag : ownership.etag !== undefined) continue
      const record: PartitionOwnership = { ...ownership, etag: randomUUID(), lastModifiedTimeInMs: this.now() }
      group.set(ownership.partitionId, record)
      claimed.push({ ...record })
    }
    return claimed
  }

  async updateCheckpoint(checkpoint: Checkpoint): Promise<void> {
    requireCheckpoint(checkpoint)
    const key = groupKey(checkpoint.fullyQualifiedNamespace, checkpoint.eventHubName, checkpoint.consumerGroup)
    let group = this.checkpoints.get(key)
    if (!group) this.checkpoints.set(key, (group = new Map()))
    group.set(checkpoint.partitionId, { ...checkpoint })
  }

  async listCheckpoints(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string): Promise<Checkpoint[]> {
    const group = this.checkpoints.get(groupKey(fullyQualifiedNamespace, eventHubName, consumerGroup))
    return group ? [...group.values()].map((checkpoint) => ({ ...checkpoint })) : []
  }
}
