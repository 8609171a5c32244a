// Message shapes and keys: the exact JSON of design.md, Idempotency-Key formats, partition keys.
import t from 'tap'
import { toChangeOutbound, toLifecycleOutbound } from '../../src/prefilter/messages.js'

const burst = {
  tenantId: 'tenant-1',
  itemId: 'AAMk/x+y=',
  subscriptionId: 'sub-1',
  resource: 'Users/u/Events/AAMk/x+y=',
  changeType: 'created' as const,
  etag: 'ck3',
  etags: ['ck1', 'ck2', 'ck3'],
  collapsed: 4,
  firstEnqueuedAt: Date.parse('2026-03-01T10:00:00.000Z'),
  lastEnqueuedAt: Date.parse('2026-03-01T10:00:00.700Z'),
  firstSeenAt: 0,
  lastSeenAt: 0,
  tokens: [],
}

t.test('a change message has exactly the fields of the contract', async (t) => {
  const out = toChangeOutbound(burst)
  t.same(Object.keys(out.message).sort(), [
    'changeType', 'collapsed', 'etag', 'etags', 'firstEnqueuedAt', 'itemId', 'kind', 'lastEnqueuedAt', 'resource', 'subscriptionId', 'tenantId',
  ])
  t.same(out.message, {
    kind: 'change',
    tenantId: 'tenant-1',
    subscriptionId: 'sub-1',
    itemId: 'AAMk/x+y=',
    resource: 'Users/u/Events/AAMk/x+y=',
    changeType: 'created',
    etag: 'ck3',
    etags: ['ck1', 'ck2', 'ck3'],
    collapsed: 4,
    firstEnqueuedAt: '2026-03-01T10:00:00.000Z',
    lastEnqueuedAt: '2026-03-01T10:00:00.700Z',
  })
  t.equal(out.idempotencyKey, 'tenant-1:AAMk/x+y=:ck3')
  t.equal(out.partitionKey, 'AAMk/x+y=')
})

t.test('a delete is keyed apart from the update whose etag it carries', async (t) => {
  // a late copy of an update's notification collapsed with the delete (or a delete notification naming the last state)
  const update = toChangeOutbound(burst)
  const deleted = toChangeOutbound({ ...burst, changeType: 'deleted' })
  t.equal(deleted.idempotencyKey, 'tenant-1:AAMk/x+y=:deleted:ck3')
  t.not(deleted.idempotencyKey, update.idempotencyKey)
  t.equal(deleted.message.kind === 'change' && deleted.message.etag, 'ck3', 'the message still carries the etag itself')
})

t.test('without any etag the key still names one version; odd characters stay header-safe', async (t) => {
  const out = toChangeOutbound({ ...burst, etag: undefined, etags: [], changeType: 'deleted' })
  t.equal(out.message.kind === 'change' && out.message.etag, null)
  t.equal(out.idempotencyKey, 'tenant-1:AAMk/x+y=:deleted@2026-03-01T10:00:00.700Z')
  const odd = toChangeOutbound({ ...burst, itemId: 'é item' })
  t.equal(odd.idempotencyKey, 'tenant-1:%C3%A9%20item:ck3')
})

t.test('a lifecycle message and its key', async (t) => {
  const out = toLifecycleOutbound(
    { kind: 'lifecycle', lifecycleEvent: 'missed', subscriptionId: 'sub-1', tenantId: 'tenant-1' },
    Date.parse('2026-03-01T10:00:00.123Z'),
  )
  t.same(out.message, { kind: 'lifecycle', lifecycleEvent: 'missed', subscriptionId: 'sub-1', tenantId: 'tenant-1' })
  t.equal(out.idempotencyKey, 'sub-1:missed:2026-03-01T10:00:00.123Z')
  t.equal(out.partitionKey, 'sub-1')
})
