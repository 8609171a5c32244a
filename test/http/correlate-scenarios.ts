// /correlate through app.inject: every rule, the loop test and the race test; run on the memory and the Redis store.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'

export const CORRELATE_ENV = {
  SALESFORCE_INTEGRATION_USER_IDS: '0055g00000INTEGAAQ',
  SALESFORCE_CLIENT_ID: 'c3-sync',
}

type Build = (t: Test) => Promise<FastifyInstance>
type Json = Record<string, any>

const uniq = (prefix: string) => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 12)}`
const outlookId = () => uniq('AAMkAGQ1ZT=')
const salesforceId = () => `00U5g0000${uniq('').slice(0, 9)}`

const fieldsA = { subject: 'Quarterly review', start: '2026-03-10T15:00:00Z', end: '2026-03-10T16:00:00Z', location: 'Room 4.12' }
const fieldsB = { ...fieldsA, subject: 'Quarterly review (moved)', start: '2026-03-10T16:00:00Z', end: '2026-03-10T17:00:00Z' }

const notification = (id: string, changeType = 'updated') => ({
  subscriptionId: '3f6d9a41-7b2e-4c8f-9d15-6a0e2b7c4d11',
  changeType,
  resource: `Users/5b1e/Events/${id}`,
  resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': `Users/5b1e/Events/${id}`, '@odata.etag': 'W/"DwAAABYAAAC7"', id },
  clientState: 'c3-sync-7Qw2',
  tenantId: 'a1c4e8f2-3b5d-4f6a-8c9e-0d1f2a3b4c5d',
})

const changeEvent = (id: string, changeType: string, header: Json = {}, body: Json = {}) => ({
  schema: 'pR3kVb0qT1x9yLmNo2CdEf',
  payload: {
    ChangeEventHeader: {
      entityName: 'Event',
      recordIds: [id],
      changeType,
      changeOrigin: 'com/salesforce/api/soap/62.0;client=SfdcInternalAPI/',
      transactionKey: randomUUID(),
      sequenceNumber: 1,
      commitTimestamp: 1773047561000,
      commitUser: '0055g0000012345AAA',
      ...header,
    },
    ...body,
  },
  event: { replayId: 48213377 },
})

export function runCorrelateHttp(t: Test, build: Build): void {
  const client = async (t: Test) => {
    const app = await build(t)
    const post = async (url: string, payload: object) => {
      const res = await app.inject({ method: 'POST', url, payload })
      return { status: res.statusCode, body: res.json() as Json }
    }
    return {
      app,
      correlate: async (payload: object) => {
        const res = await post('/correlate', payload)
        if (res.status !== 200) throw new Error(`/correlate answered ${res.status}: ${JSON.stringify(res.body)}`)
        return res.body
      },
      confirm: async (payload: object) => {
        const res = await post('/correlate/confirm', payload)
        if (res.status !== 200) throw new Error(`/correlate/confirm answered ${res.status}: ${JSON.stringify(res.body)}`)
        return res.body
      },
      post,
      get: async (system: string, itemId: string, tenant?: string) => {
        const url = `/correlate/${system}/${encodeURIComponent(itemId)}${tenant ? `?tenant=${tenant}` : ''}`
        const res = await app.inject({ method: 'GET', url })
        return { status: res.statusCode, body: res.json() as Json }
      },
      del: async (system: string, itemId: string) =>
        (await app.inject({ method: 'DELETE', url: `/correlate/${system}/${encodeURIComponent(itemId)}` })).json() as Json,
    }
  }

  t.test('a write refused into another pair\'s item is recorded nowhere: that pair hears of it through /dedupe and /correlate', async (t) => {
    const api = await client(t)
    const fields = { subject: 'Theirs', start: '2026-03-10T10:00:00Z', end: '2026-03-10T11:00:00Z' }
    const written = { ...fields, subject: 'Overwritten' }
    // X1 <-> T1 and I1 <-> U1 are linked; a confirm of I1 -> T1 (a flow gone wrong) is refused
    const [x1, t1, i1, u1] = [`x1-${randomUUID()}`, `t1-${randomUUID()}`, `i1-${randomUUID()}`, `u1-${randomUUID()}`]
    await api.confirm({ source: { system: 'outlook', itemId: x1 }, target: { system: 'salesforce', itemId: t1 }, baseline: fields })
    await api.confirm({ source: { system: 'outlook', itemId: i1 }, target: { system: 'salesforce', itemId: u1 }, baseline: fields })
    const refused = await api.confirm({ source: { system: 'outlook', itemId: i1 }, target: { system: 'salesforce', itemId: t1 }, written: { fields: written } })
    t.equal(refused.reason, 'conflicting_link')
    t.notOk('targetLinkedElsewhere' in refused, 'an internal flag, not part of the answer')
    t.match(refused.detail, /do not delete it/, 'not the usual advice to delete the extra copy')
    const dedupe = await api.post('/dedupe', { system: 'salesforce', itemId: t1, version: 'v-overwritten', fields: written })
    t.equal(dedupe.body.decision, 'process', "T1's change is not unchanged against the refused write")
    const heard = await api.correlate({ system: 'salesforce', itemId: t1, changeType: 'updated', fields: written })
    t.same([heard.action, heard.target.itemId], ['update', x1], 'and X1 is told to take it')
  })

  t.test('loop test: outlook -> salesforce -> outlook stops after one hop', async (t) => {
    const api = await client(t)
    // Two fake calendars and the Mule flow between them: every write produces a change event on the written side.
    const calendars: Record<string, Map<string, Json>> = { outlook: new Map(), salesforce: new Map() }
    const queue: Array<{ system: string; itemId: string; changeType: string; fields: Json }> = []
    let writes = 0
    const runFlow = async () => {
      for (let step = 0; step < 20 && queue.length > 0; step++) {
        const change = queue.shift() as (typeof queue)[number]
        const answer = await api.correlate(change)
        if (answer.action === 'skip') continue
        const target = answer.target.system as string
        const targetId = answer.action === 'create' ? (target === 'outlook' ? outlookId() : salesforceId()) : answer.target.itemId
        calendars[target].set(targetId, { ...change.fields })
        writes++
        await api.confirm({
          source: { system: change.system, itemId: change.itemId },
          target: { system: target, itemId: targetId },
          written: { fields: change.fields },
          baseline: change.fields,
          reservationToken: answer.reservation?.token,
        })
        // The target system notifies its own change (Graph sends several notifications for one write).
        const echoType = answer.action === 'create' ? 'created' : 'updated'
        queue.push({ system: target, itemId: targetId, changeType: echoType, fields: { ...change.fields } })
        queue.push({ system: target, itemId: targetId, changeType: 'updated', fields: { ...change.fields } })
      }
    }

    const o1 = outlookId()
    calendars.outlook.set(o1, fieldsA)
    queue.push({ system: 'outlook', itemId: o1, changeType: 'created', fields: fieldsA })
    await runFlow()
    t.equal(writes, 1, 'one create in Salesforce, its echoes stop there')
    t.equal(queue.length, 0, 'nothing left bouncing')
    t.equal(calendars.salesforce.size, 1)

    const [s1] = [...calendars.salesforce.keys()]
    calendars.salesforce.set(s1, fieldsB)
    queue.push({ system: 'salesforce', itemId: s1, changeType: 'updated', fields: fieldsB })
    await runFlow()
    t.equal(writes, 2, 'a person\'s edit in Salesforce makes one update in Outlook and stops')
    t.same(calendars.outlook.get(o1), fieldsB)
    t.equal(queue.length, 0)
  })

  t.test('loop test, createKey only: a copy that reports just the key it was created with stops the loop, even before the confirm', async (t) => {
    const api = await client(t)
    // Each calendar keeps what a flow can read back: the fields, and the createKey the item was created with (Graph
    // transactionId, Salesforce Calendar_Sync_Key__c); no source stamp is readable.
    const calendars: Record<string, Map<string, { fields: Json; createKey?: string }>> = { outlook: new Map(), salesforce: new Map() }
    let writes = 0
    const changeOf = (system: string, itemId: string, changeType: string) => {
      const item = calendars[system].get(itemId) as { fields: Json; createKey?: string }
      return { system, itemId, changeType, fields: item.fields, ...(item.createKey ? { counterpartHint: { createKey: item.createKey } } : {}) }
    }
    const sync = async (change: ReturnType<typeof changeOf>, depth = 0): Promise<void> => {
      t.ok(depth < 4, 'the loop stops')
      if (depth >= 4) return
      const answer = await api.correlate(change)
      if (answer.action === 'skip') return
      const target = answer.target.system as string
      const creating = answer.action === 'create'
      const targetId = creating ? (target === 'outlook' ? outlookId() : salesforceId()) : answer.target.itemId
      calendars[target].set(targetId, { fields: { ...change.fields }, createKey: creating ? answer.reservation.createKey : calendars[target].get(targetId)?.createKey })
      writes++
      // The new copy reports its create before our confirm lands: the race the createKey hint exists for.
      if (creating) await sync(changeOf(target, targetId, 'created'), depth + 1)
      await api.confirm({
        source: { system: change.system, itemId: change.itemId },
        target: { system: target, itemId: targetId },
        written: { fields: change.fields },
        baseline: change.fields,
        reservationToken: answer.reservation?.token,
      })
      // Later notifications of the same write.
      await sync(changeOf(target, targetId, 'updated'), depth + 1)
    }

    for (const [system, itemId] of [['outlook', outlookId()], ['salesforce', salesforceId()]]) {
      const before = writes
      calendars[system].set(itemId, { fields: fieldsA })
      await sync(changeOf(system, itemId, 'created'))
      t.equal(writes - before, 1, `a ${system} create makes one copy; its echoes stop there`)
      const [copyId] = [...calendars[system === 'outlook' ? 'salesforce' : 'outlook'].keys()].slice(-1)
      const link = await api.get(system, itemId)
      t.equal(link.body[system === 'outlook' ? 'salesforce' : 'outlook']?.itemId, copyId, 'the pair is linked')

      calendars[system].set(itemId, { ...(calendars[system].get(itemId) as { fields: Json }), fields: fieldsB })
      await sync(changeOf(system, itemId, 'updated'))
      t.equal(writes - before, 2, 'a person\'s edit makes one update and stops')
    }
  })

  t.test('counterpartHint by createKey: unknown keys count as no hint', async (t) => {
    const api = await client(t)
    const unknown = await api.correlate({
      system: 'salesforce',
      itemId: salesforceId(),
      changeType: 'created',
      counterpartHint: { createKey: `css-${'0'.repeat(32)}` },
    })
    t.match(unknown, { action: 'create', reason: 'new_item', target: { system: 'outlook', itemId: null } })
    const o = outlookId()
    const created = await api.correlate({ system: 'outlook', itemId: o, changeType: 'created', fields: fieldsA })
    const sameSide = await api.correlate({ system: 'outlook', itemId: outlookId(), changeType: 'created', counterpartHint: { createKey: created.reservation.createKey } })
    t.equal(sameSide.action, 'create', 'the key of an Outlook source names no counterpart of an Outlook item')
    const otherTenant = await api.correlate({ tenant: 'acme', system: 'salesforce', itemId: salesforceId(), changeType: 'created', counterpartHint: { createKey: created.reservation.createKey } })
    t.equal(otherTenant.action, 'create', 'another tenant\'s key is unknown')
    const tombstoned = salesforceId()
    await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: tombstoned }, reservationToken: created.reservation.token })
    await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: tombstoned }, deleted: true })
    const late = await api.correlate({ system: 'salesforce', itemId: salesforceId(), changeType: 'created', counterpartHint: { createKey: created.reservation.createKey } })
    t.match(late, { action: 'skip', reason: 'tombstoned', target: { system: 'outlook', itemId: o }, link: { state: 'tombstoned' } })
  })

  t.test('an UNDELETE after the Outlook copy was deleted is created with a createKey of its own, which then links', async (t) => {
    const api = await client(t)
    const s = salesforceId()
    const first = await api.correlate({ changeEvent: changeEvent(s, 'CREATE') })
    t.match(first.reservation, { createKey: /^css-[0-9a-f]{32}$/ })
    const o = outlookId()
    await api.confirm({ source: { system: 'salesforce', itemId: s }, target: { system: 'outlook', itemId: o }, reservationToken: first.reservation.token })
    // a person deletes the Outlook copy; the flow deletes the Event; someone restores the Event from the recycle bin
    t.match(await api.correlate({ notification: notification(o, 'deleted') }), { action: 'delete', target: { system: 'salesforce', itemId: s } })
    await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, deleted: true })
    const restored = await api.correlate({ changeEvent: changeEvent(s, 'UNDELETE') })
    t.match(restored, { action: 'create', reason: 'new_item' })
    t.match(restored.reservation.createKey, new RegExp(`^${first.reservation.createKey}-[1-9][0-9]{12}$`), 'not the transactionId of the deleted copy')
    // the new copy, read back with only its transactionId, names the restored Event
    const o2 = outlookId()
    const back = await api.correlate({ system: 'outlook', itemId: o2, changeType: 'created', counterpartHint: { createKey: restored.reservation.createKey } })
    t.match(back, { action: 'skip', reason: 'echo', target: { system: 'salesforce', itemId: s } })
    t.equal((await api.get('salesforce', s)).body.outlook?.itemId, o2, 'the restored Event is linked to the new copy')
    const bad = await api.post('/correlate', { system: 'outlook', itemId: outlookId(), changeType: 'created', counterpartHint: { createKey: `${first.reservation.createKey}-0` } })
    t.match(bad, { status: 400, body: { errors: [{ path: 'counterpartHint.createKey' }] } })
  })

  t.test('race test: 20 concurrent created for one new item give exactly one create', async (t) => {
    const api = await client(t)
    const itemId = outlookId()
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api.correlate({ system: 'outlook', itemId, changeType: 'created', fields: fieldsA })),
    )
    const creates = answers.filter((a) => a.action === 'create')
    t.equal(creates.length, 1)
    t.equal(answers.filter((a) => a.action === 'skip' && a.reason === 'create_in_flight').length, 19)
    t.ok(answers.filter((a) => a.reason === 'create_in_flight').every((a) => a.retryAfterMs > 0 && a.retryAfterMs <= 60_000))
    const [create] = creates
    t.match(create.reservation, { token: String, expiresAt: String, createKey: /^css-[0-9a-f]{32}$/ })
    t.same(create.target, { system: 'salesforce', itemId: null })
  })

  t.test('a /correlate resent with its claimToken gets its reservation again; 20 other claims at once give one create', async (t) => {
    const api = await client(t)
    const itemId = outlookId()
    const body = { system: 'outlook', itemId, changeType: 'created', fields: fieldsA }
    const first = await api.correlate({ ...body, claimToken: '1.claim-of-this-change' })
    t.equal(first.action, 'create')
    const resent = await api.correlate({ ...body, claimToken: '1.claim-of-this-change' })
    t.same([resent.action, resent.reason, resent.reservation], ['create', 'new_item', first.reservation], 'its answer was lost: the same reservation')
    const others = await Promise.all(Array.from({ length: 20 }, (_, i) => api.correlate({ ...body, claimToken: `${i + 2}.another-claim` })))
    t.same([...new Set(others.map((a) => `${a.action}/${a.reason}`))], ['skip/create_in_flight'], 'other claims wait')
  })

  t.test('create reservations: stable createKey; after expiry the next delivery creates again', async (t) => {
    const api = await client(t)
    const itemId = salesforceId()
    const first = await api.correlate({ system: 'salesforce', itemId, changeType: 'created', leaseMs: 1_000 })
    t.equal(first.action, 'create')
    t.equal(first.reason, 'new_item')
    const deadline = Date.now() + 10_000
    let again: Json
    do {
      await new Promise((resolve) => setTimeout(resolve, 100))
      again = await api.correlate({ system: 'salesforce', itemId, changeType: 'updated', leaseMs: 1_000 })
    } while (again.action !== 'create' && Date.now() < deadline)
    t.equal(again.action, 'create', 'nothing is lost: the lapsed create is handed out again')
    t.not(again.reservation.token, first.reservation.token)
    t.equal(again.reservation.createKey, first.reservation.createKey, 'the same createKey, so the retried create cannot make a second copy')
    const late = await api.confirm({ source: { system: 'salesforce', itemId }, target: { system: 'outlook', itemId: outlookId() }, reservationToken: first.reservation.token })
    t.equal(late.linked, true, 'a confirm with the lapsed token still links')
  })

  t.test('echoes: ledger fingerprint, integration user, client id; a real edit is no echo', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    const created = await api.correlate({ system: 'outlook', itemId: o, changeType: 'created', fields: fieldsA })
    await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, written: { fields: fieldsA }, baseline: fieldsA, reservationToken: created.reservation.token })

    for (let i = 0; i < 3; i++) {
      const echo = await api.correlate({ system: 'salesforce', itemId: s, changeType: 'updated', fields: { ...fieldsA, start: '2026-03-10T16:00:00+01:00' } })
      t.match(echo, { action: 'skip', reason: 'echo', target: { system: 'outlook', itemId: o } }, `repeat ${i + 1} is still an echo`)
    }
    const record = { Subject: 'Quarterly review', StartDateTime: '2026-03-10T15:00:00.000Z', EndDateTime: '2026-03-10T16:00:00.000Z', Location: 'Room 4.12', IsAllDayEvent: false }
    t.equal((await api.correlate({ system: 'salesforce', itemId: s, changeType: 'updated', record })).reason, 'echo', 'the native record fingerprints the same')

    const byUser = await api.correlate({ changeEvent: changeEvent(s, 'UPDATE', { commitUser: '0055g00000INTEG' }) })
    t.match(byUser, { action: 'skip', reason: 'echo' }, 'integration user (15-character form)')
    const byClient = await api.correlate({ changeEvent: changeEvent(s, 'UPDATE', { changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync' }) })
    t.match(byClient, { action: 'skip', reason: 'echo' }, 'our client id')
    const explicit = await api.correlate({ system: 'salesforce', itemId: s, changeType: 'updated', changedBy: '0055g00000INTEGAAQ' })
    t.equal(explicit.reason, 'echo')

    const edit = await api.correlate({ system: 'salesforce', itemId: s, changeType: 'updated', fields: fieldsB })
    t.match(edit, { action: 'update', reason: 'linked', target: { system: 'outlook', itemId: o }, baseline: fieldsA }, 'a real edit inside the window')
    const person = await api.correlate({ changeEvent: changeEvent(s, 'UPDATE', {}, { Subject: 'x' }) })
    t.equal(person.action, 'update', 'a person in Lightning is no echo')
  })

  t.test('with fields the state decides: our CDC echo read after a person changed the Event is an update', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    const created = await api.correlate({ system: 'outlook', itemId: o, changeType: 'created', fields: fieldsA })
    await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, written: { fields: fieldsA }, baseline: fieldsA, reservationToken: created.reservation.token })
    const ours = { commitUser: '0055g00000INTEGAAQ', changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync' }

    const echo = await api.correlate({ changeEvent: changeEvent(s, 'UPDATE', ours), fields: fieldsA, targetFields: fieldsA })
    t.match(echo, { action: 'skip', reason: 'echo' }, 'the record holds what we wrote')
    const bare = await api.correlate({ changeEvent: changeEvent(s, 'UPDATE', ours) })
    t.match(bare, { action: 'skip', reason: 'echo' }, 'without fields the integration user decides alone')
    const moved = await api.correlate({ changeEvent: changeEvent(s, 'UPDATE', ours), fields: fieldsB, targetFields: fieldsA })
    t.match(moved, { action: 'update', reason: 'linked', target: { system: 'outlook', itemId: o }, baseline: fieldsA }, 'a person changed it after our write')
    const both = await api.correlate({ changeEvent: changeEvent(s, 'UPDATE', ours), fields: fieldsB, targetFields: { ...fieldsA, location: 'Room 9' } })
    t.match(both, { action: 'resolve', reason: 'both_changed' }, 'the targetFields rule still applies')
    const byUser = await api.correlate({ system: 'salesforce', itemId: s, changeType: 'updated', changedBy: '0055g00000INTEGAAQ', fields: fieldsB })
    t.equal(byUser.action, 'update', 'the explicit form alike')
  })

  t.test('only the latest write into an item is its echo; the write it replaced is read again, then an edit', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    const pair = { source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s } }
    await api.confirm({ ...pair, written: { fields: fieldsA }, baseline: fieldsA })
    await api.confirm({ ...pair, written: { fields: fieldsB }, baseline: fieldsB })
    const replacedAt = Date.now()
    t.match(await api.correlate({ system: 'salesforce', itemId: s, changeType: 'updated', fields: fieldsB }), { action: 'skip', reason: 'echo' })
    // a read of our first write made before the second landed: writing it back to Outlook would undo the second
    const stale = await api.correlate({ system: 'salesforce', itemId: s, changeType: 'updated', fields: fieldsA })
    t.match(stale, { action: 'skip', reason: 'earlier_write', target: { system: 'outlook', itemId: o } })
    t.ok(stale.retryAfterMs > 0 && stale.retryAfterMs <= 60_000, `read again within the default lease (${stale.retryAfterMs} ms)`)
    t.match(stale.detail, /read/, 'the detail says to read it again')
    // a person set it back: once the request's lease (1 s here) has passed since our second write, it is an edit
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, replacedAt + 1_100 - Date.now())))
    const back = await api.correlate({ system: 'salesforce', itemId: s, changeType: 'updated', fields: fieldsA, leaseMs: 1_000 })
    t.match(back, { action: 'update', reason: 'linked', target: { system: 'outlook', itemId: o } }, 'a person set it back to what we wrote before')
  })

  t.test('counterpartHint with fields: only the state our create wrote is an echo', async (t) => {
    const api = await client(t)
    const edited = { ...fieldsA, location: 'Room 1.01' }

    // Linked already: the first notification of our create's burst, read after a person edited the new event.
    const s = salesforceId()
    const o = outlookId()
    const created = await api.correlate({ changeEvent: changeEvent(s, 'CREATE'), fields: fieldsA })
    await api.confirm({ source: { system: 'salesforce', itemId: s }, target: { system: 'outlook', itemId: o }, written: { fields: fieldsA }, baseline: fieldsA, reservationToken: created.reservation.token })
    const hint = { system: 'salesforce', itemId: s }
    t.match(await api.correlate({ system: 'outlook', itemId: o, changeType: 'created', fields: fieldsA, counterpartHint: hint }), { action: 'skip', reason: 'echo' })
    const later = await api.correlate({ system: 'outlook', itemId: o, changeType: 'created', fields: edited, counterpartHint: hint, targetFields: fieldsA })
    t.match(later, { action: 'update', reason: 'linked', target: { system: 'salesforce', itemId: s } })

    // Not linked: the create's worker crashed before its confirm, and a person edited the copy.
    const s2 = salesforceId()
    const o2 = outlookId()
    const second = await api.correlate({ changeEvent: changeEvent(s2, 'CREATE'), fields: fieldsA })
    t.equal(second.action, 'create')
    const copy = await api.correlate({ system: 'outlook', itemId: o2, changeType: 'created', fields: edited, counterpartHint: { createKey: second.reservation.createKey }, targetFields: fieldsA })
    t.match(copy, { action: 'update', reason: 'linked', target: { system: 'salesforce', itemId: s2 }, baseline: fieldsA }, 'the edit goes to the source')
    t.same((await api.get('salesforce', s2)).body.baseline, fieldsA, 'linked with what the create wrote as the baseline')
    // the same race, but the flow read no counterpart (the copy was unlinked when it looked) and sent no targetFields:
    // the source may have changed since the create, so the sidecar asks for a merge instead of an overwrite
    const s4 = salesforceId()
    const fourth = await api.correlate({ changeEvent: changeEvent(s4, 'CREATE'), fields: fieldsA })
    const unread = await api.correlate({ system: 'outlook', itemId: outlookId(), changeType: 'created', fields: edited, counterpartHint: { createKey: fourth.reservation.createKey } })
    t.match(unread, { action: 'resolve', reason: 'both_changed', target: { system: 'salesforce', itemId: s4 }, baseline: fieldsA }, 'without targetFields: resolve')
    const redelivered = await api.correlate({ changeEvent: changeEvent(s2, 'CREATE'), fields: fieldsA, targetFields: edited })
    t.match(redelivered, { action: 'skip', reason: 'echo' }, 'the redelivered source brings nothing new: the copy\'s edit is not overwritten')
    const sourceMoved = await api.correlate({ changeEvent: changeEvent(s2, 'UPDATE'), fields: fieldsB, targetFields: edited })
    t.match(sourceMoved, { action: 'resolve', reason: 'both_changed' }, 'both changed since the create: merge, not overwrite')

    // Not linked, the copy as we created it: echo, and later edits of the copy are updates.
    const s3 = salesforceId()
    const o3 = outlookId()
    const third = await api.correlate({ changeEvent: changeEvent(s3, 'CREATE'), fields: fieldsA })
    const back = await api.correlate({ system: 'outlook', itemId: o3, changeType: 'created', fields: fieldsA, counterpartHint: { createKey: third.reservation.createKey } })
    t.match(back, { action: 'skip', reason: 'echo', target: { system: 'salesforce', itemId: s3 } })
    t.match(await api.correlate({ system: 'outlook', itemId: o3, changeType: 'updated', fields: edited }), { action: 'update', reason: 'linked' })
  })

  t.test('counterpartHint: our own create coming back before its confirm is an echo and links the pair', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    const created = await api.correlate({ system: 'outlook', itemId: o, changeType: 'created', fields: fieldsA })
    const back = await api.correlate({ system: 'salesforce', itemId: s, changeType: 'created', counterpartHint: { system: 'outlook', itemId: o } })
    t.match(back, { action: 'skip', reason: 'echo', target: { system: 'outlook', itemId: o } })
    t.equal((await api.get('outlook', o)).body.salesforce.itemId, s)
    const confirmed = await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, reservationToken: created.reservation.token })
    t.equal(confirmed.linked, true)
    const copy = await api.correlate({ system: 'salesforce', itemId: salesforceId(), changeType: 'created', counterpartHint: { system: 'outlook', itemId: o } })
    t.match(copy, { action: 'skip', reason: 'conflicting_link', link: { salesforce: { itemId: s } } }, 'a second copy is flagged, not linked')
  })

  t.test('a delete against an edit of the counterpart not yet synced is resolve, and deletePolicy settles it', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, written: { fields: fieldsA }, baseline: fieldsA })
    t.match(
      await api.correlate({ changeEvent: changeEvent(s, 'DELETE'), targetFields: fieldsA }),
      { action: 'delete', reason: 'linked', target: { system: 'outlook', itemId: o } },
      'the counterpart still equals the baseline: delete it',
    )
    t.match(await api.correlate({ changeEvent: changeEvent(s, 'DELETE') }), { action: 'delete', reason: 'linked' }, 'a delete whose flow read no counterpart deletes')
    const contested = await api.correlate({ changeEvent: changeEvent(s, 'DELETE'), targetFields: { ...fieldsA, location: 'Room 9' } })
    t.match(contested, { action: 'resolve', reason: 'both_changed', target: { system: 'outlook', itemId: o }, baseline: fieldsA }, 'the Outlook edit is not deleted unseen')
    t.match(
      await api.correlate({ notification: notification(o, 'deleted'), targetRecord: { Subject: 'Renamed in Salesforce' } }),
      { action: 'resolve', reason: 'both_changed', target: { system: 'salesforce', itemId: s } },
      'the other way, with the record as read',
    )
    t.equal((await api.get('salesforce', s)).body.state, 'linked', 'asking changes nothing')

    const outlook = { itemId: o, fields: { ...fieldsA, location: 'Room 9' }, modifiedAt: '2026-03-10T09:00:00Z' }
    const salesforce = { itemId: s, deleted: true }
    const updateWins = await api.post('/resolve-conflict', { outlook, salesforce })
    t.match(updateWins.body, { outcome: 'resolved', merged: { location: 'Room 9' }, writes: { salesforce: { op: 'create' } } }, 'update-wins (default): the Event is made anew')
    t.notOk(updateWins.body.writes.outlook, 'and the Outlook event keeps its edit')
    const deleteWins = await api.post('/resolve-conflict', { outlook, salesforce, deletePolicy: 'delete-wins' })
    t.match(deleteWins.body, { outcome: 'resolved', merged: null, writes: { outlook: { op: 'delete' } } }, 'delete-wins: the edited event goes too')
  })

  t.test('counterpartHint after an unlink: the copy is compared with what we last synced, so a person\'s edit is not our echo', async (t) => {
    const api = await client(t)
    const edited = { ...fieldsA, location: 'Room 1.01' }
    const s = salesforceId()
    const o = outlookId()
    const created = await api.correlate({ changeEvent: changeEvent(s, 'CREATE'), fields: fieldsA })
    const { createKey, token } = created.reservation
    await api.confirm({ source: { system: 'salesforce', itemId: s }, target: { system: 'outlook', itemId: o }, written: { fields: fieldsA }, baseline: fieldsA, reservationToken: token })
    t.same(await api.del('salesforce', s), { deleted: true }, 'an operator\'s reset')
    // a person edited the copy; its change comes back by the createKey it was created with, the flow read no counterpart
    const copy = await api.correlate({ system: 'outlook', itemId: o, changeType: 'updated', fields: edited, counterpartHint: { createKey } })
    t.match(copy, { action: 'resolve', reason: 'both_changed', target: { system: 'salesforce', itemId: s }, baseline: fieldsA }, 'merge against what the create wrote')
    t.same((await api.get('outlook', o)).body.baseline, fieldsA, 'linked again, with the created state as baseline')
    const redelivered = await api.correlate({ changeEvent: changeEvent(s, 'UPDATE'), fields: fieldsA, targetFields: edited })
    t.match(redelivered, { action: 'skip', reason: 'echo' }, 'the source brings nothing new: the copy\'s edit is not overwritten')

    // the copy as created is our echo, as before the unlink
    const s2 = salesforceId()
    const o2 = outlookId()
    const second = await api.correlate({ changeEvent: changeEvent(s2, 'CREATE'), fields: fieldsA })
    await api.confirm({ source: { system: 'salesforce', itemId: s2 }, target: { system: 'outlook', itemId: o2 }, baseline: fieldsA, reservationToken: second.reservation.token })
    await api.del('outlook', o2)
    const ours = await api.correlate({ system: 'outlook', itemId: o2, changeType: 'updated', fields: fieldsA, counterpartHint: { createKey: second.reservation.createKey } })
    t.match(ours, { action: 'skip', reason: 'echo', target: { system: 'salesforce', itemId: s2 } })
  })

  t.test('a delete of our copy coming back by its hint, before the confirm: resolve, as the counterpart was not read', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    const created = await api.correlate({ system: 'outlook', itemId: o, changeType: 'created', fields: fieldsA })
    t.equal(created.action, 'create')
    // the create's worker stalls before its confirm; a person edits the Outlook event, another deletes the new Event
    const gone = await api.correlate({ changeEvent: changeEvent(s, 'DELETE'), counterpartHint: { system: 'outlook', itemId: o } })
    t.match(gone, { action: 'resolve', reason: 'both_changed', target: { system: 'outlook', itemId: o }, baseline: fieldsA }, 'read the Outlook event, then /resolve-conflict')
    const unchanged = await api.post('/resolve-conflict', { outlook: { itemId: o, fields: fieldsA }, salesforce: { itemId: s, deleted: true } })
    t.match(unchanged.body, { outcome: 'resolved', merged: null, writes: { outlook: { op: 'delete' } } }, 'the Outlook event unchanged since: the delete goes through')
    const edited = await api.post('/resolve-conflict', { outlook: { itemId: o, fields: fieldsB, modifiedAt: '2026-03-10T09:00:00Z' }, salesforce: { itemId: s, deleted: true } })
    t.match(edited.body, { outcome: 'resolved', writes: { salesforce: { op: 'create' } } }, 'edited since: update-wins makes the Event anew')

    // a series is never made anew as a single event: its delete stays a delete
    const o2 = outlookId()
    const s2 = salesforceId()
    await api.confirm({ source: { system: 'outlook', itemId: o2 }, target: { system: 'salesforce', itemId: s2 }, baseline: fieldsA })
    const series = await api.correlate({ system: 'salesforce', itemId: s2, changeType: 'deleted', seriesRole: 'series_master', targetFields: fieldsB })
    t.match(series, { action: 'delete', reason: 'linked' }, 'a series master deleted against an edit')
    // the copy's delete by hint knows no role of its own: the create's series role decides
    const o3 = outlookId()
    await api.correlate({ system: 'outlook', itemId: o3, changeType: 'created', fields: fieldsA, seriesRole: 'series_master' })
    const copyGone = await api.correlate({ system: 'salesforce', itemId: salesforceId(), changeType: 'deleted', counterpartHint: { system: 'outlook', itemId: o3 } })
    t.match(copyGone, { action: 'delete', reason: 'linked' }, 'a series copy deleted before the confirm')
  })

  t.test('a resolution\'s create of a deleted side is linked in its place (replaces), and the old item\'s delete goes nowhere', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s1 = salesforceId()
    await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s1 }, written: { fields: fieldsA }, baseline: fieldsA })
    // a person edits the Outlook event while another deletes the Salesforce Event: the flow reads S1 gone
    const resolution = await api.post('/resolve-conflict', {
      outlook: { itemId: o, fields: fieldsB, modifiedAt: '2026-03-10T09:00:00Z' },
      salesforce: { itemId: s1, deleted: true },
    })
    t.match(resolution.body, { outcome: 'resolved', writes: { salesforce: { op: 'create' } } }, 'update-wins: Salesforce gets the event again')
    const s2 = salesforceId()
    const refused = await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s2 }, written: { fields: fieldsB }, baseline: fieldsB })
    t.match(refused, { linked: false, reason: 'conflicting_link' }, 'without replaces the old link stands')
    const linked = await api.confirm({
      source: { system: 'outlook', itemId: o },
      target: { system: 'salesforce', itemId: s2 },
      written: { fields: fieldsB },
      baseline: fieldsB,
      replaces: { system: 'salesforce', itemId: s1 },
    })
    t.match(linked, { linked: true, link: { salesforce: { itemId: s2 } } })
    t.match(await api.correlate({ system: 'salesforce', itemId: s1, changeType: 'deleted' }), { action: 'skip', reason: 'tombstoned' }, 'S1\'s delete does not delete the Outlook event')
    t.match(await api.correlate({ system: 'salesforce', itemId: s2, changeType: 'created', fields: fieldsB }), { action: 'skip', reason: 'echo' }, 'the new Event\'s own change is our echo')
    t.match(await api.correlate({ system: 'outlook', itemId: o, changeType: 'updated', fields: fieldsA }), { action: 'update', target: { itemId: s2 } }, 'the next edit goes to the new Event')
  })

  t.test('updates, both_changed, deletes, tombstones', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, baseline: fieldsA })

    const update = await api.correlate({ system: 'outlook', itemId: o, changeType: 'updated', fields: fieldsB, targetFields: fieldsA })
    t.match(update, { action: 'update', reason: 'linked', target: { system: 'salesforce', itemId: s } }, 'the target still equals the baseline')
    const partial = await api.correlate({ system: 'outlook', itemId: o, changeType: 'updated', targetFields: { subject: 'Quarterly review' } })
    t.equal(partial.action, 'update', 'a partial read that agrees with the baseline')
    const both = await api.correlate({ system: 'outlook', itemId: o, changeType: 'updated', fields: fieldsB, targetFields: { ...fieldsA, location: 'Room 9' } })
    t.match(both, { action: 'resolve', reason: 'both_changed', baseline: fieldsA })
    const viaRecord = await api.correlate({ system: 'outlook', itemId: o, changeType: 'updated', targetRecord: { Subject: 'Renamed in Salesforce' } })
    t.equal(viaRecord.reason, 'both_changed', 'targetRecord stands in for targetFields')

    const del = await api.correlate({ notification: notification(o, 'deleted') })
    t.match(del, { action: 'delete', reason: 'linked', target: { system: 'salesforce', itemId: s } })
    const tomb = await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, deleted: true })
    t.match(tomb, { linked: false, link: { state: 'tombstoned', outlook: { itemId: o }, salesforce: { itemId: s } } })
    t.same(await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, deleted: true }), tomb)
    t.match(await api.correlate({ changeEvent: changeEvent(s, 'UPDATE') }), { action: 'skip', reason: 'tombstoned' })
    t.match(await api.correlate({ changeEvent: changeEvent(s, 'DELETE') }), { action: 'skip', reason: 'tombstoned' })
    t.match(await api.correlate({ notification: notification(o, 'updated') }), { action: 'skip', reason: 'tombstoned' })
    t.equal((await api.get('salesforce', s)).body.state, 'tombstoned')

    t.match(await api.correlate({ changeEvent: changeEvent(salesforceId(), 'DELETE') }), {
      action: 'skip',
      reason: 'no_link_for_delete',
      target: { system: 'outlook', itemId: null },
    })
  })

  t.test('confirm: swapped updates the same link, idempotent, conflicting_link', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    const first = await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, baseline: fieldsA })
    t.match(first, { linked: true, link: { tenant: 'default', outlook: { itemId: o }, salesforce: { itemId: s }, state: 'linked', baseline: fieldsA } })
    const repeat = await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s }, baseline: fieldsA })
    t.same(repeat, first, 'the same confirm twice changes nothing')
    const swapped = await api.confirm({ source: { system: 'salesforce', itemId: s }, target: { system: 'outlook', itemId: o }, baseline: fieldsB })
    t.match(swapped, { linked: true, link: { outlook: { itemId: o }, salesforce: { itemId: s }, baseline: fieldsB, linkedAt: first.link.linkedAt } })
    const got = await api.get('outlook', o)
    t.equal(got.status, 200)
    t.same(got.body, swapped.link, 'GET shows the one link')
    const conflicting = await api.confirm({ source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: salesforceId() } })
    t.match(conflicting, { linked: false, reason: 'conflicting_link', link: { salesforce: { itemId: s } } })
    t.type(conflicting.detail, 'string')
  })

  t.test('GET and DELETE', async (t) => {
    const api = await client(t)
    const o = outlookId()
    const s = salesforceId()
    const missing = await api.get('outlook', o)
    t.equal(missing.status, 404)
    t.equal(missing.body.code, 'not_found')
    await api.confirm({ tenant: 'acme', source: { system: 'outlook', itemId: o }, target: { system: 'salesforce', itemId: s } })
    t.equal((await api.get('outlook', o)).status, 404, 'another tenant')
    const got = await api.get('salesforce', s, 'acme')
    t.same(Object.keys(got.body).sort(), ['linkedAt', 'outlook', 'salesforce', 'state', 'tenant', 'updatedAt'])
    const del = await api.app.inject({ method: 'DELETE', url: `/correlate/salesforce/${s}?tenant=acme` })
    t.same(del.json(), { deleted: true })
    t.equal((await api.get('outlook', o, 'acme')).status, 404, 'unlinked both ways')
    t.equal((await api.correlate({ tenant: 'acme', system: 'outlook', itemId: o, changeType: 'updated' })).action, 'create')
    t.same(await api.del('outlook', outlookId()), { deleted: false })
    t.equal((await api.app.inject({ method: 'GET', url: '/correlate/gmail/x' })).statusCode, 400)
  })

  t.test('series and child events', async (t) => {
    const api = await client(t)
    const child = await api.correlate({ changeEvent: changeEvent(salesforceId(), 'CREATE', {}, { IsChild: true, OwnerId: '0055g0000099999AAA' }) })
    t.match(child, { action: 'skip', reason: 'child_event', target: { system: 'outlook', itemId: null } })
    const explicitChild = await api.correlate({ system: 'salesforce', itemId: salesforceId(), changeType: 'updated', isChild: true })
    t.equal(explicitChild.reason, 'child_event')

    const occurrence = await api.correlate({
      system: 'outlook',
      itemId: outlookId(),
      changeType: 'created',
      event: { type: 'occurrence', seriesMasterId: 'AAMkMaster=', subject: 'Weekly' },
    })
    t.match(occurrence, { action: 'skip', reason: 'series_occurrence', series: { role: 'occurrence', masterId: 'AAMkMaster=' } })
    const sfOccurrence = await api.correlate({ changeEvent: changeEvent(salesforceId(), 'CREATE', {}, { IsRecurrence2: true, IsChild: false }) })
    t.equal(sfOccurrence.reason, 'series_occurrence')

    const occO = outlookId()
    await api.confirm({ source: { system: 'salesforce', itemId: salesforceId() }, target: { system: 'outlook', itemId: occO } })
    const seen = await api.correlate({ system: 'outlook', itemId: occO, changeType: 'updated', event: { type: 'exception', seriesMasterId: 'M' } })
    t.match(seen, { action: 'update', series: { role: 'exception' } }, 'a linked occurrence updates its counterpart')
    const occDelete = await api.correlate({ notification: notification(occO, 'deleted') })
    t.match(occDelete, { action: 'delete', series: { role: 'exception' } }, 'the link remembers the role a bare delete lacks')

    const master = outlookId()
    const seriesCreate = await api.correlate({ system: 'outlook', itemId: master, changeType: 'created', event: { type: 'seriesMaster', recurrence: { pattern: {} } } })
    t.match(seriesCreate, { action: 'create', series: { role: 'series_master' } })
    const single = await api.correlate({
      changeEvent: changeEvent(salesforceId(), 'CREATE', { commitUser: '0055g00000INTEGAAQ' }, { IsRecurrence2: false, IsRecurrence: false }),
      counterpartHint: { system: 'outlook', itemId: master },
    })
    t.match(single, { action: 'skip', reason: 'series_mismatch' }, 'a single event never links to a series master')
    t.equal((await api.get('outlook', master)).status, 404)
  })

  t.test('bad input is a 400 naming the field', async (t) => {
    const api = await client(t)
    const cases: Array<[string, object, string]> = [
      ['/correlate', { system: 'outlook', changeType: 'created' }, 'itemId'],
      ['/correlate', { system: 'gmail', itemId: 'x', changeType: 'created' }, 'system'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'moved' }, 'changeType'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', leaseMs: 5 }, 'leaseMs'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'updated', fields: { subject: 'a' }, reread: 'yes' }, 'reread'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', fields: { subject: 'a' }, claimToken: 7 }, 'claimToken'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', fields: { subject: 'a' }, claimToken: '' }, 'claimToken'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', fields: { a: 1 }, fingerprint: 'f' }, 'fingerprint'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', counterpartHint: { system: 'outlook', itemId: 'y' } }, 'counterpartHint.system'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', counterpartHint: { createKey: 'css-12ab' } }, 'counterpartHint.createKey'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', counterpartHint: { createKey: `css-${'A'.repeat(32)}` } }, 'counterpartHint.createKey'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', counterpartHint: { createKey: 42 } }, 'counterpartHint.createKey'],
      [
        '/correlate',
        { system: 'outlook', itemId: 'x', changeType: 'created', counterpartHint: { system: 'salesforce', itemId: 'y', createKey: `css-${'a'.repeat(32)}` } },
        'counterpartHint.createKey',
      ],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', counterpartHint: {} }, 'counterpartHint'],
      ['/correlate', { system: 'outlook', itemId: 'x', changeType: 'created', counterpartHint: { system: 'salesforce' } }, 'counterpartHint.itemId'],
      ['/correlate', { notification: { subscriptionId: 'NA', changeType: 'Validation: Testing client application reachability 9f2c' } }, 'notification'],
      ['/correlate', { notification: { lifecycleEvent: 'reauthorizationRequired', subscriptionId: 's' } }, 'notification'],
      ['/correlate', { changeEvent: { ...changeEvent('00U1', 'UPDATE'), payload: { ...changeEvent('00U1', 'UPDATE').payload, ChangeEventHeader: { ...changeEvent('00U1', 'UPDATE').payload.ChangeEventHeader, recordIds: ['00U1', '00U2'] } } } }, 'changeEvent.payload.ChangeEventHeader.recordIds'],
      ['/correlate/confirm', { source: { system: 'outlook', itemId: 'a' }, target: { system: 'outlook', itemId: 'b' } }, 'target.system'],
      ['/correlate/confirm', { source: { system: 'outlook', itemId: 'a' } }, 'target'],
      ['/correlate/confirm', { source: { system: 'outlook', itemId: 'a' }, target: { system: 'salesforce', itemId: 'b' }, deleted: 'yes' }, 'deleted'],
      ['/correlate/confirm', { source: { system: 'outlook', itemId: 'a' }, target: { system: 'salesforce', itemId: 'b' }, replaces: { system: 'outlook', itemId: 'c' } }, 'replaces.system'],
      ['/correlate/confirm', { source: { system: 'outlook', itemId: 'a' }, target: { system: 'salesforce', itemId: 'b' }, replaces: { system: 'salesforce', itemId: 'b' } }, 'replaces.itemId'],
      ['/correlate/confirm', { source: { system: 'outlook', itemId: 'a' }, target: { system: 'salesforce', itemId: 'b' }, replaces: { system: 'salesforce', itemId: 'c' }, deleted: true }, 'replaces'],
      ['/correlate/confirm', { source: { system: 'outlook', itemId: 'a' }, target: { system: 'salesforce', itemId: 'b' }, replaces: { system: 'salesforce', itemid: 'c' } }, 'replaces.itemid'],
    ]
    for (const [url, payload, path] of cases) {
      const res = await api.post(url, payload)
      t.equal(res.status, 400, `${url} ${JSON.stringify(payload).slice(0, 80)}`)
      t.ok(
        res.body.errors?.some((e: Json) => e.path === path),
        `names ${path}: ${JSON.stringify(res.body.errors)}`,
      )
    }
  })

  t.test('every missing or wrong field of the explicit form is named, not only the first', async (t) => {
    const api = await client(t)
    const cases: Array<[object, string[]]> = [
      [{}, ['system', 'itemId', 'changeType']],
      [{ system: 'outlook' }, ['itemId', 'changeType']],
      [{ itemId: 'x', fields: { subject: 'a' } }, ['system', 'changeType']],
      // the schema's findings and the missing fields in one answer
      [{ system: 'gmail' }, ['system', 'itemId', 'changeType']],
      [{ system: 'outlook', itemId: 5 }, ['itemId', 'changeType']],
      // every field sent beside a native form
      [{ notification: {}, system: 'outlook', itemId: 'x' }, ['system', 'itemId']],
    ]
    for (const [payload, paths] of cases) {
      const res = await api.post('/correlate', payload)
      t.equal(res.status, 400, JSON.stringify(payload))
      t.same(
        res.body.errors?.map((e: Json) => e.path),
        paths,
        `${JSON.stringify(payload)} names ${paths.join(', ')}`,
      )
    }
  })
}
