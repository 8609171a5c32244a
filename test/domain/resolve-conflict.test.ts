import t from 'tap'
import { resolveConflict } from '../../src/domain/resolve-conflict.js'

const base = {
  subject: 'Quarterly review',
  start: '2026-03-10T14:30:00.000Z',
  end: '2026-03-10T15:30:00.000Z',
  isAllDay: false,
  location: 'Room 4.12',
  description: 'Agenda',
  showAs: 'busy',
  isPrivate: false,
}
// The base as each system holds it: Berlin wall time in Graph, UTC in Salesforce.
const event = {
  id: 'AAMk=',
  subject: 'Quarterly review',
  body: { contentType: 'html', content: '<p>Agenda</p>' },
  start: { dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'W. Europe Standard Time' },
  end: { dateTime: '2026-03-10T16:30:00.0000000', timeZone: 'W. Europe Standard Time' },
  isAllDay: false,
  location: { displayName: 'Room 4.12' },
  showAs: 'busy',
  sensitivity: 'normal',
  lastModifiedDateTime: '2026-03-09T09:31:10.4471032Z',
}
const record = {
  Id: '00U5g00000Xy12ZEAQ',
  Subject: 'Quarterly review',
  StartDateTime: '2026-03-10T14:30:00.000+0000',
  EndDateTime: '2026-03-10T15:30:00.000+0000',
  IsAllDayEvent: false,
  Location: 'Room 4.12',
  Description: 'Agenda',
  ShowAs: 'Busy',
  IsPrivate: false,
  LastModifiedDate: '2026-03-09T09:30:05.000+0000',
}

t.test('native resources on both sides, equal: in_sync', async (t) => {
  t.same(resolveConflict({ outlook: { event }, salesforce: { record }, base }), { outcome: 'in_sync', merged: base, writes: {}, conflicts: [] })
})

t.test('writes come out in each system shape; modifiedAt defaults to the native times', async (t) => {
  const result = resolveConflict({
    outlook: { event: { ...event, subject: 'Outlook title', start: { dateTime: '2026-03-10T16:00:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2026-03-10T17:00:00', timeZone: 'Europe/Berlin' } } },
    salesforce: { record: { ...record, Subject: 'Salesforce title', ShowAs: 'OutOfOffice' } },
    base,
  })
  t.equal(result.outcome, 'resolved')
  t.same(result.conflicts, [{ field: 'subject', base: 'Quarterly review', outlook: 'Outlook title', salesforce: 'Salesforce title', winner: 'outlook', rule: 'last-modified' }])
  t.same(result.writes, {
    outlook: { op: 'update', patch: { showAs: 'oof' } },
    salesforce: {
      op: 'update',
      patch: { Subject: 'Outlook title', IsAllDayEvent: false, StartDateTime: '2026-03-10T15:00:00.000Z', EndDateTime: '2026-03-10T16:00:00.000Z' },
    },
  })
  t.same(result.merged, { ...base, subject: 'Outlook title', start: '2026-03-10T15:00:00.000Z', end: '2026-03-10T16:00:00.000Z', showAs: 'oof' })
})

t.test('an explicit modifiedAt overrides the native one; epoch ms accepted', async (t) => {
  const result = resolveConflict({
    outlook: { event: { ...event, subject: 'O' }, modifiedAt: Date.parse('2026-03-09T12:00:00Z') },
    salesforce: { record: { ...record, Subject: 'S' }, modifiedAt: '2026-03-09T13:00:00+02:00' },
    base,
  })
  t.equal(result.conflicts[0].winner, 'outlook')
})

t.test('all-day changes write whole timings in both shapes', async (t) => {
  const result = resolveConflict({
    outlook: { fields: { ...base, start: '2026-03-12', end: '2026-03-14', isAllDay: true } },
    salesforce: { fields: base },
    base,
  })
  t.same(result.writes, { salesforce: { op: 'update', patch: { IsAllDayEvent: true, ActivityDate: '2026-03-12', DurationInMinutes: 2880 } } })
  const allDay = { ...base, start: '2026-03-12', end: '2026-03-14', isAllDay: true }
  const back = resolveConflict({ outlook: { fields: base }, salesforce: { fields: allDay }, base: allDay })
  t.same(back.writes, {
    salesforce: { op: 'update', patch: { IsAllDayEvent: false, StartDateTime: base.start, EndDateTime: base.end } },
  }, 'and back to timed, with IsAllDayEvent false')
})

t.test('update wins over delete: the deleted side gets a create with the whole item', async (t) => {
  const result = resolveConflict({ outlook: { event: { ...event, subject: 'Still on' } }, salesforce: { deleted: true }, base })
  t.equal(result.outcome, 'resolved')
  t.equal(result.writes.salesforce?.op, 'create')
  t.same(result.writes.salesforce?.patch, {
    Subject: 'Still on',
    Location: 'Room 4.12',
    Description: 'Agenda',
    ShowAs: 'Busy',
    IsPrivate: false,
    IsAllDayEvent: false,
    StartDateTime: base.start,
    EndDateTime: base.end,
  })
  const tombstone = resolveConflict({ outlook: { event: { id: 'AAMk=', '@removed': { reason: 'deleted' } } }, salesforce: { record }, base })
  t.same(tombstone, { outcome: 'resolved', merged: null, writes: { salesforce: { op: 'delete' } }, conflicts: [] }, 'a delta tombstone counts as deleted')
})

t.test('attendees a Salesforce copy must change are its write\'s attendees, never its patch', async (t) => {
  const result = resolveConflict({
    outlook: { fields: { ...base, attendees: ['a@example.com'] } },
    salesforce: { fields: base },
    base: { ...base, attendees: [] },
  })
  t.equal(result.outcome, 'resolved')
  t.same(result.writes, { salesforce: { op: 'update', attendees: ['a@example.com'] } }, 'attendees alone: no patch, the whole list to match')
  t.same(result.merged?.attendees, ['a@example.com'])

  // Read from both systems (the record's EventRelations), an Outlook invitee added beside a Salesforce subject edit:
  // Salesforce gets the invitee with its write, so the next resolution does not find it removed there.
  const both = resolveConflict({
    outlook: { fields: { ...base, attendees: ['b@example.com', 'A@example.com'] } },
    salesforce: { record: { ...record, Subject: 'Renamed', EventRelations: { records: [{ IsInvitee: true, Relation: { Email: 'a@example.com' } }] } } },
    base: { ...base, attendees: ['a@example.com'] },
  })
  t.same(both.writes.salesforce, { op: 'update', attendees: ['a@example.com', 'b@example.com'] })
  t.same(both.writes.outlook?.patch, { subject: 'Renamed' })

  const recreated = resolveConflict({
    outlook: { fields: { ...base, subject: 'Moved on', attendees: ['a@example.com'] } },
    salesforce: { deleted: true },
    base: { ...base, attendees: [] },
  })
  t.equal(recreated.writes.salesforce?.op, 'create')
  t.same(recreated.writes.salesforce?.attendees, ['a@example.com'], 'a copy made anew lists the invitees too')
  t.notOk('attendees' in (recreated.writes.salesforce?.patch ?? {}))

  const untouched = resolveConflict({ outlook: { fields: { ...base, subject: 'Only the subject' } }, salesforce: { fields: base }, base })
  t.same(untouched.writes.salesforce, { op: 'update', patch: { Subject: 'Only the subject' } }, 'no attendees sent, none in the write')
})

t.test('custom Outlook zones are read as UTC and flagged', async (t) => {
  const result = resolveConflict({
    outlook: { event: { ...event, start: { dateTime: '2026-03-10T14:30:00.0000000', timeZone: 'tzone://Microsoft/Custom' }, end: { dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'tzone://Microsoft/Custom' } } },
    salesforce: { record },
    base,
  })
  t.equal(result.outcome, 'in_sync')
  t.same(result.warnings, ['outlook.event: a custom Outlook time zone was read as UTC'])
})

t.test('bad input names the field', async (t) => {
  const cases: Array<[unknown, string]> = [
    [{ policy: 'coin-toss', outlook: { fields: base }, salesforce: { fields: base } }, 'policy'],
    [{ deletePolicy: 'never', outlook: { fields: base }, salesforce: { fields: base } }, 'deletePolicy'],
    [{ fieldOwners: { colour: 'outlook' }, outlook: { fields: base }, salesforce: { fields: base } }, 'fieldOwners.colour'],
    [{ fieldOwners: { subject: 'mule' }, outlook: { fields: base }, salesforce: { fields: base } }, 'fieldOwners.subject'],
    [{ outlook: { event, fields: base }, salesforce: { fields: base } }, 'outlook'],
    [{ outlook: {}, salesforce: { fields: base } }, 'outlook'],
    [{ outlook: { fields: base }, salesforce: 'x' }, 'salesforce'],
    [{ outlook: { fields: base, deleted: 'yes' }, salesforce: { fields: base } }, 'outlook.deleted'],
    [{ outlook: { fields: base, modifiedAt: 'yesterday' }, salesforce: { fields: base } }, 'outlook.modifiedAt'],
    [{ outlook: { event: { ...event, start: { dateTime: '2026-03-10T15:30:00', timeZone: 'Atlantis' } } }, salesforce: { fields: base } }, 'outlook.event.start.timeZone'],
    [{ outlook: { fields: base }, salesforce: { record: { ...record, ShowAs: 'Maybe' } } }, 'salesforce.record.ShowAs'],
    [{ outlook: { fields: base }, salesforce: { fields: base }, base: { start: 'noon' } }, 'base.start'],
    [{ outlook: { fields: { start: '2026-03-11', isAllDay: true } }, salesforce: { fields: base }, base }, 'outlook.fields.end'],
  ]
  for (const [input, path] of cases) {
    t.throws(() => resolveConflict(input as never), { name: 'InvalidFieldError', path }, path)
  }
})
