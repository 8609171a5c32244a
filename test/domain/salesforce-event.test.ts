import t from 'tap'
import type { PartialCalendarItem } from '../../src/domain/calendar-item.js'
import { LOSSY_MAPPINGS, readSalesforceRecord, writeSalesforcePatch } from '../../src/domain/salesforce-event.js'

t.test('reads a REST Event record', async (t) => {
  t.same(
    readSalesforceRecord({
      Id: '00U5g00000Xy12ZEAQ',
      Subject: 'Quarterly review',
      StartDateTime: '2026-03-10T14:30:00.000+0000',
      EndDateTime: '2026-03-10T15:30:00.000+0000',
      ActivityDate: '2026-03-10',
      IsAllDayEvent: false,
      DurationInMinutes: 60,
      Location: 'Room 4.12',
      Description: 'Agenda\r\nline 2',
      ShowAs: 'OutOfOffice',
      IsPrivate: true,
      EventRelations: { totalSize: 2, done: true, records: [{ IsInvitee: true, Relation: { Email: 'Zed@example.com' } }, { IsInvitee: false, Relation: { Email: 'who@example.com' } }] },
    }),
    {
      subject: 'Quarterly review',
      start: '2026-03-10T14:30:00.000Z',
      end: '2026-03-10T15:30:00.000Z',
      isAllDay: false,
      location: 'Room 4.12',
      description: 'Agenda\nline 2',
      showAs: 'oof',
      isPrivate: true,
      attendees: ['zed@example.com'],
    },
  )
})

t.test('timed end from DurationInMinutes, epoch ms values', async (t) => {
  t.same(readSalesforceRecord({ ActivityDateTime: 1773151200000, DurationInMinutes: 90, IsAllDayEvent: false }), {
    start: '2026-03-10T14:00:00.000Z',
    end: '2026-03-10T15:30:00.000Z',
    isAllDay: false,
  })
})

t.test('all-day records: duration, inclusive EndDateTime, or one day', async (t) => {
  t.same(readSalesforceRecord({ IsAllDayEvent: true, ActivityDate: '2026-03-05', DurationInMinutes: 2880 }), { start: '2026-03-05', end: '2026-03-07', isAllDay: true })
  t.same(
    readSalesforceRecord({ IsAllDayEvent: true, StartDateTime: '2026-03-05T00:00:00.000+0000', EndDateTime: '2026-03-05T00:00:00.000+0000' }),
    { start: '2026-03-05', end: '2026-03-06', isAllDay: true },
    'EndDateTime on the same day is a one-day event',
  )
  t.same(readSalesforceRecord({ IsAllDayEvent: true, ActivityDate: Date.UTC(2026, 2, 5) }), { start: '2026-03-05', end: '2026-03-06', isAllDay: true })
})

t.test('bad records name the field', async (t) => {
  t.throws(() => readSalesforceRecord({ ShowAs: 'Tentative' }), { name: 'InvalidFieldError', path: 'record.ShowAs' })
  t.throws(() => readSalesforceRecord({ StartDateTime: 'noon' }), { name: 'InvalidFieldError', path: 'record.StartDateTime' })
  t.throws(() => readSalesforceRecord({ StartDateTime: '2026-03-10T14:00:00Z', DurationInMinutes: -5 }), { name: 'InvalidFieldError', path: 'record.DurationInMinutes' })
  // past 14 days is no Salesforce event; 1e12 minutes made the all-day end null, which a write would have dropped
  for (const IsAllDayEvent of [true, false]) {
    t.throws(() => readSalesforceRecord({ IsAllDayEvent, StartDateTime: '2026-03-10T00:00:00Z', DurationInMinutes: 1e12 }), { path: 'record.DurationInMinutes', message: /at most 20160/ })
  }
  t.same(readSalesforceRecord({ IsAllDayEvent: true, ActivityDate: '2026-03-05', DurationInMinutes: 20160 }), { start: '2026-03-05', end: '2026-03-19', isAllDay: true })
  t.throws(() => readSalesforceRecord({ IsAllDayEvent: 'yes', ActivityDate: '2026-03-05' }), { name: 'InvalidFieldError', path: 'record.IsAllDayEvent' })
  t.throws(() => readSalesforceRecord('x'), { name: 'InvalidFieldError', path: 'record' })
})

t.test('writes a Salesforce patch', async (t) => {
  t.same(
    writeSalesforcePatch({
      subject: 'x'.repeat(300),
      start: '2026-03-10T14:30:00.000Z',
      end: '2026-03-10T15:30:00.000Z',
      isAllDay: false,
      location: null,
      description: 'text',
      showAs: 'tentative',
      isPrivate: true,
      attendees: ['a@example.com'],
    }),
    {
      Subject: 'x'.repeat(255),
      Location: null,
      Description: 'text',
      ShowAs: 'Busy',
      IsPrivate: true,
      IsAllDayEvent: false,
      StartDateTime: '2026-03-10T14:30:00.000Z',
      EndDateTime: '2026-03-10T15:30:00.000Z',
    },
  )
  t.same(writeSalesforcePatch({ start: '2026-03-05', end: '2026-03-08', isAllDay: true }), { IsAllDayEvent: true, ActivityDate: '2026-03-05', DurationInMinutes: 4320 })
  t.same(writeSalesforcePatch({ showAs: 'workingElsewhere' }), { ShowAs: 'Free' })
  t.same(writeSalesforcePatch({ attendees: ['a@example.com'] }), {}, 'attendees are EventRelation rows, never an Event field')
  t.ok(LOSSY_MAPPINGS.length > 0)
})

const ROUND_TRIPS: Array<[string, PartialCalendarItem]> = [
  ['full timed item', {
    subject: 'Quarterly review – Northwind',
    start: '2026-03-10T14:30:00.000Z',
    end: '2026-03-10T15:30:00.000Z',
    isAllDay: false,
    location: 'Room 4.12',
    description: 'Line one\n\nLine two',
    showAs: 'oof',
    isPrivate: true,
  }],
  ['US DST night', { start: '2026-03-08T09:30:00.000Z', end: '2026-03-08T11:00:00.000Z', isAllDay: false }],
  ['EU DST night', { start: '2026-03-29T00:30:00.000Z', end: '2026-03-29T02:30:00.000Z', isAllDay: false, showAs: 'free' }],
  ['all-day single day on a DST day', { start: '2026-03-08', end: '2026-03-09', isAllDay: true, showAs: 'busy' }],
  ['all-day multi-day over EU DST', { start: '2026-03-27', end: '2026-03-31', isAllDay: true, isPrivate: false }],
  ['cleared text', { subject: null, location: null, description: null }],
]

t.test('canonical -> Salesforce patch -> canonical is the identity', async (t) => {
  for (const [name, item] of ROUND_TRIPS) {
    t.same(readSalesforceRecord(writeSalesforcePatch(item)), item, name)
  }
})
