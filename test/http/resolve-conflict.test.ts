// /resolve-conflict over HTTP: native and canonical sides, zones, all-day, HTML, policies, deletes, stored baselines.
import t from 'tap'
import { buildTestApp } from '../support/app.js'

const base = {
  subject: 'Quarterly review',
  start: '2026-03-10T15:00:00.000Z',
  end: '2026-03-10T16:00:00.000Z',
  isAllDay: false,
  location: 'Room 4.12',
  description: 'Agenda in the account plan.',
  showAs: 'busy',
  isPrivate: false,
}

const graphEvent = (over: Record<string, unknown> = {}) => ({
  id: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=',
  subject: 'Quarterly review',
  // 16:00 in Berlin (UTC+1 in March before the EU switch) is 15:00Z
  start: { dateTime: '2026-03-10T16:00:00.0000000', timeZone: 'W. Europe Standard Time' },
  end: { dateTime: '2026-03-10T17:00:00.0000000', timeZone: 'W. Europe Standard Time' },
  isAllDay: false,
  location: { displayName: 'Room 4.12' },
  body: { contentType: 'html', content: '<html><body><p>Agenda in the   account plan.</p></body></html>' },
  showAs: 'busy',
  sensitivity: 'normal',
  lastModifiedDateTime: '2026-03-09T09:31:10.4471032Z',
  ...over,
})

const sfRecord = (over: Record<string, unknown> = {}) => ({
  Id: '00U5g00000Xy12ZEAQ',
  Subject: 'Quarterly review',
  StartDateTime: '2026-03-10T15:00:00.000Z',
  EndDateTime: '2026-03-10T16:00:00.000Z',
  IsAllDayEvent: false,
  Location: 'Room 4.12',
  Description: 'Agenda in the account plan.',
  ShowAs: 'Busy',
  IsPrivate: false,
  LastModifiedDate: '2026-03-09T09:30:05.000Z',
  ...over,
})

t.test('the same meeting read from both systems is in_sync (Windows zone, HTML body)', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/resolve-conflict', payload: { outlook: { event: graphEvent() }, salesforce: { record: sfRecord() }, base } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.outcome, 'in_sync')
  t.same(body.writes, {})
  t.equal(body.baseSource, 'request')
})

t.test('a plain-text Description with angle brackets or tag-like words stays text', async (t) => {
  const { app } = await buildTestApp(t)
  for (const text of ['Press <Enter> to continue; a<b and c>d', 'Use the <b side door']) {
    const payload = {
      outlook: { event: graphEvent({ body: { contentType: 'text', content: text } }) },
      salesforce: { record: sfRecord({ Description: text }) },
      base: { ...base, description: 'Before.' },
    }
    const res = await app.inject({ method: 'POST', url: '/resolve-conflict', payload })
    t.equal(res.json().outcome, 'in_sync', `both sides hold ${JSON.stringify(text)}`)
    const edited = await app.inject({ method: 'POST', url: '/resolve-conflict', payload: { ...payload, outlook: { fields: { ...base, description: 'Before.' } } } })
    t.equal(edited.json().writes.outlook?.patch?.body?.content, text, 'and it is written to Outlook as typed')
  }
})

t.test('attendees read from both systems: Salesforce gets the invitees it must list beside its patch, and then agrees', async (t) => {
  const { app } = await buildTestApp(t)
  const invitees = (...emails: string[]) => ({ totalSize: emails.length, done: true, records: emails.map((email) => ({ IsInvitee: true, Relation: { Email: email } })) })
  const graphAttendees = (...emails: string[]) => emails.map((address) => ({ type: 'required', emailAddress: { address, name: address } }))
  const start = { ...base, attendees: ['ann@example.com'] }
  const first = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: {
      outlook: { event: graphEvent({ attendees: graphAttendees('Ann@example.com', 'bob@example.com') }) },
      salesforce: { record: sfRecord({ Location: 'Room 5', EventRelations: invitees('ann@example.com') }) },
      base: start,
    },
  })
  t.equal(first.statusCode, 200)
  const body = first.json()
  t.same(body.writes.salesforce, { op: 'update', attendees: ['ann@example.com', 'bob@example.com'] }, 'no Event field, so no patch')
  t.same(body.writes.outlook, { op: 'update', patch: { location: { displayName: 'Room 5' } } })
  // the flow added Bob's EventRelation: read again with the merged state as base, the two sides agree
  const after = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: {
      outlook: { event: graphEvent({ location: { displayName: 'Room 5' }, attendees: graphAttendees('ann@example.com', 'bob@example.com') }) },
      salesforce: { record: sfRecord({ Location: 'Room 5', EventRelations: invitees('bob@example.com', 'ann@example.com') }) },
      base: body.merged,
    },
  })
  t.equal(after.json().outcome, 'in_sync')
})

t.test('three-way merge: one-sided changes flow both ways, a both-sided change is settled by modifiedAt', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: {
      outlook: { event: graphEvent({ location: { displayName: 'Room 5' }, subject: 'Review (moved)' }), modifiedAt: '2026-03-09T10:00:00Z' },
      salesforce: { record: sfRecord({ Description: 'New agenda', Subject: 'Review SF' }), modifiedAt: '2026-03-09T09:45:00Z' },
      base,
    },
  })
  const body = res.json()
  t.equal(body.outcome, 'resolved')
  t.equal(body.merged.location, 'Room 5')
  t.equal(body.merged.description, 'New agenda')
  t.equal(body.merged.subject, 'Review (moved)', 'later modifiedAt wins the subject')
  t.same(body.writes.salesforce.op, 'update')
  t.equal(body.writes.salesforce.patch.Location, 'Room 5')
  t.equal(body.writes.salesforce.patch.Subject, 'Review (moved)')
  t.equal(body.writes.outlook.patch.body.content, 'New agenda')
  t.notOk('subject' in body.writes.outlook.patch, 'Outlook keeps its own subject')
  t.equal(body.conflicts.length, 1)
  t.equal(body.conflicts[0].field, 'subject')
  t.equal(body.conflicts[0].winner, 'outlook')
  t.type(body.conflicts[0].rule, 'string')
})

t.test('modifiedAt is read as the item dates are: a zone-less time is UTC, a comma fraction and an +HH offset are fine', async (t) => {
  const { app } = await buildTestApp(t)
  for (const [outlookAt, winner] of [
    ['2026-03-09T10:00:00', 'outlook'],
    ['2026-03-09T10:00:00,123Z', 'outlook'],
    ['2026-03-09T10:00:00+01', 'salesforce'],
  ] as const) {
    const res = await app.inject({
      method: 'POST',
      url: '/resolve-conflict',
      payload: {
        outlook: { event: graphEvent({ subject: 'Review (moved)' }), modifiedAt: outlookAt },
        salesforce: { record: sfRecord({ Subject: 'Review SF' }), modifiedAt: '2026-03-09T09:45:00Z' },
        base,
      },
    })
    t.equal(res.statusCode, 200, outlookAt)
    t.equal(res.json().conflicts[0]?.winner, winner, `${outlookAt}: ${winner} is later`)
  }
})

t.test('policies: salesforce-wins, field-ownership with review, equal modifiedAt', async (t) => {
  const { app } = await buildTestApp(t)
  const post = (payload: object) => app.inject({ method: 'POST', url: '/resolve-conflict', payload }).then((r) => r.json())
  const sides = {
    outlook: { fields: { ...base, subject: 'From Outlook' }, modifiedAt: '2026-03-09T10:00:00Z' },
    salesforce: { fields: { ...base, subject: 'From Salesforce' }, modifiedAt: '2026-03-09T09:00:00Z' },
    base,
  }
  const sfWins = await post({ ...sides, policy: 'salesforce-wins' })
  t.equal(sfWins.merged.subject, 'From Salesforce')
  t.equal(sfWins.writes.outlook.patch.subject, 'From Salesforce')
  t.notOk(sfWins.writes.salesforce)

  const owned = await post({ ...sides, policy: 'field-ownership', fieldOwners: { subject: 'outlook' } })
  t.equal(owned.outcome, 'resolved')
  t.equal(owned.merged.subject, 'From Outlook')

  const unowned = await post({ ...sides, policy: 'field-ownership', fieldOwners: { location: 'salesforce' } })
  t.equal(unowned.outcome, 'needs_review')
  t.same(unowned.writes, {})

  const tie = await post({ ...sides, salesforce: { ...sides.salesforce, modifiedAt: '2026-03-09T10:00:00Z' } })
  t.equal(tie.outcome, 'needs_review', 'equal modifiedAt where it decides')
})

t.test('deletes: update-wins recreates, delete-wins deletes, both deleted is in_sync', async (t) => {
  const { app } = await buildTestApp(t)
  const post = (payload: object) => app.inject({ method: 'POST', url: '/resolve-conflict', payload }).then((r) => r.json())
  const updated = { fields: { ...base, subject: 'Changed' }, modifiedAt: '2026-03-09T10:00:00Z' }
  const deleted = { deleted: true, modifiedAt: '2026-03-09T09:00:00Z' }
  const upd = await post({ outlook: updated, salesforce: deleted, base })
  t.equal(upd.writes.salesforce.op, 'create')
  t.equal(upd.writes.salesforce.patch.Subject, 'Changed')
  const del = await post({ outlook: updated, salesforce: deleted, base, deletePolicy: 'delete-wins' })
  t.same(del.writes.outlook, { op: 'delete' })
  t.equal(del.merged, null)
  const review = await post({ outlook: updated, salesforce: deleted, base, deletePolicy: 'review' })
  t.equal(review.outcome, 'needs_review')
  const both = await post({ outlook: { deleted: true }, salesforce: { deleted: true }, base })
  t.equal(both.outcome, 'in_sync')
  t.equal(both.merged, null)
})

t.test('all-day events across systems', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: {
      outlook: {
        event: graphEvent({
          isAllDay: true,
          start: { dateTime: '2026-03-05T00:00:00.0000000', timeZone: 'Pacific Standard Time' },
          end: { dateTime: '2026-03-07T00:00:00.0000000', timeZone: 'Pacific Standard Time' },
        }),
      },
      salesforce: { record: sfRecord({ IsAllDayEvent: true, StartDateTime: undefined, EndDateTime: undefined, ActivityDate: '2026-03-05', DurationInMinutes: 2880 }) },
      base: { ...base, isAllDay: true, start: '2026-03-05', end: '2026-03-07' },
    },
  })
  t.equal(res.json().outcome, 'in_sync', 'a two-day all-day event reads the same on both sides')
})

t.test('stored baseline from /correlate/confirm is the base when none is given', async (t) => {
  const { app } = await buildTestApp(t)
  const confirm = await app.inject({
    method: 'POST',
    url: '/correlate/confirm',
    payload: { source: { system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ' }, target: { system: 'outlook', itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=' }, baseline: base },
  })
  t.equal(confirm.statusCode, 200)
  const res = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: {
      outlook: { event: graphEvent({ location: { displayName: 'Room 5' } }) },
      salesforce: { record: sfRecord({ Description: 'New agenda' }) },
    },
  })
  const body = res.json()
  t.equal(body.baseSource, 'stored')
  t.equal(body.outcome, 'resolved')
  t.same(body.conflicts, [], 'against the stored base the changes do not conflict')

  const none = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: { outlook: { itemId: 'unknown', fields: { subject: 'A' } }, salesforce: { itemId: '00Uunknown', fields: { subject: 'B' } } },
  })
  t.equal(none.json().baseSource, 'none')
  t.equal(none.json().conflicts.length, 1, 'without a base every differing field conflicts')

  const mismatch = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: { outlook: { event: graphEvent() }, salesforce: { itemId: '00U000000000001AAA', fields: base } },
  })
  t.equal(mismatch.statusCode, 400)
  t.equal(mismatch.json().errors[0].path, 'salesforce.itemId')
  t.match(mismatch.json().detail, /its counterpart is 00U5g00000Xy12ZEAQ/)

  // found through the Salesforce side: the Outlook id is the wrong one, and its counterpart is the linked Outlook item
  const otherWay = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: { outlook: { itemId: 'AAMkOTHER', fields: base }, salesforce: { record: sfRecord() } },
  })
  t.equal(otherWay.statusCode, 400)
  t.equal(otherWay.json().errors[0].path, 'outlook.itemId')

  // with a base of its own too: the ids must still be the pair's
  const withBase = await app.inject({
    method: 'POST',
    url: '/resolve-conflict',
    payload: { base, outlook: { event: graphEvent() }, salesforce: { itemId: '00U000000000001AAA', fields: base } },
  })
  t.equal(withBase.statusCode, 400)
  t.equal(withBase.json().errors[0].path, 'salesforce.itemId')
  const rightPair = await app.inject({ method: 'POST', url: '/resolve-conflict', payload: { base, outlook: { event: graphEvent() }, salesforce: { record: sfRecord() } } })
  t.equal(rightPair.statusCode, 200)
  t.equal(rightPair.json().baseSource, 'request', 'the base sent is the one used')
  t.match(otherWay.json().detail, /outlook\.itemId: AAMkOTHER is not linked to salesforce item 00U5g00000Xy12ZEAQ \(its counterpart is AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=\)/)
})

t.test('bad input names the field', async (t) => {
  const { app } = await buildTestApp(t)
  const cases: Array<[unknown, string]> = [
    [{ salesforce: { fields: base } }, 'outlook'],
    [{ outlook: { fields: base }, salesforce: { fields: base }, policy: 'coin-flip' }, 'policy'],
    [{ outlook: { fields: base }, salesforce: { fields: base }, fieldOwners: { subject: 'me' } }, 'fieldOwners.subject'],
    [{ outlook: { event: graphEvent({ start: { dateTime: '2026-03-10T16:00:00', timeZone: 'Mars/Olympus' } }) }, salesforce: { fields: base } }, 'outlook.event.start.timeZone'],
    [{ outlook: { fields: { ...base, start: 'soon' } }, salesforce: { fields: base } }, 'outlook.fields.start'],
    [{ outlook: { fields: base, modifiedAt: 'yesterday' }, salesforce: { fields: base } }, 'outlook.modifiedAt'],
    [{ outlook: { fields: { ...base, start: '2026-03-10T15:00:00+99:99' } }, salesforce: { fields: base } }, 'outlook.fields.start'],
    // deeper than html-to-text's recursive walk can go: a 400, not the 500 of a stack overflow
    [{ outlook: { event: graphEvent({ body: { contentType: 'html', content: '<div>'.repeat(20_000) } }) }, salesforce: { fields: base } }, 'outlook.event.body.content'],
  ]
  for (const [payload, path] of cases) {
    const res = await app.inject({ method: 'POST', url: '/resolve-conflict', payload: payload as object })
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 60))
    t.ok(res.json().errors?.some((e: { path: string }) => e.path === path), `names ${path}: ${JSON.stringify(res.json().errors)}`)
  }
})

// The simulation lost an edit this way (sim/README.md, F): a review settled both copies, the stored baseline stayed
// the pre-conflict state, and a person then set one side back to exactly that state.
t.test('a review recorded with a baseline-only confirm makes a later return to the old state a change', async (t) => {
  const outlookRef = { system: 'outlook', itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=' }
  const salesforceRef = { system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ' }
  const settled = { ...base, start: '2026-03-10T15:45:00.000Z', end: '2026-03-10T16:45:00.000Z' }
  // Now: Outlook holds what the review settled; a person has set Salesforce back to the pre-conflict timing.
  const sides = {
    outlook: { itemId: outlookRef.itemId, fields: settled, modifiedAt: '2026-03-09T10:00:00Z' },
    salesforce: { itemId: salesforceRef.itemId, fields: base, modifiedAt: '2026-03-09T10:00:02Z' },
  }
  for (const recorded of [false, true]) {
    const { app } = await buildTestApp(t)
    const confirm = (baseline: unknown) => app.inject({ method: 'POST', url: '/correlate/confirm', payload: { source: salesforceRef, target: outlookRef, baseline } })
    t.equal((await confirm(base)).statusCode, 200, 'linked with the pre-conflict baseline')
    if (recorded) t.equal((await confirm(settled)).json().linked, true, 'the review records what it settled')
    const res = await app.inject({ method: 'POST', url: '/resolve-conflict', payload: sides })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.equal(body.baseSource, 'stored')
    if (recorded) {
      t.same(Object.keys(body.writes), ['outlook'], 'with the review recorded, the person\'s Salesforce change flows to Outlook')
      t.equal(body.merged.start, base.start)
    } else {
      t.same(Object.keys(body.writes), ['salesforce'], 'without it, the stale base reads Salesforce as unchanged: Outlook\'s value goes over the edit')
      t.equal(body.merged.start, settled.start)
    }
  }
})
