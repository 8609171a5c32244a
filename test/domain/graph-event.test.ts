import t from 'tap'
import type { PartialCalendarItem } from '../../src/domain/calendar-item.js'
import { readGraphEvent, writeGraphPatch } from '../../src/domain/graph-event.js'

t.test('reads a Graph event into the canonical item', async (t) => {
  const { item, customZone } = readGraphEvent({
    id: 'AAMk=',
    subject: '  Quarterly  review ',
    body: { contentType: 'html', content: '<html><body><p>Agenda</p><ul><li>one</li><li>two</li></ul></body></html>' },
    start: { dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'W. Europe Standard Time' },
    end: { dateTime: '2026-03-10T16:30:00.0000000', timeZone: 'W. Europe Standard Time' },
    isAllDay: false,
    location: { displayName: 'Room 4.12', locationType: 'default' },
    showAs: 'workingElsewhere',
    sensitivity: 'confidential',
    attendees: [
      { type: 'required', emailAddress: { name: 'Bo', address: 'Bo@Example.com' } },
      { type: 'optional', emailAddress: { name: 'Al', address: 'al@example.com' } },
    ],
    categories: ['Red'],
  })
  t.equal(customZone, false)
  t.same(item, {
    subject: 'Quarterly review',
    start: '2026-03-10T14:30:00.000Z',
    end: '2026-03-10T15:30:00.000Z',
    isAllDay: false,
    location: 'Room 4.12',
    description: 'Agenda\n\n* one\n* two',
    showAs: 'workingElsewhere',
    isPrivate: true,
    attendees: ['al@example.com', 'bo@example.com'],
  })
})

t.test('all-day events read as plain dates, whatever the zone', async (t) => {
  const { item } = readGraphEvent({
    isAllDay: true,
    start: { dateTime: '2026-03-05T00:00:00.0000000', timeZone: 'Hawaiian Standard Time' },
    end: { dateTime: '2026-03-06T00:00:00.0000000', timeZone: 'Hawaiian Standard Time' },
  })
  t.same(item, { start: '2026-03-05', end: '2026-03-06', isAllDay: true })
})

t.test('sensitivities, text bodies, custom zones, partial events', async (t) => {
  t.equal(readGraphEvent({ sensitivity: 'personal' }).item.isPrivate, true)
  t.equal(readGraphEvent({ sensitivity: 'normal' }).item.isPrivate, false)
  t.equal(readGraphEvent({ body: { contentType: 'text', content: 'a\r\nb' } }).item.description, 'a\nb')
  t.same(readGraphEvent({ id: 'x' }).item, {}, 'absent properties stay unknown')
  const custom = readGraphEvent({ start: { dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'tzone://Microsoft/Custom' } })
  t.equal(custom.customZone, true)
  t.equal(custom.item.start, '2026-03-10T15:30:00.000Z')
  t.throws(() => readGraphEvent({ sensitivity: 'secret' }), { name: 'InvalidFieldError', path: 'event.sensitivity' })
  t.throws(() => readGraphEvent({ attendees: [{ emailAddress: { address: 42 } }] }), { name: 'InvalidFieldError', path: 'event.attendees.0' })
  t.throws(() => readGraphEvent([]), { name: 'InvalidFieldError', path: 'event' })
})

t.test('writes a Graph patch', async (t) => {
  t.same(
    writeGraphPatch({
      subject: 'S',
      start: '2026-03-10T14:30:00.000Z',
      end: '2026-03-10T15:30:00.000Z',
      isAllDay: false,
      description: 'text',
      location: null,
      showAs: 'oof',
      isPrivate: true,
      attendees: ['a@example.com'],
    }),
    {
      subject: 'S',
      body: { contentType: 'text', content: 'text' },
      location: { displayName: '' },
      showAs: 'oof',
      sensitivity: 'private',
      attendees: [{ emailAddress: { address: 'a@example.com' }, type: 'required' }],
      start: { dateTime: '2026-03-10T14:30:00.0000000', timeZone: 'UTC' },
      end: { dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'UTC' },
      isAllDay: false,
    },
  )
  t.same(writeGraphPatch({ start: '2026-03-05', end: '2026-03-07', isAllDay: true }), {
    start: { dateTime: '2026-03-05T00:00:00.0000000', timeZone: 'UTC' },
    end: { dateTime: '2026-03-07T00:00:00.0000000', timeZone: 'UTC' },
    isAllDay: true,
  })
  t.same(writeGraphPatch({ isPrivate: false }), { sensitivity: 'normal' })
  t.same(writeGraphPatch({}), {})
})

const timed = (start: string, end: string): PartialCalendarItem => ({ start, end, isAllDay: false })
const ROUND_TRIPS: Array<[string, PartialCalendarItem]> = [
  ['full timed item', {
    subject: 'Quarterly review – Northwind',
    start: '2026-03-10T14:30:00.000Z',
    end: '2026-03-10T15:30:00.000Z',
    isAllDay: false,
    location: 'Room 4.12',
    description: 'Line one\n\nLine two with <angle> & ampersand',
    showAs: 'tentative',
    isPrivate: false,
    attendees: ['a@example.com', 'b@example.com'],
  }],
  ['across US DST start', timed('2026-03-08T09:30:00.000Z', '2026-03-08T11:00:00.000Z')],
  ['across EU DST start', timed('2026-03-29T00:30:00.000Z', '2026-03-29T02:30:00.000Z')],
  ['milliseconds kept', timed('2026-03-10T14:30:00.123Z', '2026-03-10T14:30:00.999Z')],
  ['all-day single day', { start: '2026-03-29', end: '2026-03-30', isAllDay: true }],
  ['all-day multi-day over DST', { start: '2026-03-07', end: '2026-03-10', isAllDay: true, subject: 'Trip' }],
  ['cleared values', { subject: null, location: null, description: null, attendees: [] }],
]

t.test('canonical -> Graph patch -> canonical is the identity', async (t) => {
  for (const [name, item] of ROUND_TRIPS) {
    const back = readGraphEvent(writeGraphPatch(item)).item
    const want = { ...item }
    t.same(back, want, name)
  }
})

t.test('a Graph event in any zone -> canonical -> Graph patch -> canonical keeps the instants', async (t) => {
  const zones = ['Pacific Standard Time', 'America/New_York', 'W. Europe Standard Time', 'Europe/London', 'AUS Eastern Standard Time', 'UTC']
  for (const timeZone of zones) {
    for (const day of ['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-28', '2026-03-29', '2026-03-30', '2026-10-25', '2026-11-01']) {
      const event = { start: { dateTime: `${day}T10:00:00.0000000`, timeZone }, end: { dateTime: `${day}T11:15:00.0000000`, timeZone } }
      const first = readGraphEvent(event).item
      t.equal(Date.parse(first.end as string) - Date.parse(first.start as string), 75 * 60_000, `${timeZone} ${day} duration`)
      t.same(readGraphEvent(writeGraphPatch(first)).item, first, `${timeZone} ${day}`)
    }
  }
})
