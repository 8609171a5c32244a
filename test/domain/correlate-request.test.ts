// Reading /correlate and /correlate/confirm bodies: explicit and native forms, cross-field rules, both_changed.
import { InvalidFieldError } from '../../src/domain/invalid-field.js'
import t from 'tap'
import { readConfirmRequest, readCorrelateRequest } from '../../src/domain/correlate-request.js'
import { targetMovedFromBaseline } from '../../src/domain/correlate-rules.js'
import { fingerprintFields } from '../../src/domain/fingerprint.js'

const defaults = { leaseMs: 60_000 }
const fields = { subject: 'Quarterly review', start: '2026-03-10T15:00:00Z', end: '2026-03-10T16:00:00Z' }

const notification = (changeType = 'updated') => ({
  subscriptionId: 'sub-1',
  changeType,
  resource: 'Users/u1/Events/AAMk1=',
  resourceData: { '@odata.etag': 'W/"CK1"', id: 'AAMk1=' },
  tenantId: 'graph-tenant',
})
const changeEvent = (over: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => ({
  schema: 's',
  payload: {
    ChangeEventHeader: {
      entityName: 'Event',
      recordIds: ['00U5g00000Xy12ZEAQ'],
      changeType: 'CREATE',
      changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync',
      transactionKey: 'tx-1',
      sequenceNumber: 1,
      commitTimestamp: 1773047561000,
      commitUser: '0055g00000INTEGAAQ',
      ...header,
    },
    IsChild: false,
    ...over,
  },
  event: { replayId: 1 },
})

const pathOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    if (error instanceof InvalidFieldError) return error.path
    throw error
  }
  return 'no error'
}

t.test('explicit form', async (t) => {
  const change = readCorrelateRequest({ system: 'outlook', itemId: 'AAMk1=', changeType: 'created', fields }, defaults)
  t.match(change, { tenant: 'default', system: 'outlook', itemId: 'AAMk1=', changeType: 'created', leaseMs: 60_000 })
  t.equal(change.fingerprint, fingerprintFields(fields), 'the /dedupe fingerprint')
  t.equal(readCorrelateRequest({ system: 'salesforce', itemId: 'x', changeType: 'undeleted' }, defaults).changeType, 'undeleted', 'the store decides what an undelete is')
  t.equal(pathOf(() => readCorrelateRequest({ system: 'outlook', changeType: 'created' }, defaults)), 'itemId')
  t.equal(pathOf(() => readCorrelateRequest({ system: 'outlook', itemId: 'x', changeType: 'created', fields, fingerprint: 'f' }, defaults)), 'fingerprint')
  t.equal(pathOf(() => readCorrelateRequest({ system: 'outlook', itemId: 'x', changeType: 'updated', isChild: true }, defaults)), 'isChild', 'child events are Salesforce\'s')
  t.equal(readCorrelateRequest({ system: 'outlook', itemId: 'x', changeType: 'updated', isChild: false }, defaults).series.child, false)
  t.equal(readCorrelateRequest({ system: 'salesforce', itemId: 'x', changeType: 'updated', isChild: true }, defaults).series.child, true)
  // Salesforce's commit facts on an Outlook item would make a person's change our echo
  const outlookWith = (extra: Record<string, unknown>) => () => readCorrelateRequest({ notification: notification('created'), fields, ...extra }, defaults)
  t.equal(pathOf(outlookWith({ changedBy: '0055g00000INTEGAAQ' })), 'changedBy')
  t.equal(pathOf(outlookWith({ changeOrigin: 'x;client=c3-sync' })), 'changeOrigin')
  t.equal(pathOf(() => readCorrelateRequest({ system: 'outlook', itemId: 'x', changeType: 'updated', changedBy: 'u' }, defaults)), 'changedBy')
  t.equal(readCorrelateRequest({ system: 'salesforce', itemId: 'x', changeType: 'updated', changedBy: 'u' }, defaults).changedBy, 'u')
  // pairs are calendar events: another object's change event is refused, not answered create
  for (const entityName of ['Account', 'EventRelation']) {
    t.equal(pathOf(() => readCorrelateRequest({ changeEvent: changeEvent({}, { entityName }) }, defaults)), 'changeEvent.payload.ChangeEventHeader.entityName', entityName)
  }
})

t.test('event and record stand in for fields and fingerprint the same meeting alike', async (t) => {
  const event = {
    subject: 'Quarterly review',
    start: { dateTime: '2026-03-10T16:00:00.0000000', timeZone: 'W. Europe Standard Time' },
    end: { dateTime: '2026-03-10T17:00:00.0000000', timeZone: 'W. Europe Standard Time' },
    type: 'seriesMaster',
  }
  const record = { Subject: 'Quarterly review', StartDateTime: '2026-03-10T15:00:00.000Z', EndDateTime: '2026-03-10T16:00:00.000Z', IsAllDayEvent: false }
  const fromEvent = readCorrelateRequest({ system: 'outlook', itemId: 'o', changeType: 'updated', event }, defaults)
  const fromRecord = readCorrelateRequest({ system: 'salesforce', itemId: 's', changeType: 'updated', record }, defaults)
  t.equal(fromEvent.fingerprint, fromRecord.fingerprint)
  t.same(fromEvent.state, fromRecord.state, 'the state as an object: the canonical item, alike from either side')
  t.match(fromRecord.state, { subject: 'Quarterly review', start: '2026-03-10T15:00:00.000Z', isAllDay: false })
  t.equal(fingerprintFields(fromRecord.state as Record<string, unknown>), fromRecord.fingerprint, 'a baseline made of it hashes the same')
  t.same(readCorrelateRequest({ system: 'outlook', itemId: 'o', changeType: 'updated', fields }, defaults).state, fields, 'fields are kept as given')
  t.equal(readCorrelateRequest({ system: 'outlook', itemId: 'o', changeType: 'updated', fingerprint: 'f' }, defaults).state, undefined, 'a fingerprint has no object')
  t.equal(fromEvent.series.role, 'series_master', 'the series role is read from the event')
  t.equal(pathOf(() => readCorrelateRequest({ system: 'salesforce', itemId: 's', changeType: 'updated', event }, defaults)), 'event')
})

t.test('native Graph notification', async (t) => {
  const change = readCorrelateRequest({ notification: notification('deleted'), tenant: 'acme' }, defaults)
  t.match(change, { tenant: 'acme', system: 'outlook', itemId: 'AAMk1=', changeType: 'deleted' })
  t.equal(pathOf(() => readCorrelateRequest({ notification: { subscriptionId: 'NA', changeType: 'Validation: x' } }, defaults)), 'notification')
  t.equal(pathOf(() => readCorrelateRequest({ notification: { lifecycleEvent: 'missed', subscriptionId: 's' } }, defaults)), 'notification')
  // a collection sent as the notification: one element per call (no batch route for /correlate)
  t.throws(() => readCorrelateRequest({ notification: { value: [notification('updated')] } }, defaults), { path: 'notification', message: /one element of value per call$/ })
  t.equal(pathOf(() => readCorrelateRequest({ notification: notification(), itemId: 'x' }, defaults)), 'itemId')
})

t.test('native Salesforce change event', async (t) => {
  const change = readCorrelateRequest({ changeEvent: changeEvent() }, defaults)
  t.match(change, {
    system: 'salesforce',
    itemId: '00U5g00000Xy12ZEAQ',
    changeType: 'created',
    changedBy: '0055g00000INTEGAAQ',
    changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync',
  })
  t.equal(readCorrelateRequest({ changeEvent: changeEvent({ IsChild: true }) }, defaults).series.child, true)
  t.equal(readCorrelateRequest({ changeEvent: changeEvent(), changedBy: 'someone' }, defaults).changedBy, 'someone', 'explicit wins')
  t.equal(
    pathOf(() => readCorrelateRequest({ changeEvent: changeEvent({}, { recordIds: ['00U1', '00U2'] }) }, defaults)),
    'changeEvent.payload.ChangeEventHeader.recordIds',
    'the path goes through the CometD envelope',
  )
  t.equal(readCorrelateRequest({ changeEvent: changeEvent({}, { recordIds: ['00U1', '00U1'] }) }, defaults).itemId, '00U1', 'an id listed twice is one record')
  t.equal(
    pathOf(() => readCorrelateRequest({ changeEvent: changeEvent({}, { changeType: 'GAP_OVERFLOW' }) }, defaults)),
    'changeEvent.payload.ChangeEventHeader.changeType',
  )
  t.equal(pathOf(() => readCorrelateRequest({ changeEvent: changeEvent(), notification: notification() }, defaults)), 'changeEvent')
})

t.test('counterpartHint and target state', async (t) => {
  const base = { system: 'outlook' as const, itemId: 'o', changeType: 'updated' as const }
  t.equal(pathOf(() => readCorrelateRequest({ ...base, counterpartHint: { system: 'outlook', itemId: 'x' } }, defaults)), 'counterpartHint.system')
  t.same(readCorrelateRequest({ ...base, counterpartHint: { system: 'salesforce', itemId: 's' } }, defaults).counterpartHint, { system: 'salesforce', itemId: 's' })
  const createKey = `css-${'0123456789abcdef'.repeat(2)}`
  t.same(readCorrelateRequest({ ...base, counterpartHint: { createKey } }, defaults).counterpartHint, { createKey }, 'the createKey form')
  t.equal(pathOf(() => readCorrelateRequest({ ...base, counterpartHint: { createKey: 'css-12ab' } }, defaults)), 'counterpartHint.createKey')
  t.equal(pathOf(() => readCorrelateRequest({ ...base, counterpartHint: { createKey: createKey.toUpperCase() } }, defaults)), 'counterpartHint.createKey')
  t.equal(
    pathOf(() => readCorrelateRequest({ ...base, counterpartHint: { system: 'salesforce', itemId: 's', createKey } }, defaults)),
    'counterpartHint.createKey',
    'one form, not both',
  )
  t.equal(pathOf(() => readCorrelateRequest({ ...base, counterpartHint: {} }, defaults)), 'counterpartHint')
  t.equal(pathOf(() => readCorrelateRequest({ ...base, counterpartHint: { itemId: 's' } }, defaults)), 'counterpartHint.system')
  t.equal(pathOf(() => readCorrelateRequest({ ...base, counterpartHint: { system: 'salesforce' } }, defaults)), 'counterpartHint.itemId')
  t.same(readCorrelateRequest({ ...base, targetFields: fields }, defaults).target, { fields })
  t.ok(readCorrelateRequest({ ...base, targetRecord: { Subject: 'x' } }, defaults).target)
  t.equal(pathOf(() => readCorrelateRequest({ ...base, targetEvent: { subject: 'x' } }, defaults)), 'targetEvent')
  t.equal(pathOf(() => readCorrelateRequest({ ...base, targetFields: fields, targetRecord: {} }, defaults)), 'targetRecord')
  t.equal(pathOf(() => readCorrelateRequest({ ...base, targetFields: { start: 'not a time' } }, defaults)), 'targetFields.start')
})

t.test('targetMovedFromBaseline compares the fields both know, in comparison form', async (t) => {
  t.notOk(targetMovedFromBaseline(fields, { fields }))
  t.notOk(targetMovedFromBaseline(fields, { fields: { subject: '  Quarterly   review ' } }), 'whitespace and a partial read')
  t.notOk(targetMovedFromBaseline(fields, { fields: { start: '2026-03-10T16:00:00+01:00' } }), 'the same instant')
  t.ok(targetMovedFromBaseline(fields, { fields: { subject: 'Moved review' } }))
  t.ok(targetMovedFromBaseline({ ...fields, location: 'Room 4' }, { fields: { location: null } }), 'cleared on the target')
  t.notOk(targetMovedFromBaseline(fields, { fields: { location: 'Room 9' } }), 'a field the baseline never knew tells nothing')
  t.notOk(targetMovedFromBaseline(fields, { item: { subject: 'Quarterly review' } }))
  t.ok(targetMovedFromBaseline(fields, { item: { subject: 'Other' } }))
})

t.test('confirm request', async (t) => {
  const o = { system: 'outlook' as const, itemId: 'o' }
  const s = { system: 'salesforce' as const, itemId: 's' }
  const read = readConfirmRequest({ source: o, target: s, written: { fields }, baseline: fields })
  t.match(read, { tenant: 'default', deleted: false, writtenFingerprint: fingerprintFields(fields), baseline: fields })
  t.equal(pathOf(() => readConfirmRequest({ source: o, target: { ...o, itemId: 'p' } })), 'target.system')
  t.equal(pathOf(() => readConfirmRequest({ source: o, target: s, written: { fields, fingerprint: 'x' } })), 'written.fingerprint')
  t.equal(pathOf(() => readConfirmRequest({ source: o, target: s, written: { event: {} } })), 'written.event', 'the target is in Salesforce')
  t.equal(pathOf(() => readConfirmRequest({ source: o, target: s, written: {} })), 'written', 'an empty written would link and record no echo')
  t.equal(pathOf(() => readConfirmRequest({ source: o, target: s, baseline: { end: 'nope' } })), 'baseline.end')
})
