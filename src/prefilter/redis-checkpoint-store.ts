// CheckpointStore on the sidecar's Redis: several sidecars share the partitions through etag-checked ownership.
import { randomUUID } from 'node:crypto'
import type { Checkpoint, CheckpointStore, PartitionOwnership } from '@azure/event-hubs'
import type { Cluster, Redis } from 'ioredis'
import { groupKey, requireCheckpoint } from './checkpoint-store-keys.js'

/**
 * Claims in one script so the etag check and the write are atomic. A record is "<etag>\t<ms>\t<ownerId>" (owner
 * last: it is the only free text). The time is Redis's own, one clock for every sidecar, as the blob store uses
 * the storage service's. No record + no etag, or a record whose etag matches, wins; anything else is left out.
 */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stamp = string.format('%d', now)
local out = {}
for i = 1, #ARGV, 4 do
  local partition, owner, expected, fresh = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local current = redis.call('HGET', KEYS[1], partition)
  local ok
  if current then
    ok = expected ~= '' and string.match(current, '^([^\\t]*)') == expected
  else
    ok = expected == ''
  end
  if ok then
    redis.call('HSET', KEYS[1], partition, fresh .. '\\t' .. stamp .. '\\t' .. owner)
    out[#out + 1] = partition
    out[#out + 1] = fresh
    out[#out + 1] = stamp
  end
end
return out
`

export interface RedisCheckpointStoreOptions {
  /** key prefix; the group part is a hash tag so both keys of a group share a Redis Cluster slot */
  prefix?: string
}

export class RedisCheckpointStore implements CheckpointStore {
  private readonly prefix: string

  constructor(
    private readonly redis: Redis | Cluster,
    options: RedisCheckpointStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'prefilter'
  }

  private keys(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string) {
    const tag = `{${groupKey(fullyQualifiedNamespace, eventHubName, consumerGroup)}}`
    return { ownership: `${this.prefix}:${tag}:ownership`, checkpoint: `${this.prefix}:${tag}:checkpoint` }
  }

  async listOwnership(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string): Promise<PartitionOwnership[]> {
    const { ownership } = this.keys(fullyQualifiedNamespace, eventHubName, consumerGroup)
    const records = await this.redis.hgetall(ownership)
    const out: PartitionOwnership[] = []
    for (const [partitionId, value] of Object.entries(records)) {
      const match = /^([^\t]*)\t(\d+)\t([\s\S]*)$/.exec(value)
      if (!match) continue
      out.push({
        fullyQualifiedNamespace,
        eventHubName,
        consumerGroup,
        partitionId,
        etag: match[1],
        lastModifiedTimeInMs: Number(match[2]),
        ownerId: match[3],
      })
    }
    return out
  }

  async claimOwnership(requested: PartitionOwnership[]): Promise<PartitionOwnership[]> {
    // The processor claims one group at a time; group by key anyway so a mixed call stays correct.
    const byKey = new Map<string, PartitionOwnership[]>()
    for (const ownership of requested) {
      const { ownership: key } = this.keys(ownership.fullyQualifiedNamespace, ownership.eventHubName, ownership.consumerGroup)
      const list = byKey.get(key)
      if (list) list.push(ownership)
      else byKey.set(key, [ownership])
    }
    const claimed: PartitionOwnership[] = []
    for (const [key, list] of byKey) {
      const args = list.flatMap((o) => [o.partitionId, o.ownerId ?? '', o.etag ?? '', randomUUID()])
      const reply = (await this.redis.eval(CLAIM, 1, key, ...args)) as Array<string | Buffer>
      const won = new Map<string, { etag: string; at: number }>()
      for (let i = 0; i + 2 < reply.length; i += 3) {
        won.set(String(reply[i]), { etag: String(reply[i + 1]), at: Number(String(reply[i + 2])) })
      }
      for (const ownership of list) {
        const result = won.get(ownership.partitionId)
        if (result) claimed.push({ ...ownership, etag: result.etag, lastModifiedTimeInMs: result.at })
      }
    }
    return claimed
  }

  /** Not fenced by ownership, like the other stores: a former owner may still write (duplicates, never loss). */
  async updateCheckpoint(checkpoint: Checkpoint): Promise<void> {
    requireCheckpoint(checkpoint)
    const { checkpoint: key } = this.keys(checkpoint.fullyQualifiedNamespace, checkpoint.eventHubName, checkpoint.consumerGroup)
    await this.redis.hset(key, checkpoint.partitionId, `${checkpoint.sequenceNumber}\t${checkpoint.offset}`)
  }

  async listCheckpoints(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string): Promise<Checkpoint[]> {
    const { checkpoint } = this.keys(fullyQualifiedNamespace, eventHubName, consumerGroup)
    const records = await this.redis.hgetall(checkpoint)
    const out: Checkpoint[] = []
    for (const [partitionId, value] of Object.entries(records)) {
      const tab = value.indexOf('\t')
      const sequenceNumber = Number(value.slice(0, tab))
      if (tab < 0 || !Number.isFinite(sequenceNumber)) continue
      out.push({ fullyQualifiedNamespace, eventHubName, consumerGroup, partitionId, sequenceNumber, offset: value.slice(tab + 1) })
    }
    return out
  }
}
