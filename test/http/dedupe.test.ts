// /dedupe family through app.inject on the memory store: every decision rule, native forms, batch, bad input.
import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { createStore } from '../../src/stores/index.js'
import { StoreUnavailableError } from '../../src/stores/store.js'
import { plainZodMessage } from '../../src/plugins/error-handler.js'
import { buildTestApp } from '../support/app.js'
import { batchReplayScenario } from './dedupe-batch-replay.js'
import { batchUndeleteScenario } from './dedupe-batch-undelete.js'

const notification = (etag: string, changeType = 'updated', id = 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=') => ({
  subscriptionId: '3f6d9a41-7b2e-4c8f-9d15-6a0e2b7c4d11',
  subscriptionExpirationDateTime: '2026-03-12T08:00:00.0000000+00:00',
  changeType,
  resource: `Users/5b1e/Events/${id}`,
  resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': `Users/5b1e/Events/${id}`, '@odata.etag': `W/"${etag}"`, id },
  clientState: 'c3-sync-7Qw2',
  tenantId: 'a1c4e8f2-3b5d-4f6a-8c9e-0d1f2a3b4c5d',
})

const changeEventPayload = (changeType: string, recordIds: string[], seq = 1, extra: Record<string, unknown> = {}) => ({
  ChangeEventHeader: {
    entityName: 'Event',
    recordIds,
    changeType,
    changeOrigin: 'com/salesforce/api/soap/62.0;client=SfdcInternalAPI/',
    transactionKey: '000b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d',
    sequenceNumber: seq,
    commitTimestamp: 1773047561000,
    commitUser: '0055g0000012345AAA',
    nulledFields: [],
    diffFields: [],
    changedFields: [],
  },
  ...extra,
})

t.test('process, commit, then duplicate; stale; unchanged; in_flight', async (t) => {
  const { app } = await buildTestApp(t)
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload })

  const first = await post('/dedupe', { system: 'outlook', itemId: 'A1', version: 'v1', modifiedAt: '2026-03-09T09:30:05Z', fields: { subject: 'Hi' } })
  t.equal(first.statusCode, 200)
  const body = first.json()
  t.equal(body.decision, 'process')
  t.same(body.key, { tenant: 'default', system: 'outlook', itemId: 'A1', version: 'v1' })
  t.type(body.claim.token, 'string')
  t.ok(Date.parse(body.claim.expiresAt) > Date.now())
  t.match(body.reason, /commit/)

  const busy = (await post('/dedupe', { system: 'outlook', itemId: 'A1', version: 'v2' })).json()
  t.equal(busy.decision, 'in_flight')
  t.ok(busy.retryAfterMs > 0 && busy.retryAfterMs <= 60_000)
  t.notOk(busy.claim)

  const commit = await post('/dedupe/commit', { system: 'outlook', itemId: 'A1', token: body.claim.token })
  t.same(commit.json(), { committed: true })
  t.same((await post('/dedupe/commit', { system: 'outlook', itemId: 'A1', token: body.claim.token })).json(), { committed: true }, 'repeat commit')

  const dup = (await post('/dedupe', { system: 'outlook', itemId: 'A1', version: 'v1' })).json()
  t.equal(dup.decision, 'duplicate')
  t.equal(dup.last.version, 'v1')
  t.equal(dup.last.modifiedAt, '2026-03-09T09:30:05.000Z')

  const stale = (await post('/dedupe', { system: 'outlook', itemId: 'A1', version: 'v0', modifiedAt: '2026-03-09T09:00:00Z' })).json()
  t.equal(stale.decision, 'stale')

  const same = (
    await post('/dedupe', { system: 'outlook', itemId: 'A1', version: 'v3', modifiedAt: '2026-03-09T11:00:00+01:00', fields: { subject: '  Hi ' } })
  ).json()
  t.equal(same.decision, 'unchanged', 'whitespace-only difference is unchanged')
  t.equal((await post('/dedupe', { system: 'outlook', itemId: 'A1', version: 'v3' })).json().decision, 'duplicate', 'unchanged version is recorded')

  const changed = (await post('/dedupe', { system: 'outlook', itemId: 'A1', version: 'v4', fields: { subject: 'Bye' } })).json()
  t.equal(changed.decision, 'process')
  t.same((await post('/dedupe/release', { system: 'outlook', itemId: 'A1', token: changed.claim.token })).json(), { released: true })
  t.same((await post('/dedupe/release', { system: 'outlook', itemId: 'A1', token: changed.claim.token })).json(), { released: false })
  t.equal((await post('/dedupe', { system: 'outlook', itemId: 'A1', version: 'v4', fields: { subject: 'Bye' } })).json().decision, 'process', 'released event is processable again')

  const record = await app.inject({ method: 'GET', url: '/dedupe/outlook/A1' })
  t.equal(record.statusCode, 200)
  const rec = record.json()
  t.equal(rec.last.version, 'v3', 'an unchanged version becomes the last known one')
  t.ok(rec.history.length >= 5 && rec.history.length <= 20)
  t.equal(rec.history[0].decision, 'process', 'newest first')
  t.type(rec.history[0].reason, 'string')

  t.same((await app.inject({ method: 'DELETE', url: '/dedupe/outlook/A1' })).json(), { deleted: true })
  t.equal((await app.inject({ method: 'GET', url: '/dedupe/outlook/A1' })).statusCode, 404)
  t.same((await app.inject({ method: 'DELETE', url: '/dedupe/outlook/A1' })).json(), { deleted: false })
  // clients that send a JSON content type on every request, body or not
  const jsonDelete = await app.inject({ method: 'DELETE', url: '/dedupe/outlook/A1', headers: { 'content-type': 'application/json' } })
  t.same([jsonDelete.statusCode, jsonDelete.json()], [200, { deleted: false }], 'an empty JSON body on DELETE is no body')
  const emptyPost = await app.inject({ method: 'POST', url: '/dedupe', headers: { 'content-type': 'application/json' } })
  t.equal(emptyPost.statusCode, 400, 'a POST still needs its body')
  const noBody = await app.inject({ method: 'POST', url: '/dedupe' })
  t.match(noBody.json(), { status: 400, errors: [{ path: '', message: 'is missing or null: send a JSON object with Content-Type: application/json' }] }, 'no body and no Content-Type')
  for (const payload of ['null', '[1]', '"text"', '7']) {
    const notObject = await app.inject({ method: 'POST', url: '/dedupe', headers: { 'content-type': 'application/json' }, payload })
    t.match(notObject.json(), { status: 400, errors: [{ path: '', message: payload === 'null' ? /is missing/ : 'must be a JSON object' }] }, `body ${payload}`)
  }
})

t.test('tenants do not collide', async (t) => {
  const { app } = await buildTestApp(t)
  const a = (await app.inject({ method: 'POST', url: '/dedupe', payload: { tenant: 'pair-a', system: 'outlook', itemId: 'X', version: '1' } })).json()
  const b = (await app.inject({ method: 'POST', url: '/dedupe', payload: { tenant: 'pair-b', system: 'outlook', itemId: 'X', version: '1' } })).json()
  t.equal(a.decision, 'process')
  t.equal(b.decision, 'process')
  t.equal(b.key.tenant, 'pair-b')
  t.equal((await app.inject({ method: 'GET', url: '/dedupe/outlook/X?tenant=pair-b' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/dedupe/outlook/X?tenant=pair-c' })).statusCode, 404)
})

t.test('deleted items: tombstone makes older and undated events stale', async (t) => {
  const { app } = await buildTestApp(t)
  const post = (payload: object) => app.inject({ method: 'POST', url: '/dedupe', payload }).then((r) => r.json())
  const del = await post({ system: 'salesforce', itemId: 'S1', version: 'd', changeType: 'deleted', modifiedAt: 2000 })
  await app.inject({ method: 'POST', url: '/dedupe/commit', payload: { system: 'salesforce', itemId: 'S1', token: del.claim.token } })
  t.equal((await post({ system: 'salesforce', itemId: 'S1', version: 'late', changeType: 'updated' })).decision, 'stale')
  t.equal((await post({ system: 'salesforce', itemId: 'S1', version: 'older', modifiedAt: 1000 })).decision, 'stale')
  t.equal((await post({ system: 'salesforce', itemId: 'S1', version: 'undelete', changeType: 'undeleted', modifiedAt: 3000 })).decision, 'process')
})

t.test('Graph notification native form', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/dedupe', payload: { notification: notification('DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAAx9k1c') } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.decision, 'process')
  t.same(body.key, { tenant: 'default', system: 'outlook', itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=', version: 'DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAAx9k1c' })
  const rec = (await app.inject({ method: 'GET', url: `/dedupe/outlook/${encodeURIComponent('AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=')}` })).json()
  t.equal(rec.meta.graphTenantId, 'a1c4e8f2-3b5d-4f6a-8c9e-0d1f2a3b4c5d', 'tenantId kept on the record, not used as tenant')

  const validation = await app.inject({
    method: 'POST',
    url: '/dedupe',
    payload: { notification: { subscriptionId: 'NA', changeType: 'Validation: Testing client application reachability for subscription Request-Id: 8e2b', resource: 'NA' } },
  })
  t.equal(validation.statusCode, 400)
  t.match(validation.json().detail, /validation message/)
  t.equal(validation.json().errors[0].path, 'notification')

  const lifecycle = await app.inject({
    method: 'POST',
    url: '/dedupe',
    payload: { notification: { subscriptionId: '3f6d', tenantId: 'a1c4', clientState: 'x', lifecycleEvent: 'missed' } },
  })
  t.equal(lifecycle.statusCode, 400)
  t.match(lifecycle.json().detail, /lifecycle/)

  // the collection Graph posts (and Event Hubs carries), sent as it came
  const collection = await app.inject({ method: 'POST', url: '/dedupe', payload: { value: [notification('k1')] } })
  t.equal(collection.statusCode, 400)
  t.same(collection.json().errors.map((e: { path: string }) => e.path), ['value'])
  t.match(collection.json().detail, /notification collection: send one notification as \{ "notification": \.\.\. \}, or several to \/dedupe\/batch/)
  const validationCollection = await app.inject({ method: 'POST', url: '/dedupe', payload: { value: [{ subscriptionId: 'NA', validationTokens: ['t'] }] } })
  t.match(validationCollection.json(), { status: 400, detail: /holding a validation message/ })
  const inBatch = (await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { events: [{ value: [notification('k1')] }, { notification: notification('k1', 'updated', 'another-item') }] } })).json()
  t.same(inBatch.results.map((r: { decision: string }) => r.decision), ['rejected', 'process'])
  t.same(inBatch.results[0].error.errors.map((e: { path: string }) => e.path), ['events.0.value'])
  const asBatch = await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { value: [notification('k1')] } })
  t.match(asBatch.json(), { status: 400, errors: [{ path: 'value', message: /send its notifications as the batch's events, \{ "events"/ }] }, 'posted as the batch body, told how to wrap it')
  const validationAsBatch = await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { value: [{ subscriptionId: 'NA', validationTokens: ['t'] }] } })
  t.match(validationAsBatch.json(), { status: 400, detail: /holding a validation message/ })
  const correlate = await app.inject({ method: 'POST', url: '/correlate', payload: { value: [notification('k1')] } })
  t.match(correlate.json(), { status: 400, errors: [{ path: 'value', message: /one call each/ }] })
})

t.test('Salesforce change event: CometD, wrapped and decoded forms; gaps; overflow; several recordIds', async (t) => {
  const { app } = await buildTestApp(t)
  const post = (payload: object) => app.inject({ method: 'POST', url: '/dedupe', payload })
  const decoded = changeEventPayload('UPDATE', ['00U5g00000Xy12ZEAQ'], 1, { LastModifiedDate: 1773048605000 })
  const r1 = (await post({ changeEvent: decoded, fields: { subject: 'Q' } })).json()
  t.equal(r1.decision, 'process')
  t.same(r1.key, { tenant: 'default', system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ', version: '000b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d:1' })
  await app.inject({ method: 'POST', url: '/dedupe/commit', payload: { system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ', token: r1.claim.token } })

  const cometd = { schema: 'pR3k', payload: decoded, event: { replayId: 48213377 } }
  t.equal((await post({ changeEvent: cometd })).json().decision, 'duplicate', 'CometD envelope of the same change')
  const wrapped = { data: { schema: 'pR3k', payload: decoded, event: { replayId: 48213377 } }, channel: '/data/EventChangeEvent' }
  t.equal((await post({ changeEvent: wrapped })).json().decision, 'duplicate', 'wrapped form of the same change')

  const gap = changeEventPayload('GAP_UPDATE', ['00U5g00000Xy12ZEAQ'], 2)
  gap.ChangeEventHeader.commitTimestamp = 1773100800000
  const g = (await post({ changeEvent: gap, fields: { subject: 'Q' } })).json()
  t.equal(g.decision, 'process', 'a gap event is never unchanged')
  t.match(g.reason, /re-read/)
  const gapRecord = (await app.inject({ method: 'GET', url: '/dedupe/salesforce/00U5g00000Xy12ZEAQ' })).json()
  t.same(gapRecord.meta, { entityName: 'Event', gap: 'GAP_UPDATE' }, 'the record is flagged as a gap')
  await app.inject({ method: 'POST', url: '/dedupe/commit', payload: { system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ', token: g.claim.token } })
  const after = changeEventPayload('UPDATE', ['00U5g00000Xy12ZEAQ'], 4)
  after.ChangeEventHeader.commitTimestamp = 1773100900000
  t.equal((await post({ changeEvent: after, fields: { subject: 'R' } })).json().decision, 'process')
  const recordAfter = (await app.inject({ method: 'GET', url: '/dedupe/salesforce/00U5g00000Xy12ZEAQ' })).json()
  t.same(recordAfter.meta, { entityName: 'Event' }, 'the next change that is no gap clears the flag')

  const overflow = changeEventPayload('GAP_OVERFLOW', ['000000000000000AAA'], 3)
  const o = (await post({ changeEvent: overflow })).json()
  t.equal(o.decision, 'process')
  t.equal(o.key.itemId, 'overflow:Event')
  t.match(o.reason, /resync/)
  const overflowRecord = (await app.inject({ method: 'GET', url: '/dedupe/salesforce/overflow%3AEvent' })).json()
  t.equal(overflowRecord.meta.gap, 'GAP_OVERFLOW')

  const several = await post({ changeEvent: changeEventPayload('UPDATE', ['00U1', '00U2']) })
  t.equal(several.statusCode, 400)
  t.match(several.json().detail, /\/dedupe\/batch/)
})

t.test('batch: collapse, fan-out, rejected events, per-event tenant', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/dedupe/batch',
    payload: {
      tenant: 't1',
      events: [
        { system: 'outlook', itemId: 'B', version: '1', modifiedAt: 3000 },
        { system: 'outlook', itemId: 'B', version: '2', modifiedAt: 1000 },
        { system: 'outlook', itemId: 'C', version: '1' },
        { system: 'outlook', itemId: 'C', version: '2' },
        { system: 'outlook', itemId: '' },
        { notification: { subscriptionId: 'NA', changeType: 'Validation: probe' } },
        { changeEvent: changeEventPayload('UPDATE', ['00U1', '00U2']) },
        { tenant: 't2', system: 'outlook', itemId: 'B', version: '9' },
      ],
    },
  })
  t.equal(res.statusCode, 200)
  const { results } = res.json()
  t.equal(results.length, 8)
  t.equal(results[0].decision, 'process', 'later modifiedAt wins although earlier in the batch')
  t.equal(results[1].decision, 'superseded')
  t.equal(results[2].decision, 'superseded', 'without modifiedAt the later position wins')
  t.equal(results[3].decision, 'process')
  t.equal(results[4].decision, 'rejected')
  t.equal(results[4].error.status, 400)
  t.equal(results[4].error.errors[0].path, 'events.4.itemId')
  t.equal(results[5].decision, 'rejected')
  t.ok(Array.isArray(results[6]) && results[6].length === 2, 'several recordIds fan out')
  t.same(results[6].map((r: { key: { itemId: string } }) => r.key.itemId), ['00U1', '00U2'])
  t.equal(results[7].decision, 'process')
  t.equal(results[7].key.tenant, 't2')

  const tooMany = await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { events: Array.from({ length: 501 }, (_, i) => ({ system: 'outlook', itemId: String(i), version: '1' })) } })
  t.equal(tooMany.statusCode, 400)
  t.equal(tooMany.json().errors[0].path, 'events')
})

t.test('batch: a gap event superseded by a newer change hands that change its re-read', async (t) => {
  const { app } = await buildTestApp(t)
  const gapThenUpdate = [
    { changeEvent: changeEventPayload('GAP_UPDATE', ['00UGAP1'], 1) },
    { changeEvent: changeEventPayload('UPDATE', ['00UGAP1'], 2, { LastModifiedDate: '2026-03-09T09:30:05Z', Subject: 'x' }), fields: { subject: 'x' } },
  ]
  const first = (await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { events: gapThenUpdate } })).json()
  t.same(first.results.map((result: { decision: string }) => result.decision), ['superseded', 'process'])
  t.match(first.results[1].reason, /re-read the record/, 'the update carries the gap event\'s re-read')
  await app.inject({ method: 'POST', url: '/dedupe/commit', payload: { system: 'salesforce', itemId: '00UGAP1', token: first.results[1].claim.token } })
  const record = (await app.inject({ method: 'GET', url: '/dedupe/salesforce/00UGAP1' })).json()
  t.equal(record.last.fingerprint, undefined, 'its fields are not what the re-read wrote, so no fingerprint is kept')
  const again = (await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { events: gapThenUpdate } })).json()
  t.same(again.results.map((result: { decision: string }) => result.decision), ['duplicate', 'duplicate'], 'the gap event, covered by that commit, is looked at past the duplicate: a duplicate too')
  const gapAlone = (await app.inject({ method: 'POST', url: '/dedupe', payload: gapThenUpdate[0] })).json()
  t.equal(gapAlone.decision, 'duplicate', 'the commit covered the gap event, older than the update though it is')

  const deleteOverGap = (await app.inject({
    method: 'POST',
    url: '/dedupe/batch',
    payload: { events: [{ changeEvent: changeEventPayload('GAP_UPDATE', ['00UGAP2'], 1) }, { changeEvent: changeEventPayload('DELETE', ['00UGAP2'], 2) }] },
  })).json()
  t.notMatch(deleteOverGap.results[1].reason, /re-read/, 'a delete does not re-read a record that is gone')

  // a late gap event redelivered below its item's committed update: decided, as it would be alone, not skipped
  const committed = (await app.inject({ method: 'POST', url: '/dedupe', payload: { changeEvent: changeEventPayload('UPDATE', ['00UGAP3'], 2, { LastModifiedDate: '2026-03-09T09:30:05Z' }) } })).json()
  await app.inject({ method: 'POST', url: '/dedupe/commit', payload: { system: 'salesforce', itemId: '00UGAP3', token: committed.claim.token } })
  const lateGap = (await app.inject({
    method: 'POST',
    url: '/dedupe/batch',
    payload: { events: [{ changeEvent: changeEventPayload('GAP_UPDATE', ['00UGAP3'], 1) }, { changeEvent: changeEventPayload('UPDATE', ['00UGAP3'], 2, { LastModifiedDate: '2026-03-09T09:30:05Z' }) }] },
  })).json()
  t.same(lateGap.results.map((result: { decision: string }) => result.decision), ['process', 'duplicate'])
  t.match(lateGap.results[0].reason, /re-read the record/)
})

t.test('batch: while another claim holds the item, the events its decided event superseded are in_flight too', async (t) => {
  const { app } = await buildTestApp(t)
  const holder = (await app.inject({ method: 'POST', url: '/dedupe', payload: { changeEvent: changeEventPayload('UPDATE', ['00UHELD'], 1, { LastModifiedDate: '2026-03-09T09:30:00Z' }) } })).json()
  t.equal(holder.decision, 'process')
  const gapThenUpdate = [
    { changeEvent: changeEventPayload('GAP_UPDATE', ['00UHELD'], 2) },
    { changeEvent: changeEventPayload('UPDATE', ['00UHELD'], 3, { LastModifiedDate: '2026-03-09T09:30:05Z', Subject: 'x' }) },
    { system: 'outlook', itemId: 'free', version: 'v1' },
  ]
  const held = (await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { events: gapThenUpdate } })).json()
  t.same(held.results.map((result: { decision: string }) => result.decision), ['in_flight', 'in_flight', 'process'])
  t.equal(held.results[0].retryAfterMs, held.results[1].retryAfterMs, 'both wait as long as the claim that holds the item')
  t.ok(held.results[0].retryAfterMs > 0)
  t.match(held.results[0].reason, /send this one again/)
  t.same(held.results[0].key, { tenant: 'default', system: 'salesforce', itemId: '00UHELD', version: held.results[0].key.version })

  // the holder's write fails; the in_flight events are sent again, one by one: the gap event keeps its re-read
  await app.inject({ method: 'POST', url: '/dedupe/release', payload: { system: 'salesforce', itemId: '00UHELD', token: holder.claim.token } })
  const gapAgain = (await app.inject({ method: 'POST', url: '/dedupe', payload: gapThenUpdate[0] })).json()
  t.equal(gapAgain.decision, 'process')
  t.match(gapAgain.reason, /re-read the record/)
  const history = (await app.inject({ method: 'GET', url: '/dedupe/salesforce/00UHELD' })).json().history.map((entry: { decision: string }) => entry.decision)
  t.notOk(history.includes('superseded'), 'nothing was recorded superseded by an answer that handled nothing')
})

t.test('batch: an undelete is not superseded by a newer change of its item; that change waits for it', async (t) => {
  const { app } = await buildTestApp(t)
  await batchUndeleteScenario(t, app)
})

t.test('batch: a newest event stale by its modifiedAt does not hide a gap event below it', async (t) => {
  const { app } = await buildTestApp(t)
  const post = async (url: string, payload: object) => (await app.inject({ method: 'POST', url, payload })).json()
  const decisions = (answer: { results: Array<{ decision: string }> }) => answer.results.map((result) => result.decision)
  const updated = await post('/dedupe', { changeEvent: changeEventPayload('UPDATE', ['00ULATE'], 5, { LastModifiedDate: '2026-03-09T12:00:00Z' }) })
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00ULATE', token: updated.claim.token })
  // a late delete (the record was restored and edited since) above a gap event: alone, the gap event is a re-read
  const lateDelete = [
    { changeEvent: changeEventPayload('GAP_UPDATE', ['00ULATE'], 1, { LastModifiedDate: '2026-03-09T10:00:00Z' }) },
    { changeEvent: changeEventPayload('DELETE', ['00ULATE'], 2, { LastModifiedDate: '2026-03-09T11:00:00Z' }) },
  ]
  const first = await post('/dedupe/batch', { events: lateDelete })
  t.same(decisions(first), ['process', 'stale'])
  t.match(first.results[0].reason, /re-read the record/)
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00ULATE', token: first.results[0].claim.token })
  t.same(decisions(await post('/dedupe/batch', { events: lateDelete })), ['duplicate', 'stale'], 'delivered again, nothing is written twice')

  // only gap events are looked at: a dated event below is older still, an undated one is left superseded as before
  const dated = await post('/dedupe', { system: 'outlook', itemId: 'mixed', version: 'd2', modifiedAt: 5_000 })
  await post('/dedupe/commit', { system: 'outlook', itemId: 'mixed', token: dated.claim.token })
  const mixed = [{ system: 'outlook', itemId: 'mixed', version: 'u1' }, { system: 'outlook', itemId: 'mixed', version: 'd0', modifiedAt: 3_000 }, { system: 'outlook', itemId: 'mixed', version: 'd1', modifiedAt: 4_000 }]
  t.same(decisions(await post('/dedupe/batch', { events: mixed })), ['superseded', 'superseded', 'stale'])

  // an undated stale newest event (the item is deleted) is not looked past: the delete below the restore stays superseded
  const explicit = (version: string, changeType: string, modifiedAt?: number) => ({ system: 'salesforce', itemId: '00UGONE', version, changeType, modifiedAt })
  const gone = await post('/dedupe', explicit('d1', 'deleted', 1_000))
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00UGONE', token: gone.claim.token })
  const restoreThenDelete = [explicit('u1', 'undeleted', 2_000), explicit('d2', 'deleted')]
  t.same(decisions(await post('/dedupe/batch', { events: restoreThenDelete })), ['superseded', 'stale'])
  t.same(decisions(await post('/dedupe/batch', { events: restoreThenDelete })), ['superseded', 'stale'], 'the same the second time')
})

t.test('a Graph delete whose etag names a state already committed is not its duplicate', async (t) => {
  const { app } = await buildTestApp(t)
  const post = async (url: string, payload: object) => (await app.inject({ method: 'POST', url, payload })).json()
  const updated = await post('/dedupe', { notification: notification('ck9', 'updated', 'AAMkDEL') })
  await post('/dedupe/commit', { system: 'outlook', itemId: 'AAMkDEL', token: updated.claim.token })
  const deleted = await post('/dedupe', { notification: notification('ck9', 'deleted', 'AAMkDEL') })
  t.equal(deleted.decision, 'process', 'the delete is written')
  t.equal(deleted.key.version, 'ck9', 'the answer reports the changeKey, as the contract defines a notification\'s version')
  await post('/dedupe/commit', { system: 'outlook', itemId: 'AAMkDEL', token: deleted.claim.token })
  const again = await post('/dedupe', { notification: notification('ck9', 'deleted', 'AAMkDEL') })
  t.equal(again.decision, 'duplicate', 'its replay is a duplicate')
  t.equal(again.key.version, 'ck9')
  const batch = await post('/dedupe/batch', { events: [{ notification: notification('ck9', 'updated', 'AAMkDEL') }, { notification: notification('ck9', 'deleted', 'AAMkDEL') }] })
  t.same(
    batch.results.map((r: { decision: string; key: { version: string } }) => [r.decision, r.key.version]),
    [['duplicate', 'ck9'], ['duplicate', 'ck9']],
    'a batch reports it the same way (the newest a duplicate, the one below is decided too)',
  )
  const record = (await app.inject({ method: 'GET', url: '/dedupe/outlook/AAMkDEL' })).json()
  t.equal(record.last.version, 'deleted:ck9', 'the record shows the version as kept, apart from the update\'s')
})

t.test('batch: a replay placed after a newer change of its item does not hide that change', async (t) => {
  const { app } = await buildTestApp(t)
  await batchReplayScenario(t, app)
})

/**
 * An app on the memory store whose claimMany fails from its second call on while `failing` is set: the first call
 * decides each item's newest event, the second would look past R1's resend (k1, committed here) to its newer change.
 */
async function appFailingBetweenRounds(t: Test, env: Record<string, string> = {}) {
  const store = await createStore(loadConfig({ LOG_LEVEL: 'silent' }))
  t.teardown(() => store.close())
  const claimMany = store.dedupe.claimMany.bind(store.dedupe)
  const state = { calls: 0, failing: true, releases: 0 }
  store.dedupe.claimMany = async (inputs) => {
    state.calls++
    if (state.failing && state.calls >= 2) throw new StoreUnavailableError('injected: the store went away between two rounds')
    return claimMany(inputs)
  }
  const release = store.dedupe.release.bind(store.dedupe)
  store.dedupe.release = async (input) => {
    state.releases++
    return release(input)
  }
  const { app } = await buildTestApp(t, env, { store })
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload })
  const claim = (await post('/dedupe', { system: 'outlook', itemId: 'R1', version: 'k1' })).json()
  await post('/dedupe/commit', { system: 'outlook', itemId: 'R1', token: claim.claim.token })
  state.calls = 0
  const batch = {
    events: [
      { system: 'outlook', itemId: 'R1', version: 'k2' },
      { system: 'outlook', itemId: 'R1', version: 'k1' },
      { system: 'outlook', itemId: 'N1', version: 'v1' },
      { system: 'outlook', itemId: 'N2', version: 'v1' },
    ],
  }
  const claimsOf = async (itemIds: string[]) =>
    Promise.all(itemIds.map(async (itemId) => (await app.inject({ method: 'GET', url: `/dedupe/outlook/${itemId}` })).json()))
  return { app, store, state, post, batch, claimsOf }
}

t.test('batch: when a later round of store calls fails, the claims earlier rounds granted are given back', async (t) => {
  const { state, post, batch, claimsOf } = await appFailingBetweenRounds(t)
  const failed = await post('/dedupe/batch', batch)
  t.equal(failed.statusCode, 503, 'the batch fails as a whole')
  t.equal(state.calls, 2, 'in its second round')
  const records = await claimsOf(['N1', 'N2'])
  t.same(records.map((record) => record.claim), [undefined, undefined], 'the first round granted N1 and N2; both went back')
  t.same(
    records.map((record) => record.history.map((entry: { decision: string }) => entry.decision)),
    [['released', 'process'], ['released', 'process']],
  )

  state.failing = false
  const retried = (await post('/dedupe/batch', batch)).json()
  t.same(
    retried.results.map((result: { decision: string }) => result.decision),
    ['process', 'duplicate', 'process', 'process'],
    'the retried batch is processed at once, not answered in_flight until the leases lapse',
  )
})

t.test('batch: a failed round whose releases fail too still answers the 503; the claims lapse at their lease', async (t) => {
  const { store, state, post, batch, claimsOf } = await appFailingBetweenRounds(t)
  store.dedupe.release = async () => {
    state.releases++
    throw new StoreUnavailableError('injected: releases fail too')
  }
  const failed = await post('/dedupe/batch', batch)
  t.equal(failed.statusCode, 503)
  t.equal(failed.json().code, 'store_unavailable', 'the round failure, not the release failure, is answered')
  t.equal(state.releases, 2, 'both grants were tried')
  t.same((await claimsOf(['N1', 'N2'])).map((record) => record.claim?.version), ['v1', 'v1'], 'the claims are still held')
})

t.test('batch: under fail-open a failed round is answered fail-open and the granted claims stay with the caller', async (t) => {
  const { state, post, batch, claimsOf } = await appFailingBetweenRounds(t, { STORE_OUTAGE_POLICY: 'fail-open' })
  const res = await post('/dedupe/batch', batch)
  t.equal(res.statusCode, 200)
  t.match(res.headers['x-sidecar-degraded'], /fail-open/)
  const results = res.json().results
  t.same(results.map((result: { decision: string }) => result.decision), ['process', 'duplicate', 'process', 'process'])
  t.match(results[0].claim.token, /^fail-open:/, 'the change behind the resend is answered without the store')
  t.notMatch(results[2].claim.token, /^fail-open:/, 'N1 keeps the claim the store granted')
  t.equal(state.releases, 0, 'nothing is released')
  t.same((await claimsOf(['N1', 'N2'])).map((record) => record.claim?.version), ['v1', 'v1'])
})

t.test('bad input: 400 naming the field, 413, 415, problem+json on request', async (t) => {
  const { app } = await buildTestApp(t, { BODY_LIMIT_BYTES: '2048' })
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/dedupe', payload: payload as object, headers })

  const cases: Array<[unknown, string]> = [
    [{ itemId: 'x', version: '1' }, 'system'],
    [{ system: 'outlook', version: '1' }, 'itemId'],
    [{ system: 'outlook', itemId: 'x' }, 'version'],
    [{ system: 'Outlook!', itemId: 'x', version: '1' }, 'system'],
    [{ system: 'outlook', itemId: 'x', version: '1', leaseMs: 10 }, 'leaseMs'],
    [{ system: 'outlook', itemId: 'x', version: '1', leaseMs: 4_000_000 }, 'leaseMs'],
    [{ system: 'outlook', itemId: 'x', version: '1', modifiedAt: 'yesterday' }, 'modifiedAt'],
    [{ system: 'outlook', itemId: 'x', version: '1', modifiedAt: '2026-02-30T10:00:00Z' }, 'modifiedAt'],
    [{ system: 'outlook', itemId: 'x', version: '1', changeType: 'moved' }, 'changeType'],
    [{ system: 'outlook', itemId: 'x', version: '1', fields: {}, fingerprint: 'abc' }, 'fingerprint'],
    [{ system: 'outlook', itemId: 'x', version: 1 }, 'version'],
    [{ notification: notification('e'), system: 'outlook' }, 'system'],
    [{ notification: { changeType: 'updated', resourceData: { id: 'x' } } }, 'notification.resourceData.@odata.etag'],
    [{ changeEvent: { foo: 1 } }, 'changeEvent'],
  ]
  for (const [payload, path] of cases) {
    const res = await post(payload)
    t.equal(res.statusCode, 400, `400 for ${JSON.stringify(payload).slice(0, 80)}`)
    const problem = res.json()
    t.ok(problem.errors.some((e: { path: string }) => e.path === path), `names ${path}: ${JSON.stringify(problem.errors)}`)
    t.equal(problem.status, 400)
    t.equal(problem.code, 'invalid_input')
    t.match(res.headers['content-type'], /application\/json/)
  }

  const array = await post([1, 2])
  t.equal(array.statusCode, 400)

  const big = await post({ system: 'outlook', itemId: 'x', version: '1', fields: { description: 'x'.repeat(4000) } })
  t.equal(big.statusCode, 413)
  t.equal(big.json().status, 413)
  t.match(big.json().detail, '(2048 bytes)', 'the detail names the limit')

  const text = await app.inject({ method: 'POST', url: '/dedupe', payload: 'hello', headers: { 'content-type': 'text/plain' } })
  t.equal(text.statusCode, 415)

  // JSON is read as UTF-8: Latin-1 bytes would reach the rules with their accents replaced, so it is refused
  const latin1 = Buffer.from('{"system":"outlook","itemId":"Caf\u00e9-1","version":"1"}', 'latin1')
  const refused = await app.inject({ method: 'POST', url: '/dedupe', payload: latin1, headers: { 'content-type': 'application/json; charset=ISO-8859-1' } })
  t.equal(refused.statusCode, 415)
  t.match(refused.json(), { code: 'unsupported_media_type', detail: /charset iso-8859-1.*UTF-8/ })
  const deleteWithCharset = await app.inject({ method: 'DELETE', url: '/dedupe/outlook/no-body', headers: { 'content-type': 'application/json; charset=ISO-8859-1' } })
  t.equal(deleteWithCharset.statusCode, 200, 'a request without a body is not refused for the charset it names')
  for (const contentType of ['application/json; charset=UTF-8', 'application/json;charset=utf8', 'application/json; charset="utf-8"', 'application/json', 'application/json; charset=us-ascii', 'application/json; charset=']) {
    const utf8 = await app.inject({ method: 'POST', url: '/dedupe', payload: Buffer.from(`{"system":"outlook","itemId":"Caf\u00e9-${contentType.length}","version":"1"}`, 'utf8'), headers: { 'content-type': contentType } })
    t.equal(utf8.statusCode, 200, contentType)
    t.match(utf8.json().key.itemId, /^Café-/, `${contentType}: the id as sent`)
  }

  const broken = await app.inject({ method: 'POST', url: '/dedupe', payload: '{"system":', headers: { 'content-type': 'application/json' } })
  t.equal(broken.statusCode, 400)

  const pj = await post({ system: 'outlook' }, { accept: 'application/problem+json' })
  t.match(pj.headers['content-type'], /application\/problem\+json/)

  const badQuery = await app.inject({ method: 'GET', url: '/dedupe/outlook/x?tenant=' })
  t.equal(badQuery.statusCode, 400)
  t.same(badQuery.json().errors.map((e: { path: string }) => e.path), ['tenant'], 'one entry per field, however many rules it breaks')

  const emptyTenant = (await post({ tenant: '', system: 'outlook', itemId: 'x', version: '1' })).json()
  t.same(emptyTenant.errors.map((e: { path: string }) => e.path), ['tenant'], 'an empty tenant breaks two rules and is named once')
  t.match(emptyTenant.errors[0].message, /must not be empty/)
  const two = (await post({ system: 'outlook', itemId: 'x', version: 1, leaseMs: 1 })).json()
  t.same(two.errors.map((e: { path: string }) => e.path).sort(), ['leaseMs', 'version'], 'two bad fields are two entries')
  const paths = async (payload: unknown, url = '/dedupe') => {
    const res = await app.inject({ method: 'POST', url, payload: payload as object })
    t.equal(res.statusCode, 400)
    return res.json().errors.map((e: { path: string }) => e.path).sort()
  }
  t.same(await paths({}), ['itemId', 'system', 'version'], 'every missing field of the explicit form at once')
  t.same(await paths({ system: 'outlook', leaseMs: 1 }), ['itemId', 'leaseMs', 'version'], 'missing fields beside an invalid one')
  t.same(await paths({ system: 'BAD', itemId: 'x', version: 'v', modifiedAt: 'yesterday' }), ['modifiedAt', 'system'], 'an unreadable instant beside an invalid field')
  for (const url of ['/dedupe/commit', '/dedupe/release']) {
    for (const [token, message] of [[5, 'must be a string'], ['t'.repeat(300), 'must be at most 256 characters'], [undefined, 'is required']] as const) {
      const res = await app.inject({ method: 'POST', url, payload: { system: 'outlook', itemId: 'x', token } })
      t.same(res.json().errors, [{ path: 'token', message }], `${url} token ${String(token).slice(0, 10)}`)
    }
  }
  const notArray = await post({ changeEvent: { ChangeEventHeader: { entityName: 'Event', changeType: 'UPDATE', recordIds: 'x', commitTimestamp: 1, transactionKey: 'k', sequenceNumber: 1 } } })
  t.match(notArray.json().errors, [{ path: 'changeEvent.ChangeEventHeader.recordIds', message: 'must be an array of record ids' }])
})

t.test('a method a path does not accept is a 405 naming the ones it does; a path no route serves is a 404', async (t) => {
  const { app } = await buildTestApp(t)
  const cases: Array<[string, string, string[]]> = [
    ['GET', '/dedupe', ['POST']],
    ['PUT', '/dedupe', ['POST']],
    ['GET', '/dedupe/commit', ['POST']],
    ['POST', '/dedupe/outlook/A%2FB', ['GET', 'HEAD', 'DELETE']],
    ['PUT', '/correlate/outlook/A1', ['GET', 'HEAD', 'DELETE']],
    ['POST', '/healthz', ['GET', 'HEAD']],
  ]
  for (const [method, url, allowed] of cases) {
    const res = await app.inject({ method: method as 'GET', url, payload: method === 'GET' ? undefined : {} })
    t.equal(res.statusCode, 405, `${method} ${url}`)
    t.same(res.headers.allow?.toString().split(', ').sort(), [...allowed].sort(), `${method} ${url}: Allow`)
    t.equal(res.json().code, 'method_not_allowed')
    t.match(res.json().detail, `does not accept ${method}`)
    t.ok(res.json().correlationId)
  }
  // URLs the router cannot read are 400s naming the url, without quoting it back
  const longParam = await app.inject({ method: 'GET', url: `/dedupe/outlook/${'x'.repeat(5_000)}` })
  t.equal(longParam.statusCode, 400)
  t.same(longParam.json().errors, [{ path: 'url', message: 'holds a path parameter longer than 4096 characters' }])
  t.ok(longParam.json().detail.length < 200, 'the detail does not quote the URL')
  const badEncoding = await app.inject({ method: 'DELETE', url: '/dedupe/outlook/%E0%A4%A' })
  t.equal(badEncoding.statusCode, 400)
  t.same(badEncoding.json().errors, [{ path: 'url', message: 'is not a valid URL' }])
  t.match(badEncoding.json().detail, /percent-encoding/)
  const docsFile = await app.inject({ method: 'GET', url: '/docs/static/no-such-file.js' })
  t.equal(docsFile.statusCode, 404, 'a route of the method itself that finds nothing is a 404, not a 405')
  const longPut = await app.inject({ method: 'PUT', url: `/dedupe/outlook/${'x'.repeat(3_000)}`, payload: {} })
  t.equal(longPut.statusCode, 405)
  t.ok(longPut.json().detail.length < 300, 'the detail shows the start of a long path only')
  for (const url of ['/nothing', '/dedupe/outlook', '/dedupe/outlook/A1/extra']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, `GET ${url}`)
    t.equal(res.json().code, 'not_found')
    t.notOk(res.headers.allow)
  }
})

t.test("schema refusals say what is wrong in plain words, every field at once, the wrong type alone", async (t) => {
  const { app } = await buildTestApp(t)
  const errorsOf = async (url: string, payload: unknown) => (await app.inject({ method: 'POST', url, payload: payload as object })).json().errors
  t.same(await errorsOf('/resolve-conflict', {}), [
    { path: 'outlook', message: 'is required' },
    { path: 'salesforce', message: 'is required' },
  ])
  t.same(await errorsOf('/correlate/confirm', { source: 5, target: { system: 'outlook', itemId: '' } }), [
    { path: 'source', message: 'must be an object' },
    { path: 'target.itemId', message: 'must not be empty' },
  ])
  t.same(await errorsOf('/correlate', { system: 'outlook', itemId: 'x', changeType: 'updated', counterpartHint: { itemId: [] } }), [{ path: 'counterpartHint.itemId', message: 'must be a string' }])
  const batch = (await app.inject({ method: 'POST', url: '/dedupe/batch', payload: { events: [5, { system: 'outlook', itemId: [], version: '', leaseMs: -1 }, { system: 5, itemId: 'a' }] } })).json()
  t.same(batch.results[0].error.errors, [{ path: 'events.0', message: 'must be an object: one event in any /dedupe form' }])
  t.same(batch.results[1].error.errors, [
    { path: 'events.1.itemId', message: 'must be a string' },
    { path: 'events.1.version', message: 'must not be empty' },
    { path: 'events.1.leaseMs', message: 'must be at least 1000' },
  ], 'a batch event names every invalid field, as /dedupe does')
  t.same(batch.results[2].error.errors, [
    { path: 'events.2.system', message: 'must be a string' },
    { path: 'events.2.version', message: 'is required (or send the native form: notification or changeEvent)' },
  ], 'the explicit form\'s missing fields too')
  t.equal(plainZodMessage('Too big: expected string to have <=128 characters'), 'must be at most 128 characters')
  t.equal(plainZodMessage('Too small: expected array to have >=1 items'), 'must hold at least one entry')
  t.equal(plainZodMessage('Invalid option: expected one of "a"|"b"'), 'must be one of "a", "b"')
  t.equal(plainZodMessage('must be a Graph event'), 'must be a Graph event', 'our own messages are left alone')
})

t.test('GET and DELETE take tenant as their only query parameter: a misspelt one is a 400, not the default tenant', async (t) => {
  const { app } = await buildTestApp(t)
  const claim = await app.inject({ method: 'POST', url: '/dedupe', payload: { system: 'outlook', itemId: 'Q1', version: 'v1' } })
  t.equal(claim.json().decision, 'process')
  for (const url of ['/dedupe/outlook/Q1?tennant=acme', '/correlate/outlook/Q1?tenant=acme&x=1']) {
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await app.inject({ method, url })
      t.equal(res.statusCode, 400, `${method} ${url}`)
      const unknown = url.endsWith('x=1') ? 'x' : 'tennant'
      t.same(res.json().errors, [{ path: unknown, message: 'is not a query parameter of this route' }])
    }
  }
  t.equal((await app.inject({ method: 'GET', url: '/dedupe/outlook/Q1' })).statusCode, 200, 'the default tenant\'s record was not deleted')
  t.equal((await app.inject({ method: 'DELETE', url: '/dedupe/outlook/Q1?tenant=acme' })).json().deleted, false)
})

t.test('confirm and resolve-conflict refuse a field they do not know: a misspelt one is a 400, not a default', async (t) => {
  const { app } = await buildTestApp(t)
  const claim = (await app.inject({ method: 'POST', url: '/dedupe', payload: { system: 'outlook', itemId: 'U1', version: 'v1' } })).json()
  const token = claim.claim.token
  const cases: Array<[string, object, string[]]> = [
    ['/correlate/confirm', { source: { system: 'outlook', itemId: 'U1' }, target: { system: 'salesforce', itemId: 'S1', id: 'S1' }, delted: true }, ['delted', 'target.id']],
    ['/correlate/confirm', { source: { system: 'outlook', itemId: 'U1' }, target: { system: 'salesforce', itemId: 'S1' }, written: { fields: {}, fingerprnt: 'x' } }, ['written.fingerprnt']],
    ['/resolve-conflict', { polcy: 'outlook-wins', outlook: { fields: { subject: 'a' } }, salesforce: { fields: { subject: 'b' }, modifedAt: 1 } }, ['polcy', 'salesforce.modifedAt']],
  ]
  for (const [url, payload, paths] of cases) {
    const res = await app.inject({ method: 'POST', url, payload })
    t.equal(res.statusCode, 400, url)
    t.same(res.json().errors.map((error: { path: string }) => error.path).sort(), paths, `${url} names ${paths.join(', ')}`)
    t.ok(res.json().errors.every((error: { message: string }) => error.message === 'is not a field here'))
  }
  // a body of thousands of unknown keys names the first 20 and counts the rest: the answer stays small
  const many = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, 0]))
  const flood = await app.inject({ method: 'POST', url: '/correlate/confirm', payload: { source: { system: 'outlook', itemId: 'U1' }, target: { system: 'salesforce', itemId: 'S1' }, ...many } })
  t.equal(flood.statusCode, 400)
  const floodErrors = flood.json().errors as Array<{ path: string; message: string }>
  t.equal(floodErrors.length, 21)
  t.same(floodErrors[0], { path: 'k0', message: 'is not a field here' })
  t.same(floodErrors[20], { path: 'body', message: 'holds 4980 more keys it does not know' })
  t.ok(flood.body.length < 5_000, `a small answer (${flood.body.length} bytes)`)
  const nested = await app.inject({ method: 'POST', url: '/correlate/confirm', payload: { source: { system: 'outlook', itemId: 'U1', ...many }, target: { system: 'salesforce', itemId: 'S1' } } })
  t.same(nested.json().errors.at(-1), { path: 'source', message: 'holds 4980 more keys it does not know' })
  // nothing acted: the pair is not tombstoned
  t.equal((await app.inject({ method: 'GET', url: '/correlate/outlook/U1' })).statusCode, 404)
  // commit and release ignore what they do not know: a misspelt optional field only records less
  const committed = await app.inject({ method: 'POST', url: '/dedupe/commit', payload: { system: 'outlook', itemId: 'U1', token, changeType: 'updated', fingerprnt: 'fp' } })
  t.same([committed.statusCode, committed.json()], [200, { committed: true }])
  // the native payloads inside stay as lenient as the systems that send them
  const resolved = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: { outlook: { event: { subject: 'a', '@odata.etag': 'W/"x"', someNewGraphProperty: 1 } }, salesforce: { record: { Subject: 'b', attributes: { type: 'Event' } } } },
  })
  t.equal(resolved.statusCode, 200, 'unknown keys of a Graph event or a Salesforce record are ignored')
})

t.test('correlation ids: echoed when valid, replaced when not, present on errors', async (t) => {
  const { app } = await buildTestApp(t)
  const sent = await app.inject({ method: 'POST', url: '/dedupe', headers: { 'x-correlation-id': 'mule-123' }, payload: { system: 'outlook', itemId: 'c', version: '1' } })
  t.equal(sent.headers['x-correlation-id'], 'mule-123')
  const invalid = await app.inject({ method: 'POST', url: '/dedupe', headers: { 'x-correlation-id': 'x'.repeat(200) }, payload: {} })
  t.not(invalid.headers['x-correlation-id'], 'x'.repeat(200))
  t.match(invalid.headers['x-correlation-id'], /^[0-9a-f-]{36}$/)
  t.equal(invalid.json().correlationId, invalid.headers['x-correlation-id'])
  const generated = await app.inject({ method: 'GET', url: '/healthz' })
  t.ok(generated.headers['x-correlation-id'])
})

t.test('bearer tokens: required when configured, not for health, metrics and docs', async (t) => {
  const { app } = await buildTestApp(t, { API_TOKENS: 'alpha,beta' })
  const payload = { system: 'outlook', itemId: 'a', version: '1' }
  const missing = await app.inject({ method: 'POST', url: '/dedupe', payload })
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="calendar-sync-sidecar"', 'a 401 names the scheme')
  t.equal((await app.inject({ method: 'POST', url: '/dedupe', payload, headers: { authorization: 'Bearer gamma' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/dedupe', payload, headers: { authorization: 'Bearer beta' } })).statusCode, 200)
  for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
    const res = await app.inject({ method: 'GET', url })
    t.ok(res.statusCode < 400, `${url} is open (${res.statusCode})`)
  }
})

t.test('metrics count decisions and latency', async (t) => {
  const { app } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/dedupe', payload: { system: 'outlook', itemId: 'm', version: '1' } })
  await app.inject({ method: 'POST', url: '/dedupe', payload: { system: 'outlook', itemId: 'm', version: '1' } })
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(text, /sidecar_decisions_total\{endpoint="dedupe",decision="process"\} 1/)
  t.match(text, /sidecar_decisions_total\{endpoint="dedupe",decision="in_flight"\} 1/)
  t.match(text, /sidecar_http_request_duration_seconds_bucket\{[^}]*route="\/dedupe"/)
  t.match(text, /sidecar_store_errors_total/)
})

t.test('50 identical concurrent claims give exactly one process', async (t) => {
  const { app } = await buildTestApp(t)
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => app.inject({ method: 'POST', url: '/dedupe', payload: { system: 'outlook', itemId: 'race', version: '1' } })),
  )
  const decisions = answers.map((r) => r.json().decision)
  t.equal(decisions.filter((d) => d === 'process').length, 1)
  t.equal(decisions.filter((d) => d === 'in_flight').length, 49)
})

t.test('overload: a blocked event loop sheds business calls with 429 and Retry-After; health stays open', async (t) => {
  const { app, store } = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY_MS: '50' })
  // over a real socket: a body that arrives after the headers is what an answer sent too early would let through
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const claim = (itemId: string) =>
    fetch(`${url}/dedupe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ system: 'outlook', itemId, version: '1' }) })
  // hold the event loop again and again, as an overloaded process would, until the sampler notices
  let res = await fetch(`${url}/healthz`)
  let itemId = ''
  const deadline = Date.now() + 10_000
  for (let i = 0; Date.now() < deadline; i++) {
    const stall = Date.now() + 200
    while (Date.now() < stall) {
      // busy
    }
    await new Promise((r) => setTimeout(r, 1))
    itemId = `o-${i}`
    res = await claim(itemId)
    if (res.status !== 200) break
  }
  t.equal(res.status, 429)
  t.equal(res.headers.get('retry-after'), '1')
  t.equal(((await res.json()) as { code: string }).code, 'overloaded')
  t.equal((await fetch(`${url}/healthz`)).status, 200)
  // shed means not run: the refused claim took nothing, so its retry once the load is gone is processed
  t.equal(await store.dedupe.get({ tenant: 'default', system: 'outlook', itemId }, Date.now()), null, 'the shed request claimed nothing')
  let retry = res
  for (let attempt = 0; attempt < 40 && retry.status !== 200; attempt++) {
    await new Promise((r) => setTimeout(r, 250))
    retry = await claim(itemId)
  }
  t.equal(retry.status, 200)
  t.equal(((await retry.json()) as { decision: string }).decision, 'process', 'the retry is processed, not in_flight behind a claim nobody holds')
})

t.test('a batch that fans out to thousands of claims lets other requests in between, on the memory store', async (t) => {
  // without the overload check, so that nothing but the order is seen
  const { app, store } = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY_MS: '0' })
  // the order in which the store is asked (the real store; only the calls are noted)
  const seen: string[] = []
  const claimOne = store.dedupe.claim.bind(store.dedupe)
  const claimMany = store.dedupe.claimMany.bind(store.dedupe)
  store.dedupe.claim = (input) => {
    seen.push('single')
    return claimOne(input)
  }
  store.dedupe.claimMany = async (inputs) => {
    seen.push(`batch of ${inputs.length}`)
    try {
      return await claimMany(inputs)
    } finally {
      seen.push('batch done')
    }
  }
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const post = (path: string, body: unknown) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  // 80 change events of 100 records each: 8,000 claims, in 8 turns
  const recordIds = (event: number) => Array.from({ length: 100 }, (_, i) => `00U${String(event * 1_000 + i).padStart(13, '0')}AQ`)
  const events = Array.from({ length: 80 }, (_, event) => ({ changeEvent: changeEventPayload('UPDATE', recordIds(event), event + 1) }))
  // single claims one after another, from before the batch is sent until its answer is in
  let batchAnswered = false
  const singles = (async () => {
    const decisions: string[] = []
    for (let i = 0; !batchAnswered; i++) {
      const res = await post('/dedupe', { system: 'outlook', itemId: `single-${i}`, version: '1' })
      decisions.push(((await res.json()) as { decision: string }).decision)
    }
    return decisions
  })()
  const batch = await post('/dedupe/batch', { events }).finally(() => {
    batchAnswered = true
    singles.catch(() => undefined) // awaited below; a failed batch must not leave it unhandled
  })
  const decisions = await singles
  t.equal(batch.status, 200)
  const results = ((await batch.json()) as { results: Array<Array<{ decision: string }>> }).results
  t.equal(results.flat().filter((result) => result.decision === 'process').length, 8_000, 'every record claimed')
  t.ok(decisions.length > 0 && decisions.every((decision) => decision === 'process'), 'every single claim processed')
  const start = seen.indexOf('batch of 8000')
  const done = seen.indexOf('batch done')
  t.ok(start >= 0 && done > start, 'the batch claimed its records in one store call')
  t.ok(seen.slice(start, done).includes('single'), `a single claim was decided while the batch's were (${seen.slice(start, done + 1).join(', ')})`)
})

t.test('overload: single pauses shorter than MAX_EVENT_LOOP_DELAY_MS are not overload', async (t) => {
  // A major GC or the memory store's Map growing past a million entries holds the loop for 100-300 ms once.
  const { app } = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY_MS: '1000' })
  const statuses: number[] = []
  for (let pause = 0; pause < 8; pause++) {
    const until = Date.now() + 400
    while (Date.now() < until) {
      // busy, as a long synchronous step is
    }
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 30))
      const res = await app.inject({ method: 'POST', url: '/dedupe', payload: { system: 'outlook', itemId: `pause-${pause}-${i}`, version: '1' } })
      statuses.push(res.statusCode)
    }
  }
  t.same([...new Set(statuses)], [200], 'every call answered 200')
})

t.test('a change event whose commitUser or changeOrigin is not a string: a 400 naming it, alone in a batch', async (t) => {
  const { app } = await buildTestApp(t)
  const badUser = changeEventPayload('UPDATE', ['00U5g00000BadUsEAA'])
  ;(badUser.ChangeEventHeader as Record<string, unknown>).commitUser = 5
  const badOrigin = changeEventPayload('UPDATE', ['00U5g00000BadOrEAA'])
  ;(badOrigin.ChangeEventHeader as Record<string, unknown>).changeOrigin = { string: 'rest' }
  for (const url of ['/dedupe', '/correlate']) {
    const res = await app.inject({ method: 'POST', url, payload: { changeEvent: badUser } })
    t.equal(res.statusCode, 400, url)
    t.same(res.json().errors.map((e: { path: string }) => e.path), ['changeEvent.ChangeEventHeader.commitUser'], `${url} names commitUser`)
  }
  const batch = await app.inject({
    method: 'POST',
    url: '/dedupe/batch',
    payload: { events: [{ changeEvent: badUser }, { changeEvent: changeEventPayload('UPDATE', ['00U5g00000GoodxEAA']) }, { changeEvent: badOrigin }] },
  })
  t.equal(batch.statusCode, 200)
  const results = batch.json().results as Array<{ decision: string; error?: { errors: Array<{ path: string }> } }>
  t.same(results.map((r) => r.decision), ['rejected', 'process', 'rejected'], 'the good event is decided, each bad one rejected alone')
  t.equal(results[0].error?.errors[0].path, 'events.0.changeEvent.ChangeEventHeader.commitUser')
  t.equal(results[2].error?.errors[0].path, 'events.2.changeEvent.ChangeEventHeader.changeOrigin')
  // the refused events claimed nothing: sent again correctly, they are processed
  const fixed = changeEventPayload('UPDATE', ['00U5g00000BadUsEAA'])
  t.equal((await app.inject({ method: 'POST', url: '/dedupe', payload: { changeEvent: fixed } })).json().decision, 'process')
})
