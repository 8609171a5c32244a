// Native payload readers, /dedupe request reading, batch collapse and item keys, without a server.
import t from 'tap'
import { COVER_LIMIT, coveredVersions, newestFirstByItem, PastDuplicates, undeleteFirst } from '../../src/domain/batch-collapse.js'
import { explicitFormErrors, readDedupeRequest } from '../../src/domain/dedupe-event.js'
import { changeKeyFromEtag, isValidationNotification, readGraphNotification } from '../../src/domain/graph-notification.js'
import { describeInvalidField, InvalidFieldError } from '../../src/domain/invalid-field.js'
import { itemKeyString, itemMapKey, parseItemMapKey } from '../../src/domain/keys.js'
import { readInstant, readSalesforceChangeEvent } from '../../src/domain/salesforce-change-event.js'

const header = (over: Record<string, unknown> = {}) => ({
  entityName: 'Event',
  recordIds: ['00U5g00000Xy12ZEAQ'],
  changeType: 'UPDATE',
  transactionKey: '000b1c2e-77aa',
  sequenceNumber: 1,
  commitTimestamp: 1773048605123,
  commitUser: '0055g00000INTEGAAQ',
  changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync',
  changedFields: ['Location', 'LastModifiedDate'],
  ...over,
})

const pathOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    if (error instanceof InvalidFieldError) return error.path
    throw error
  }
  return undefined
}

t.test('Graph notifications', async (t) => {
  t.equal(changeKeyFromEtag('W/"DwAAABYAAAC7"'), 'DwAAABYAAAC7')
  t.equal(changeKeyFromEtag('"abc"'), 'abc')
  t.equal(changeKeyFromEtag('plain'), 'plain')
  const change = readGraphNotification({
    subscriptionId: 's',
    changeType: 'created',
    tenantId: 'tid',
    resourceData: { id: 'AAMk=Case', '@odata.etag': 'W/"ck1"' },
  })
  t.same(change, { system: 'outlook', itemId: 'AAMk=Case', version: 'ck1', changeKey: 'ck1', changeType: 'created', graphTenantId: 'tid', subscriptionId: 's', resource: undefined })
  const deleted = readGraphNotification({ subscriptionId: 's', changeType: 'deleted', resourceData: { id: 'AAMk=Case', '@odata.etag': 'W/"ck1"' } })
  t.equal(deleted.version, 'deleted:ck1', 'a delete is a version of its own, even with the etag of a state delivered before')
  t.equal(deleted.changeKey, 'ck1', 'answers report the changeKey')
  const longKey = 'k'.repeat(1020)
  t.equal(readGraphNotification({ changeType: 'updated', resourceData: { id: 'x', '@odata.etag': `W/"${longKey}"` } }).version, longKey)
  t.equal(pathOf(() => readGraphNotification({ changeType: 'deleted', resourceData: { id: 'x', '@odata.etag': `W/"${longKey}"` } })), 'notification.resourceData.@odata.etag', 'the prefix counts in the limit')
  t.ok(isValidationNotification({ subscriptionId: 'NA' }))
  t.ok(isValidationNotification({ subscriptionId: 'x', changeType: 'Validation: probe' }))
  t.equal(pathOf(() => readGraphNotification({ subscriptionId: 'NA' })), 'notification')
  t.equal(pathOf(() => readGraphNotification({ lifecycleEvent: 'missed' })), 'notification')
  t.equal(pathOf(() => readGraphNotification({ value: [] })), 'notification')
  t.equal(pathOf(() => readGraphNotification({ changeType: 'moved', resourceData: {} })), 'notification.changeType')
  t.equal(pathOf(() => readGraphNotification({ changeType: 'updated' })), 'notification.resourceData')
  const oversized = { subscriptionId: 's', changeType: 'updated', tenantId: 't', additionalPayloadStorageId: 'blob-7f3a' }
  t.throws(() => readGraphNotification(oversized), { path: 'notification.resourceData', message: /blob storage.*blob-7f3a.*blobStoreUrl/ }, 'an oversized rich notification says where its content is')
  t.equal(pathOf(() => readGraphNotification({ changeType: 'updated', resourceData: { id: '' } })), 'notification.resourceData.id')
  // the native forms keep the explicit form's limits: an id or version past 1024 characters is refused, not stored
  const long = (n: number) => 'x'.repeat(n)
  t.ok(readGraphNotification({ changeType: 'updated', resourceData: { id: long(1024), '@odata.etag': `W/"${long(1024)}"` } }))
  t.throws(() => readGraphNotification({ changeType: 'updated', resourceData: { id: long(1025), '@odata.etag': 'W/"a"' } }), { path: 'notification.resourceData.id', message: /at most 1024/ })
  t.throws(() => readGraphNotification({ changeType: 'updated', resourceData: { id: 'a', '@odata.etag': `W/"${long(1025)}"` } }), {
    path: 'notification.resourceData.@odata.etag',
    message: /changeKey longer than 1024/,
  })
  // what the record keeps beside the change (its meta) is bounded too
  for (const field of ['tenantId', 'subscriptionId']) {
    t.throws(() => readGraphNotification({ changeType: 'updated', [field]: long(1025), resourceData: { id: 'a', '@odata.etag': 'W/"a"' } }), { path: `notification.${field}`, message: /at most 1024/ })
  }
})

t.test('Salesforce change events: ids and versions within 1024 characters', async (t) => {
  const read = (over: Record<string, unknown>) => readSalesforceChangeEvent({ ChangeEventHeader: header(over) })
  const [longest] = read({ transactionKey: 'k'.repeat(1000), sequenceNumber: Number.MAX_SAFE_INTEGER })
  t.ok(longest.version.length <= 1024, 'the longest accepted transactionKey and sequenceNumber make a version within the limit')
  t.throws(() => read({ transactionKey: 'k'.repeat(1001) }), { path: 'changeEvent.ChangeEventHeader.transactionKey', message: /at most 1000/ })
  t.throws(() => read({ sequenceNumber: 2 ** 53 }), { path: 'changeEvent.ChangeEventHeader.sequenceNumber', message: /at most 2\^53 - 1/ }, 'past 2^53 - 1 it would not read back as the number sent')
  t.throws(() => read({ recordIds: ['a', 'r'.repeat(1025)] }), { path: 'changeEvent.ChangeEventHeader.recordIds.1', message: /at most 1024/ })
  t.throws(() => read({ changeType: 'GAP_OVERFLOW', entityName: 'E'.repeat(256) }), { path: 'changeEvent.ChangeEventHeader.entityName', message: /at most 255/ })
  t.equal(read({ changeType: 'GAP_OVERFLOW', entityName: 'E'.repeat(255) })[0].itemId.length, 'overflow:'.length + 255)
})

t.test('Salesforce change events in every envelope', async (t) => {
  const payload = { ChangeEventHeader: header(), Location: null, LastModifiedDate: '2026-03-09T09:30:05.000Z' }
  const [decoded] = readSalesforceChangeEvent(payload)
  t.equal(decoded.itemId, '00U5g00000Xy12ZEAQ')
  t.equal(decoded.version, '000b1c2e-77aa:1')
  t.equal(decoded.modifiedAt, Date.parse('2026-03-09T09:30:05.000Z'), 'LastModifiedDate before commitTimestamp')
  t.equal(decoded.changeType, 'updated')
  t.equal(decoded.gap, false)
  t.same(decoded.payload, { Location: null, LastModifiedDate: '2026-03-09T09:30:05.000Z' })
  t.same(readSalesforceChangeEvent({ schema: 'x', payload, event: { replayId: 5 } })[0].replayId, 5)
  t.same(readSalesforceChangeEvent({ data: { schema: 'x', payload, event: { replayId: 6 } }, channel: '/data/EventChangeEvent' })[0].replayId, 6)

  const [del] = readSalesforceChangeEvent({ ChangeEventHeader: header({ changeType: 'DELETE' }) })
  t.equal(del.changeType, 'deleted')
  t.equal(del.modifiedAt, 1773048605123, 'commitTimestamp without LastModifiedDate')
  t.equal(readSalesforceChangeEvent({ ChangeEventHeader: header({ changeType: 'UNDELETE' }) })[0].changeType, 'undeleted')
  const [gap] = readSalesforceChangeEvent({ ChangeEventHeader: header({ changeType: 'GAP_CREATE' }) })
  t.equal(gap.gap, true)
  t.equal(gap.changeType, 'created')
  const [overflow] = readSalesforceChangeEvent({ ChangeEventHeader: header({ changeType: 'GAP_OVERFLOW', recordIds: ['000000000000000AAA'] }) })
  t.equal(overflow.itemId, 'overflow:Event')
  t.equal(overflow.overflow, true)
  t.equal(readSalesforceChangeEvent({ ChangeEventHeader: header({ recordIds: ['a', 'b', 'c'] }) }).length, 3, 'fans out')

  t.equal(pathOf(() => readSalesforceChangeEvent({ nope: 1 })), 'changeEvent')
  t.equal(pathOf(() => readSalesforceChangeEvent({ ChangeEventHeader: header({ changeType: 'SNAPSHOT' }) })), 'changeEvent.ChangeEventHeader.changeType')
  t.equal(pathOf(() => readSalesforceChangeEvent({ payload: { ChangeEventHeader: header({ sequenceNumber: -1 }) } })), 'changeEvent.payload.ChangeEventHeader.sequenceNumber')
  t.equal(pathOf(() => readSalesforceChangeEvent({ ChangeEventHeader: header({ recordIds: [] }) })), 'changeEvent.ChangeEventHeader.recordIds')
  t.equal(pathOf(() => readSalesforceChangeEvent({ ChangeEventHeader: header({ recordIds: ['ok', 7] }) })), 'changeEvent.ChangeEventHeader.recordIds.1')
  t.equal(pathOf(() => readSalesforceChangeEvent({ ChangeEventHeader: header({ commitTimestamp: 'noon' }) })), 'changeEvent.ChangeEventHeader.commitTimestamp')
  // without it a DELETE would be undated, and every later event of the record stale, a dated restore included
  for (const commitTimestamp of [undefined, null]) {
    t.throws(() => readSalesforceChangeEvent({ ChangeEventHeader: header({ changeType: 'DELETE', commitTimestamp }) }), {
      path: 'changeEvent.ChangeEventHeader.commitTimestamp',
      message: /is required/,
    })
  }
  // who committed the change and how decide an echo (/correlate): another type is refused, not read as no one
  t.equal(pathOf(() => readSalesforceChangeEvent({ ChangeEventHeader: header({ commitUser: 5 }) })), 'changeEvent.ChangeEventHeader.commitUser')
  t.equal(pathOf(() => readSalesforceChangeEvent({ ChangeEventHeader: header({ changeOrigin: ['rest'] }) })), 'changeEvent.ChangeEventHeader.changeOrigin')
  const [withoutUser] = readSalesforceChangeEvent({ ChangeEventHeader: header({ commitUser: null, changeOrigin: '' }) })
  t.equal(withoutUser.commitUser, undefined, 'a null commitUser reads as none')
  t.equal(withoutUser.changeOrigin, '', 'an empty changeOrigin (a change made in the UI) is kept')
})

t.test('instants', async (t) => {
  t.equal(readInstant('2026-03-09T10:30:05+01:00', 'x'), Date.parse('2026-03-09T09:30:05Z'))
  t.equal(readInstant('2026-03-09T09:30:05.4471032Z', 'x'), Date.parse('2026-03-09T09:30:05.447Z'))
  t.equal(readInstant(1773048605000, 'x'), 1773048605000)
  t.equal(readInstant('1773048605000', 'x'), 1773048605000)
  t.equal(readInstant(undefined, 'x'), undefined)
  for (const bad of ['2026-03-09', 'tomorrow', '2026-03-09T09:30:05', -1, Number.NaN]) t.equal(pathOf(() => readInstant(bad, 'x')), 'x', String(bad))
  t.throws(() => readInstant(-5, 'x'), { message: /must not be negative/ }, 'a negative number says so')
  // Days the calendar does not have are refused, not rolled into the next month (Date.parse would).
  for (const bad of ['2026-02-29T10:00:00Z', '2026-02-30T10:00:00Z', '2026-04-31T10:00:00Z', '2026-01-00T10:00:00Z', '1900-02-29T00:00:00Z']) {
    t.equal(pathOf(() => readInstant(bad, 'x')), 'x', bad)
  }
  for (const [leapDay, utc] of [['2024-02-29T10:00:00Z', 1709200800000], ['2000-02-29T00:00:00+01:00', 951778800000], ['2026-12-31T23:59:59Z', 1798761599000]] as const) {
    t.equal(readInstant(leapDay, 'x'), utc, leapDay)
  }
})

t.test('reading /dedupe requests', async (t) => {
  const defaults = { leaseMs: 60_000, allowFanOut: false }
  const [explicit] = readDedupeRequest({ system: 'outlook', itemId: 'a', version: '1', modifiedAt: '2026-03-09T09:30:05Z', fields: { subject: 'x' } }, defaults)
  t.equal(explicit.key.tenant, 'default')
  t.equal(explicit.leaseMs, 60_000)
  t.match(explicit.fingerprint, /^[0-9a-f]{64}$/)
  t.equal(readDedupeRequest({ system: 'outlook', itemId: 'a', version: '1', fingerprint: 'mine' }, defaults)[0].fingerprint, 'mine')
  t.equal(pathOf(() => readDedupeRequest({ system: 'outlook', itemId: 'a', version: '1', fields: {}, fingerprint: 'f' }, defaults)), 'fingerprint')
  t.equal(pathOf(() => readDedupeRequest({ itemId: 'a', version: '1' }, defaults)), 'system')
  t.equal(pathOf(() => readDedupeRequest({ notification: {}, changeEvent: {} }, defaults)), 'changeEvent')
  const several = { ChangeEventHeader: header({ recordIds: ['a', 'b'] }) }
  t.equal(pathOf(() => readDedupeRequest({ changeEvent: several }, defaults)), 'changeEvent.ChangeEventHeader.recordIds')
  t.equal(readDedupeRequest({ changeEvent: several }, { ...defaults, allowFanOut: true }).length, 2)
  const twice = { ChangeEventHeader: header({ recordIds: ['a', 'b', 'a'] }) }
  t.same(readDedupeRequest({ changeEvent: twice }, { ...defaults, allowFanOut: true }).map((event) => event.key.itemId), ['a', 'b', 'a'], 'a batch fans out one result per listed id')
  t.same(readDedupeRequest({ changeEvent: { ChangeEventHeader: header({ recordIds: ['a', 'a'] }) } }, defaults).map((event) => event.key.itemId), ['a'], 'an id listed twice is one record for /dedupe')
  t.equal(pathOf(() => readDedupeRequest({ changeEvent: { schema: 's', payload: several, event: { replayId: 1 } } }, defaults)), 'changeEvent.payload.ChangeEventHeader.recordIds', 'through the CometD envelope')
  t.equal(pathOf(() => readDedupeRequest({ changeEvent: { data: { payload: several, event: { replayId: 1 } }, channel: '/data/EventChangeEvent' } }, defaults)), 'changeEvent.data.payload.ChangeEventHeader.recordIds', 'through the wrapped form')
  t.equal(pathOf(() => readDedupeRequest({ system: 'outlook', itemId: 'a', version: '1' }, defaults, 'events.2.')), undefined)
  t.equal(pathOf(() => readDedupeRequest({ changeEvent: { schema: 's', payload: several } }, defaults, 'events.2.')), 'events.2.changeEvent.payload.ChangeEventHeader.recordIds', 'and with a batch prefix')
  const [gap] = readDedupeRequest({ changeEvent: { ChangeEventHeader: header({ changeType: 'GAP_UPDATE' }) }, fields: { subject: 'x' } }, defaults)
  t.equal(gap.fingerprint, undefined, 'a gap event carries no fingerprint')
  t.equal(pathOf(() => readDedupeRequest({ system: 'outlook', itemId: 'a', version: '1' }, defaults, 'events.4.')), undefined)
  t.equal(pathOf(() => readDedupeRequest({ itemId: 'a', version: '1' }, defaults, 'events.4.')), 'events.4.system', 'batch paths are prefixed')

  const every = (() => {
    try {
      readDedupeRequest({ version: '1', modifiedAt: 'yesterday' }, defaults, 'events.1.')
    } catch (error) {
      return error instanceof InvalidFieldError ? describeInvalidField(error).map((field) => field.path) : error
    }
  })()
  t.same(every, ['events.1.system', 'events.1.itemId', 'events.1.modifiedAt'], 'every invalid field of the explicit form in one error')
  t.same(explicitFormErrors({ system: 'outlook', itemId: 'a', version: '1', modifiedAt: 1773048605000 }), [], 'a complete request has none')
  t.same(explicitFormErrors({ notification: {} }), [], 'the native forms are read elsewhere')
  t.same(explicitFormErrors([1]), [], 'nor is a body that is no object')
})

t.test('batch collapse keeps the newest event per item', async (t) => {
  const key = (itemId: string, tenant = 'default') => ({ tenant, system: 'outlook', itemId })
  t.same(newestFirstByItem([{ key: key('a'), modifiedAt: 3 }, { key: key('a'), modifiedAt: 1 }, { key: key('b') }]), [[0, 1], [2]])
  t.same(newestFirstByItem([{ key: key('a') }, { key: key('a') }, { key: key('a') }]), [[2, 1, 0]], 'later position without modifiedAt')
  t.same(newestFirstByItem([{ key: key('a'), modifiedAt: 5 }, { key: key('a'), modifiedAt: 5 }]), [[1, 0]], 'a tie goes to the later position')
  t.same(newestFirstByItem([{ key: key('a', 't1') }, { key: key('a', 't2') }]), [[0], [1]], 'tenants are separate items')
  // some events dated, some not: the dated ones keep their order, an undated one ranks after those before it
  t.same(newestFirstByItem([{ key: key('a'), modifiedAt: 10_000 }, { key: key('a') }, { key: key('a'), modifiedAt: 5_000 }]), [[1, 0, 2]], 'never the older dated event')
  t.same(newestFirstByItem([{ key: key('a'), modifiedAt: 5_000 }, { key: key('a') }, { key: key('a'), modifiedAt: 10_000 }]), [[2, 1, 0]])
  t.same(newestFirstByItem([{ key: key('a') }, { key: key('a'), modifiedAt: 1 }]), [[1, 0]], 'an undated event before every dated one is the oldest')
})

t.test('the search past duplicates: which event of an item to decide next', async (t) => {
  const key = { tenant: 'default', system: 'outlook', itemId: 'a' }
  const undated = [{ key, version: 'new' }, { key, version: 'k1' }, { key, version: 'k1' }, { key, version: 'k0' }]
  const [group] = newestFirstByItem(undated)
  t.same(group, [3, 2, 1, 0])
  const search = new PastDuplicates(undated, group)
  t.equal(search.candidate(), 2, 'k0 was a duplicate: k1 is next')
  search.duplicate()
  t.equal(search.candidate(), 0, 'k1 too: its second copy is skipped, the change is next')
  search.duplicate()
  t.equal(search.candidate(), undefined, 'nothing left')

  const sameSecond = [{ key, version: 'tx1', modifiedAt: 5 }, { key, version: 'tx2', modifiedAt: 5 }]
  t.equal(new PastDuplicates(sameSecond, newestFirstByItem(sameSecond)[0]).candidate(), undefined, 'a dated event no newer than a dated duplicate is not tried')
  const datedBelowUndated = [{ key, version: 'v2', modifiedAt: 2_000 }, { key, version: 'v1' }]
  t.equal(new PastDuplicates(datedBelowUndated, newestFirstByItem(datedBelowUndated)[0]).candidate(), 0)
  const undatedBelowDated = [{ key, version: 'u2' }, { key, version: 'd1', modifiedAt: 1_000 }]
  t.equal(new PastDuplicates(undatedBelowDated, newestFirstByItem(undatedBelowDated)[0]).candidate(), 0)
})

t.test('what a claim covers: the versions of its item\'s events ranked below it', async (t) => {
  const key = { tenant: 'default', system: 'outlook', itemId: 'a' }
  const burst = [{ key, version: 'k1' }, { key, version: 'k2' }, { key, version: 'k1' }, { key, version: 'k3' }, { key, version: 'k3' }]
  const [group] = newestFirstByItem(burst)
  t.same(coveredVersions(burst, group, 0), ['k1', 'k2'], 'nearest first, each once, not the claimed version')
  t.same(coveredVersions(burst, group, group.length - 1), undefined, 'the oldest covers nothing')
  const search = new PastDuplicates(burst, group)
  t.same(search.covered(), ['k2'], 'past the duplicate k3 (both copies), k1 covers what is below it')
  search.duplicate()
  t.same(search.covered(), undefined, 'past k1 too, k2 covers nothing: the copy of k1 below it is known')

  const dated = [{ key, version: 'd1', modifiedAt: 1_000 }, { key, version: 'u' }, { key, version: 'd2', modifiedAt: 1_000 }, { key, version: 'd3', modifiedAt: 2_000 }]
  t.same(coveredVersions(dated, newestFirstByItem(dated)[0], 0), ['u'], 'dated ones older than a dated claim are left to modifiedAt')
  const undatedClaim = [{ key, version: 'd1', modifiedAt: 1_000 }, { key, version: 'u' }]
  t.same(coveredVersions(undatedClaim, newestFirstByItem(undatedClaim)[0], 0), ['d1'], 'an undated claim covers dated events')

  const kinds = [
    { key, version: 'del', changeType: 'deleted' },
    { key, version: 'gap', gap: true },
    { key, version: 'ovf', overflow: true, gap: true },
    { key, version: 'up', changeType: 'updated' },
    { key, version: 'new', changeType: 'created' },
  ]
  t.same(coveredVersions(kinds, newestFirstByItem(kinds)[0], 0), ['up'], 'a change covers changes, not a delete or gap events')
  const deletes = [{ key, version: 'up', changeType: 'updated' }, { key, version: 'del1', changeType: 'deleted' }, { key, version: 'del2', changeType: 'deleted' }]
  t.same(coveredVersions(deletes, newestFirstByItem(deletes)[0], 0), ['del1', 'up'], 'a delete covers deletes and changes')
  const gaps = [{ key, version: 'ovf', gap: true, overflow: true }, { key, version: 'g1', gap: true }, { key, version: 'g2', gap: true }]
  t.same(coveredVersions(gaps, newestFirstByItem(gaps)[0], 0), ['g1'], 'a gap event covers gap events, not an overflow')
  const restore = [{ key, version: 'del', changeType: 'deleted' }, { key, version: 'gap', gap: true }, { key, version: 'up', changeType: 'updated' }, { key, version: 'und', changeType: 'undeleted' }]
  t.same(coveredVersions(restore, newestFirstByItem(restore)[0], 0), ['up', 'gap'], 'an undelete covers changes and gap events (it restores the whole record), not a delete')

  const many = Array.from({ length: 30 }, (_, i) => ({ key, version: `v${i}` }))
  const covered = coveredVersions(many, newestFirstByItem(many)[0], 0)
  t.equal(covered?.length, COVER_LIMIT, 'at most COVER_LIMIT')
  t.same(covered?.slice(0, 2), ['v28', 'v27'])
})

t.test('each item\'s events newest first, one order for any mix of dated and undated events', async (t) => {
  const key = (itemId: string) => ({ tenant: 'default', system: 'outlook', itemId })
  t.same(newestFirstByItem([{ key: key('a') }, { key: key('b') }, { key: key('a') }]), [[2, 0], [1]], 'items in the order they first appear')
  t.same(newestFirstByItem([{ key: key('a'), modifiedAt: 3_000 }, { key: key('a'), modifiedAt: 2_000 }, { key: key('a') }, { key: key('a'), modifiedAt: 1_000 }]), [[2, 0, 1, 3]])
  // the order agrees with the pairwise rule wherever both events are dated, for every arrangement of four events
  const stamps = [undefined, 1_000, 2_000, 2_000]
  const arrangements = (items: Array<number | undefined>): Array<Array<number | undefined>> =>
    items.length <= 1 ? [items] : items.flatMap((first, i) => arrangements([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [first, ...rest]))
  let disagreements = 0
  for (const arrangement of arrangements(stamps)) {
    const [order] = newestFirstByItem(arrangement.map((modifiedAt) => ({ key: key('a'), modifiedAt })))
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) {
        const [a, b] = [arrangement[order[i]], arrangement[order[j]]]
        if (a !== undefined && b !== undefined && (a < b || (a === b && order[i] < order[j]))) disagreements++
      }
    }
  }
  t.equal(disagreements, 0)
})

t.test('item keys', async (t) => {
  const key = { tenant: 'acme', system: 'outlook', itemId: 'AA:{x}\u0000y' }
  t.same(parseItemMapKey(itemMapKey(key)), key, 'map keys round-trip, even with NUL in the id')
  t.not(itemMapKey({ tenant: 'a', system: 'b', itemId: 'c' }), itemMapKey({ tenant: 'a', system: 'b', itemId: 'C' }), 'ids are case-sensitive')
  t.equal(itemKeyString({ tenant: 'a b', system: 'outlook', itemId: '{x}' }), 'a%20b:outlook:%7Bx%7D', 'store keys are URI-encoded')
})

t.test('undeleteFirst: an undelete below newer changes of its item is decided first, apart from them', async (t) => {
  const event = (changeType: string, modifiedAt: number, item = 'a') => ({ key: { tenant: 'default', system: 'salesforce' as const, itemId: item }, version: `v${modifiedAt}`, modifiedAt, changeType })
  const split = (events: ReturnType<typeof event>[]) => undeleteFirst(events, newestFirstByItem(events))
  t.same(split([event('undeleted', 1), event('updated', 2), event('updated', 3)]).groups, [[0], [2, 1]])
  t.same(split([event('updated', 1), event('undeleted', 2), event('updated', 3), event('updated', 1, 'b')]).groups, [[1, 0], [2], [3]], 'the events below the undelete go with it')
  t.same(split([event('deleted', 1), event('undeleted', 2), event('updated', 3)]).splits, [{ undelete: [1, 0], newer: [2] }])
  t.same(split([event('undeleted', 1), event('deleted', 2)]).splits, [], 'a newer delete supersedes the undelete: the item ends deleted')
  t.same(split([event('undeleted', 1), event('deleted', 2), event('updated', 3)]).splits, [], 'an update after a newer delete: no undelete to wait for')
  t.same(split([event('updated', 1), event('undeleted', 2)]).splits, [], 'the undelete is the newest: decided as ever')
  t.same(split([event('undeleted', 1), event('undeleted', 2), event('updated', 3)]).groups, [[1, 0], [2]], 'the newest undelete')
})
