import t from 'tap'
import {
  DESCRIPTION_MAX,
  SUBJECT_MAX,
  comparableItem,
  cutToLimit,
  normalizeCalendarItem,
  sameFieldValue,
} from '../../src/domain/calendar-item.js'
import { looksLikeHtml, truncateText } from '../../src/domain/plain-text.js'
import { readSalesforceRecord, writeSalesforcePatch } from '../../src/domain/salesforce-event.js'

t.test('normalises a partial canonical item leniently', async (t) => {
  t.same(
    normalizeCalendarItem({
      subject: ' Plan\n  ahead ',
      body: { contentType: 'html', content: '<div>Line&nbsp;1</div><div>Line 2</div>' },
      location: { displayName: 'HQ' },
      showAs: 'OutOfOffice',
      isPrivate: false,
      attendees: ['B@x.com', { emailAddress: { address: 'a@x.com' } }, { address: 'b@x.com' }, ''],
      start: { dateTime: '2026-03-10T09:00:00.0000000', timeZone: 'Eastern Standard Time' },
      end: '2026-03-10T15:00:00+01:00',
      ignored: 'not canonical',
    }),
    {
      subject: 'Plan ahead',
      location: 'HQ',
      description: 'Line 1\nLine 2',
      showAs: 'oof',
      isPrivate: false,
      attendees: ['a@x.com', 'b@x.com'],
      isAllDay: false,
      start: '2026-03-10T13:00:00.000Z',
      end: '2026-03-10T14:00:00.000Z',
    },
  )
  t.same(normalizeCalendarItem({}), {})
  t.same(normalizeCalendarItem({ subject: null, start: null, isAllDay: null }), { subject: null, start: null, isAllDay: null })
})

t.test('timing rules', async (t) => {
  t.same(normalizeCalendarItem({ start: '2026-03-05', end: '2026-03-06' }), { start: '2026-03-05', end: '2026-03-06', isAllDay: true })
  t.throws(() => normalizeCalendarItem({ start: '2026-03-05', end: '2026-03-05T10:00:00Z' }), { name: 'InvalidFieldError', path: 'fields.end' })
  t.throws(() => normalizeCalendarItem({ start: '2026-03-05', end: '2026-03-05' }), { name: 'InvalidFieldError', path: 'fields.end' }, 'all-day end is exclusive')
  t.throws(() => normalizeCalendarItem({ start: '2026-03-05', isAllDay: false }), { name: 'InvalidFieldError', path: 'fields.start' })
  t.throws(() => normalizeCalendarItem({ isAllDay: 'yes' }), { name: 'InvalidFieldError', path: 'fields.isAllDay' })
  t.throws(() => normalizeCalendarItem('x', 'base'), { name: 'InvalidFieldError', path: 'base' })
  t.throws(() => normalizeCalendarItem({ attendees: 'a@x.com' }), { name: 'InvalidFieldError', path: 'fields.attendees' })
  t.throws(() => normalizeCalendarItem({ body: { contentType: 'rtf', content: 'x' } }), { name: 'InvalidFieldError', path: 'fields.body.contentType' })
  t.throws(() => normalizeCalendarItem({ subject: 42 }), { name: 'InvalidFieldError', path: 'fields.subject' })
})

t.test('comparison forms fold what the systems cannot tell apart', async (t) => {
  t.ok(sameFieldValue('showAs', 'unknown', 'busy'))
  t.notOk(sameFieldValue('showAs', 'oof', 'busy'))
  t.ok(sameFieldValue('description', 'a\n\nb', 'a b'))
  t.ok(sameFieldValue('attendees', [], null))
  t.ok(sameFieldValue('location', undefined, null))
  t.same(comparableItem({ subject: 'S', location: null, showAs: 'workingElsewhere', attendees: [] }), { subject: 'S', showAs: 'free' })
})

t.test('text helpers', async (t) => {
  t.ok(looksLikeHtml('<p>x</p>'))
  t.ok(looksLikeHtml('a<br>b'))
  t.notOk(looksLikeHtml('a < b > c'))
  t.notOk(looksLikeHtml('use <placeholder> here'))
  // a known tag name counts only with its closing tag, or as a tag that is HTML alone
  t.notOk(looksLikeHtml('Press <Enter> to continue; a<b and c>d'), 'a tag-like run with no closing tag is text')
  t.notOk(looksLikeHtml('<p> marks a paragraph'))
  t.ok(looksLikeHtml('Use <b>only</b> the side door'))
  t.ok(looksLikeHtml('<DIV class="x">a</div>'), 'names match in any case')
  t.ok(looksLikeHtml('line<br/>next'))
  t.ok(looksLikeHtml('line<br clear="all">next'))
  t.notOk(looksLikeHtml('see <style-guide> v1'), 'a word in angle brackets that starts like a tag is text')
  t.notOk(looksLikeHtml('Ask <HR-Team> first'))
  t.notOk(looksLikeHtml('<b-side> and </b>'), 'a paired tag name ends at a space, / or >')
  t.ok(looksLikeHtml('<img src="cid:logo">'))
  t.ok(looksLikeHtml('<!DOCTYPE html><title>x</title>'))
  const deep = '<div>'.repeat(20_000)
  t.throws(() => normalizeCalendarItem({ description: { contentType: 'html', content: deep } }, 'fields'), { name: 'InvalidFieldError', path: 'fields.description.content' })
  t.throws(() => normalizeCalendarItem({ description: `${deep}</div>` }, 'fields'), { name: 'InvalidFieldError', path: 'fields.description' })
  // a body object must say its content: a misnamed key is refused, not read as an empty description to write
  t.throws(() => normalizeCalendarItem({ description: { text: 'agenda' } }, 'fields'), { name: 'InvalidFieldError', path: 'fields.description.content', message: /is required/ })
  t.throws(() => normalizeCalendarItem({ description: { contentType: 'html' } }, 'fields'), { name: 'InvalidFieldError', path: 'fields.description.content' })
  t.equal(normalizeCalendarItem({ description: { contentType: 'text', content: null } }, 'fields').description, null, 'content null: no text')
  // table cells keep a space between them, rows a line: the text written to Salesforce must not run "a" and "b" together
  const table = '<table><tr><th>Name</th><th>Room</th></tr><tr><td>Ann</td><td>5</td></tr></table>'
  t.equal(normalizeCalendarItem({ description: { contentType: 'html', content: table } }, 'fields').description, 'Name Room\n\nAnn 5')
  t.same(readSalesforceRecord({ Description: 'Press <Enter>; a<b and c>d' }), { description: 'Press <Enter>; a<b and c>d' }, 'a Salesforce Description reads as the fields form does')
  t.equal(truncateText('ab😀', 3), 'ab', 'a surrogate pair is never split')
  t.equal(truncateText('abc', 3), 'abc')
})

t.test('a text cut at its limit never ends in whitespace (Salesforce reads the cut back trimmed)', async (t) => {
  const subject = `${'a'.repeat(254)} tail beyond the limit`
  t.equal(subject.charAt(254), ' ', 'the 255-character cut ends in a space')
  t.equal(cutToLimit(subject, SUBJECT_MAX), 'a'.repeat(254))
  t.equal(cutToLimit('short ', SUBJECT_MAX), 'short ', 'text within the limit is left alone')
  const storedBySalesforce = normalizeCalendarItem({ subject: subject.slice(0, SUBJECT_MAX), location: `${'r'.repeat(254)} x` })
  t.ok(sameFieldValue('subject', subject, storedBySalesforce.subject), 'the long subject equals its cut as read back')
  t.ok(sameFieldValue('location', `${'r'.repeat(254)} room 7`, storedBySalesforce.location))
  t.notOk(sameFieldValue('subject', subject, 'a'.repeat(253)), 'a shorter subject still differs')

  const description = `${'d'.repeat(DESCRIPTION_MAX - 1)}\nmore`
  const cutDescription = normalizeCalendarItem({ description: description.slice(0, DESCRIPTION_MAX) }).description
  t.ok(sameFieldValue('description', description, cutDescription), 'a description cut on a line break')
})

t.test('the Salesforce patch writes the trimmed cut, so what is written is what reads back', async (t) => {
  const item = { subject: `${'s'.repeat(254)} and more`, location: `${'l'.repeat(254)} 2`, description: `${'d'.repeat(DESCRIPTION_MAX - 1)} x` }
  const patch = writeSalesforcePatch(item)
  t.equal(patch.Subject, 's'.repeat(254))
  t.equal(patch.Location, 'l'.repeat(254))
  t.equal(patch.Description, 'd'.repeat(DESCRIPTION_MAX - 1))
  t.same(comparableItem(readSalesforceRecord(patch)), comparableItem(item), 'the round trip compares equal to the source')
})
