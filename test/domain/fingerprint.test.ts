import t from 'tap'
import { canonicalizeFields, fingerprintFields, fingerprintFromNative, fingerprintItem } from '../../src/domain/fingerprint.js'
import { InvalidFieldError } from '../../src/domain/invalid-field.js'
import { readGraphEvent } from '../../src/domain/graph-event.js'

const HEX = /^[0-9a-f]{64}$/

t.test('hash is lower-case hex sha256 and ignores key order, recursively', async (t) => {
  const a = fingerprintFields({ subject: 'Review', extra: { b: 1, a: [1, { y: 2, x: 1 }] } })
  const b = fingerprintFields({ extra: { a: [1, { x: 1, y: 2 }], b: 1 }, subject: 'Review' })
  t.match(a, HEX)
  t.equal(a, b)
  t.not(a, fingerprintFields({ subject: 'Review', extra: { a: [{ x: 1, y: 2 }, 1], b: 1 } }), 'array order matters')
})

t.test('strings are trimmed and inner whitespace collapsed, canonical or not', async (t) => {
  t.equal(fingerprintFields({ subject: '  Quarterly\t review  ', note: ' a \n b ' }), fingerprintFields({ subject: 'Quarterly review', note: 'a b' }))
})

t.test('null, absent and empty are the same', async (t) => {
  const plain = fingerprintFields({ subject: 'x' })
  t.equal(fingerprintFields({ subject: 'x', location: null, other: undefined, attendees: [] }), plain)
  t.equal(fingerprintFields({ subject: 'x', location: '   ', description: '' }), plain)
})

t.test('start and end compare as UTC instants whatever the format', async (t) => {
  const want = fingerprintFields({ start: '2026-03-02T17:00:00.000Z', end: '2026-03-02T18:00:00Z' })
  t.equal(fingerprintFields({ start: '2026-03-02T18:00:00+01:00', end: '2026-03-02T13:00:00.0000000-05:00' }), want)
  t.equal(fingerprintFields({ start: Date.UTC(2026, 2, 2, 17), end: Date.UTC(2026, 2, 2, 18) }), want)
  t.equal(fingerprintFields({ start: '2026-03-02T17:00:00.0000000', end: '2026-03-02T18:00:00' }), want, 'no offset reads as UTC')
  t.equal(
    fingerprintFields({ start: { dateTime: '2026-03-02T09:00:00.0000000', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2026-03-02T10:00:00', timeZone: 'America/Los_Angeles' } }),
    want,
    'Windows and IANA zone names',
  )
  t.equal(fingerprintFields({ start: { dateTime: '2026-03-02T17:00:00.0000000', timeZone: 'UTC' }, end: '2026-03-02T18:00:00.000Z', isAllDay: false }), want, 'isAllDay false is implied by instants')
  t.not(fingerprintFields({ start: '2026-03-02T17:00:01Z', end: '2026-03-02T18:00:00Z' }), want)
})

t.test('canonical instants use the fixed format', async (t) => {
  const canonical = canonicalizeFields({ start: '2026-03-02T18:00:00.1234567+01:00', end: 1772474400000 })
  t.same(canonical, { end: '2026-03-02T18:00:00.000Z', isAllDay: false, start: '2026-03-02T17:00:00.123Z' })
})

t.test('every ISO date-time with an offset in other keys is an instant too', async (t) => {
  t.equal(fingerprintFields({ seenAt: '2026-03-02T18:00:00+01:00' }), fingerprintFields({ seenAt: '2026-03-02T17:00:00.000Z' }))
  t.equal(fingerprintFields({ nested: { at: { dateTime: '2026-03-02T18:00:00', timeZone: 'W. Europe Standard Time' } } }), fingerprintFields({ nested: { at: '2026-03-02T17:00:00Z' } }))
  t.not(fingerprintFields({ label: '2026-03-02' }), fingerprintFields({ label: '2026-03-02T00:00:00Z' }), 'plain dates stay dates')
})

t.test('all-day dates are never shifted through a zone', async (t) => {
  const want = canonicalizeFields({ start: '2026-03-05', end: '2026-03-06' })
  t.same(want, { end: '2026-03-06', isAllDay: true, start: '2026-03-05' })
  const graph = canonicalizeFields({
    isAllDay: true,
    start: { dateTime: '2026-03-05T00:00:00.0000000', timeZone: 'Pacific Standard Time' },
    end: { dateTime: '2026-03-06T00:00:00.0000000', timeZone: 'Pacific Standard Time' },
  })
  t.same(graph, want)
  t.same(canonicalizeFields({ isAllDay: true, start: '2026-03-05T00:00:00-08:00', end: Date.UTC(2026, 2, 6) }), want)
})

t.test('HTML bodies compare by their text; body and description are one field', async (t) => {
  const html = '<html><head><style>p{margin:0}</style></head><body><p>Agenda:&nbsp;<b>Q1</b> numbers</p><p>See <a href="https://x.example/plan">the plan</a></p></body></html>'
  const text = 'Agenda: Q1 numbers\r\n\r\nSee the plan'
  t.equal(fingerprintFields({ body: { contentType: 'html', content: html } }), fingerprintFields({ description: text }))
  t.equal(fingerprintFields({ description: html }), fingerprintFields({ body: text }))
  t.equal(fingerprintFields({ body: { contentType: 'text', content: ' Agenda: Q1 numbers\nSee the plan ' } }), fingerprintFields({ description: text }))
  t.equal(fingerprintFields({ description: 'if a < b and c > d' }), fingerprintFields({ description: 'if a < b  and c > d' }), 'text with angle brackets stays text')
  // a zero-width space is a character in both forms, not whitespace in one of them
  const zeroWidth = 'Budget\u200bline review'
  t.equal(fingerprintFields({ body: { contentType: 'html', content: `<html><body><div>${zeroWidth}</div></body></html>` } }), fingerprintFields({ description: zeroWidth }))
  t.not(fingerprintFields({ description: zeroWidth }), fingerprintFields({ description: 'Budget line review' }))
})

t.test('canonical keys get canonical treatment', async (t) => {
  const long = 'x'.repeat(300)
  t.equal(fingerprintFields({ subject: long }), fingerprintFields({ subject: 'x'.repeat(255) }))
  t.equal(fingerprintFields({ location: { displayName: 'Room 4' } }), fingerprintFields({ location: 'Room 4' }))
  t.equal(fingerprintFields({ showAs: 'tentative' }), fingerprintFields({ showAs: 'busy' }))
  t.equal(fingerprintFields({ showAs: 'workingElsewhere' }), fingerprintFields({ showAs: 'Free' }))
  t.equal(fingerprintFields({ showAs: 'OutOfOffice' }), fingerprintFields({ showAs: 'oof' }))
  t.not(fingerprintFields({ showAs: 'free' }), fingerprintFields({ showAs: 'busy' }))
  t.equal(
    fingerprintFields({ attendees: ['B@Example.com', { emailAddress: { address: 'a@example.com', name: 'A' } }, 'b@example.com'] }),
    fingerprintFields({ attendees: ['a@example.com', 'b@example.com'] }),
  )
  t.equal(
    fingerprintFields({ attendees: [' Room  4 <r4@example.com> ', { emailAddress: { address: 'a@example.com\t' } }] }),
    fingerprintFields({ attendees: ['a@example.com', 'room 4 <r4@example.com>'] }),
    'attendee strings are trimmed with inner whitespace collapsed, as every string',
  )
  t.not(fingerprintFields({ isPrivate: true }), fingerprintFields({ isPrivate: false }))
  t.equal(fingerprintFields({ description: 'y'.repeat(32_010) }), fingerprintFields({ description: 'y'.repeat(32_000) }))
})

t.test('a subject or location cut on a space hashes as Salesforce reads the cut back (trimmed)', async (t) => {
  const subject = `${'x'.repeat(254)} rest of a long subject`
  const location = `${'Building 4, '.repeat(21)}ab room`
  t.equal(location.charAt(254), ' ')
  t.equal(
    fingerprintFields({ subject, location }),
    fingerprintFields({ subject: 'x'.repeat(254), location: location.slice(0, 254) }),
    'what Outlook holds equals what Salesforce stored and reads back',
  )
  t.equal(fingerprintFields({ subject }), fingerprintFields({ subject: subject.slice(0, 255) }), 'and the untrimmed cut itself')
  t.not(fingerprintFields({ subject }), fingerprintFields({ subject: 'x'.repeat(253) }))
})

t.test('bad canonical values are InvalidFieldError naming the field', async (t) => {
  t.throws(() => fingerprintFields({ start: 'tomorrow' }), { name: 'InvalidFieldError', path: 'fields.start' })
  t.throws(() => fingerprintFields({ start: { dateTime: '2026-03-02T10:00:00', timeZone: 'Mars/Base' } }), { name: 'InvalidFieldError', path: 'fields.start.timeZone' })
  t.throws(() => fingerprintFields({ showAs: 'maybe' }), { name: 'InvalidFieldError', path: 'fields.showAs' })
  t.throws(() => fingerprintFields({ start: '2026-03-02T10:00:00Z', end: '2026-03-02T09:00:00Z' }), { name: 'InvalidFieldError', path: 'fields.end' })
  t.throws(() => fingerprintFromNative({ event: {}, fields: {} }, { basePath: '' }), InvalidFieldError)
})

// One meeting: Berlin 15:30-16:30 local on 2026-03-10 is 14:30-15:30 UTC.
const graphEvent = {
  id: 'AAMk=',
  subject: 'Quarterly review –  Northwind',
  body: { contentType: 'html', content: '<html><body><div>Agenda in the <b>account plan</b>.</div></body></html>' },
  start: { dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'W. Europe Standard Time' },
  end: { dateTime: '2026-03-10T16:30:00.0000000', timeZone: 'W. Europe Standard Time' },
  isAllDay: false,
  location: { displayName: 'Room 4.12', locationType: 'default' },
  showAs: 'tentative',
  sensitivity: 'normal',
  categories: ['Blue'],
  lastModifiedDateTime: '2026-03-09T09:31:10.4471032Z',
}
const salesforceRecord = {
  Id: '00U5g00000Xy12ZEAQ',
  Subject: 'Quarterly review – Northwind',
  StartDateTime: '2026-03-10T14:30:00.000+0000',
  EndDateTime: '2026-03-10T15:30:00.000+0000',
  ActivityDateTime: '2026-03-10T14:30:00.000+0000',
  ActivityDate: '2026-03-10',
  DurationInMinutes: 60,
  IsAllDayEvent: false,
  Location: 'Room 4.12',
  Description: 'Agenda in the account plan.',
  ShowAs: 'Busy',
  IsPrivate: false,
  Type: 'Meeting',
  LastModifiedDate: '2026-03-09T09:30:05.000+0000',
}

t.test('one meeting read from Graph and from Salesforce hashes equal', async (t) => {
  const fromGraph = fingerprintFromNative({ event: graphEvent })
  const fromSalesforce = fingerprintFromNative({ record: salesforceRecord })
  t.equal(fromGraph, fromSalesforce)
  const canonical = {
    subject: 'Quarterly review – Northwind',
    start: '2026-03-10T14:30:00.000Z',
    end: '2026-03-10T15:30:00.000Z',
    isAllDay: false,
    location: 'Room 4.12',
    description: 'Agenda in the account plan.',
    showAs: 'busy',
    isPrivate: false,
  }
  t.equal(fingerprintFromNative({ fields: canonical }), fromGraph)
  t.equal(fingerprintItem(readGraphEvent(graphEvent).item), fromGraph)
  t.not(fingerprintFromNative({ record: { ...salesforceRecord, Location: 'Room 5' } }), fromGraph)
})

t.test('the same all-day meeting from both systems, Pub/Sub epoch values included', async (t) => {
  const event = {
    subject: 'Offsite',
    isAllDay: true,
    start: { dateTime: '2026-03-05T00:00:00.0000000', timeZone: 'UTC' },
    end: { dateTime: '2026-03-07T00:00:00.0000000', timeZone: 'UTC' },
    sensitivity: 'private',
  }
  const record = { Subject: 'Offsite', IsAllDayEvent: true, ActivityDate: Date.UTC(2026, 2, 5), DurationInMinutes: 2880, IsPrivate: true }
  t.equal(fingerprintFromNative({ event }), fingerprintFromNative({ record }))
  t.equal(fingerprintFromNative({ event }), fingerprintFields({ subject: 'Offsite', start: '2026-03-05', end: '2026-03-07', isPrivate: true }))
})

t.test('omit leaves fields out of the hash', async (t) => {
  const withAttendees = { ...graphEvent, attendees: [{ emailAddress: { address: 'ann@example.com' } }] }
  t.not(fingerprintFromNative({ event: withAttendees }), fingerprintFromNative({ record: salesforceRecord }))
  t.equal(fingerprintFromNative({ event: withAttendees }, { omit: ['attendees'] }), fingerprintFromNative({ record: salesforceRecord }, { omit: ['attendees'] }))
})
