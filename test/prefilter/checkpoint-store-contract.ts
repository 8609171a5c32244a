// The CheckpointStore contract the EventProcessor relies on (reference §11), run unchanged against every store.
import type { CheckpointStore, PartitionOwnership } from '@azure/event-hubs'
import type { Test } from 'tap'

export interface ContractOptions {
  /** a second etag-less claim of an existing record loses (ours); the blob store lets both win (reference §12) */
  strictFirstClaim: boolean
  /** the store refuses checkpoints without sequenceNumber/offset itself */
  validatesCheckpoints: boolean
}

const NS = 'localhost'
// The blob store returns claim etags quoted ("0x..") and listed ones bare; both name the same version.
const bare = (etag: string | undefined) => etag?.replace(/^"(.*)"$/, '$1')
let groupSeq = 0

export function checkpointStoreContract(t: Test, name: string, makeStore: () => CheckpointStore | Promise<CheckpointStore>, options: ContractOptions) {
  // Each subtest uses its own hub so stores need no reset between them.
  const scope = () => {
    groupSeq += 1
    return { fullyQualifiedNamespace: NS, eventHubName: `hub${groupSeq}`, consumerGroup: '$Default' }
  }
  const own = (s: ReturnType<typeof scope>, partitionId: string, ownerId: string, etag?: string): PartitionOwnership => ({
    ...s,
    partitionId,
    ownerId,
    ...(etag === undefined ? {} : { etag }),
  })

  t.test(`${name}: first claims win and carry an etag and a time`, async (t) => {
    const store = await makeStore()
    const s = scope()
    t.same(await store.listOwnership(NS, s.eventHubName, s.consumerGroup), [])
    const before = Date.now()
    const claimed = await store.claimOwnership([own(s, '0', 'owner-a'), own(s, '1', 'owner-a')])
    t.equal(claimed.length, 2)
    for (const record of claimed) {
      t.type(record.etag, 'string')
      t.ok((record.etag as string).length > 0)
      t.type(record.lastModifiedTimeInMs, 'number')
      // Server clocks (Redis, storage) may differ a little from ours.
      t.ok(Math.abs((record.lastModifiedTimeInMs as number) - before) < 60_000)
    }
    const listed = await store.listOwnership(NS, s.eventHubName, s.consumerGroup)
    t.same(listed.map((o) => [o.partitionId, o.ownerId]).sort(), [
      ['0', 'owner-a'],
      ['1', 'owner-a'],
    ])
    for (const record of listed) {
      const match = claimed.find((c) => c.partitionId === record.partitionId)
      t.equal(bare(record.etag), bare(match?.etag), 'list shows the etag the claim returned')
      t.type(record.lastModifiedTimeInMs, 'number')
    }
  })

  t.test(`${name}: a claim with the current etag wins once; stale etags lose without throwing`, async (t) => {
    const store = await makeStore()
    const s = scope()
    const [first] = await store.claimOwnership([own(s, '0', 'owner-a')])
    const [second] = await store.claimOwnership([own(s, '0', 'owner-b', first.etag)])
    t.ok(second, 'owner-b takes over with the listed etag')
    t.not(second.etag, first.etag, 'every write gets a new etag')
    t.same(await store.claimOwnership([own(s, '0', 'owner-a', first.etag)]), [], 'the stale etag loses')
    const [listed] = await store.listOwnership(NS, s.eventHubName, s.consumerGroup)
    t.equal(listed.ownerId, 'owner-b')
    t.equal(bare(listed.etag), bare(second.etag))
  })

  t.test(`${name}: a mixed claim returns only the winners`, async (t) => {
    const store = await makeStore()
    const s = scope()
    const initial = await store.claimOwnership([own(s, '0', 'owner-a'), own(s, '1', 'owner-a')])
    const etagOf = (id: string) => initial.find((o) => o.partitionId === id)?.etag
    await store.claimOwnership([own(s, '1', 'owner-c', etagOf('1'))])
    const result = await store.claimOwnership([own(s, '0', 'owner-b', etagOf('0')), own(s, '1', 'owner-b', etagOf('1'))])
    t.same(
      result.map((o) => o.partitionId),
      ['0'],
    )
  })

  if (options.strictFirstClaim) {
    t.test(`${name}: two first-ever claims of one partition: only one wins`, async (t) => {
      const store = await makeStore()
      const s = scope()
      const [a, b] = await Promise.all([store.claimOwnership([own(s, '0', 'owner-a')]), store.claimOwnership([own(s, '0', 'owner-b')])])
      t.equal(a.length + b.length, 1)
    })
  }

  t.test(`${name}: relinquishing writes an empty owner that others can claim`, async (t) => {
    const store = await makeStore()
    const s = scope()
    const [claimed] = await store.claimOwnership([own(s, '0', 'owner-a')])
    const [released] = await store.claimOwnership([own(s, '0', '', claimed.etag)])
    t.ok(released)
    const [listed] = await store.listOwnership(NS, s.eventHubName, s.consumerGroup)
    t.equal(listed.ownerId, '')
    t.ok(await store.claimOwnership([own(s, '0', 'owner-b', listed.etag)]).then((r) => r.length === 1))
  })

  t.test(`${name}: checkpoints are kept per partition, overwritten, and isolated per hub and group`, async (t) => {
    const store = await makeStore()
    const s = scope()
    await store.updateCheckpoint({ ...s, partitionId: '0', sequenceNumber: 4, offset: '400' })
    await store.updateCheckpoint({ ...s, partitionId: '0', sequenceNumber: 9, offset: '901' })
    await store.updateCheckpoint({ ...s, partitionId: '1', sequenceNumber: 0, offset: '0' })
    await store.updateCheckpoint({ ...s, consumerGroup: 'other', partitionId: '0', sequenceNumber: 1, offset: '1' })
    const listed = await store.listCheckpoints(NS, s.eventHubName, s.consumerGroup)
    const byPartition = Object.fromEntries(listed.map((c) => [c.partitionId, [c.sequenceNumber, String(c.offset)]]))
    t.same(byPartition, { '0': [9, '901'], '1': [0, '0'] })
    for (const checkpoint of listed) {
      t.equal(checkpoint.eventHubName, s.eventHubName)
      t.equal(checkpoint.fullyQualifiedNamespace, NS)
    }
    t.same(await store.listCheckpoints(NS, `${s.eventHubName}-x`, s.consumerGroup), [])
  })

  t.test(`${name}: the consumer group name is case-insensitive`, async (t) => {
    const store = await makeStore()
    const s = scope()
    await store.claimOwnership([own(s, '0', 'owner-a')])
    const listed = await store.listOwnership(NS, s.eventHubName, '$default')
    t.equal(listed.length, 1)
  })

  if (options.validatesCheckpoints) {
    t.test(`${name}: a checkpoint without its position is refused`, async (t) => {
      const store = await makeStore()
      const s = scope()
      await t.rejects(store.updateCheckpoint({ ...s, partitionId: '0', sequenceNumber: 1 } as never), TypeError)
      await t.rejects(store.updateCheckpoint({ ...s, partitionId: '0', offset: '1' } as never), TypeError)
    })
  }
}
