import t from 'tap'
import type { PartialCalendarItem } from '../../src/domain/calendar-item.js'
import { mergeCalendarItems, type CanonicalMergeInput } from '../../src/domain/merge.js'

const base: PartialCalendarItem = {
  subject: 'Review',
  start: '2026-03-10T14:00:00.000Z',
  end: '2026-03-10T15:00:00.000Z',
  isAllDay: false,
  location: 'Room 1',
  description: 'Agenda',
  showAs: 'busy',
  isPrivate: false,
}
const EARLY = Date.parse('2026-03-09T09:00:00Z')
const LATE = Date.parse('2026-03-09T10:00:00Z')

function merge(outlook: PartialCalendarItem, salesforce: PartialCalendarItem, extra: Omit<Partial<CanonicalMergeInput>, 'outlook' | 'salesforce'> = {}) {
  return mergeCalendarItems({
    base,
    ...extra,
    outlook: { item: { ...base, ...outlook }, modifiedAt: EARLY },
    salesforce: { item: { ...base, ...salesforce }, modifiedAt: LATE },
  })
}

t.test('equal sides are in_sync whatever the base says', async (t) => {
  const result = merge({ subject: 'New' }, { subject: 'New' })
  t.same(result, { outcome: 'in_sync', merged: { ...base, subject: 'New' }, writes: {}, conflicts: [] })
  t.equal(merge({ showAs: 'tentative' }, {}).outcome, 'in_sync', 'tentative and busy are one value to Salesforce')
  t.equal(merge({ showAs: 'tentative' }, {}).merged?.showAs, 'tentative', 'the richer value is kept')
})

t.test('one-sided changes flow under every policy', async (t) => {
  for (const policy of ['three-way-merge', 'last-modified-wins', 'outlook-wins', 'salesforce-wins', 'field-ownership'] as const) {
    const result = merge({ location: 'Room 2' }, { subject: 'Renamed' }, { policy })
    t.equal(result.outcome, 'resolved', policy)
    t.same(result.writes, { outlook: { op: 'update', fields: { subject: 'Renamed' } }, salesforce: { op: 'update', fields: { location: 'Room 2' } } }, policy)
    t.same(result.conflicts, [], policy)
    t.same(result.merged, { ...base, subject: 'Renamed', location: 'Room 2' }, policy)
  }
})

t.test('three-way-merge: owners settle conflicts, else the later modifiedAt', async (t) => {
  const owned = merge({ subject: 'O' }, { subject: 'S' }, { fieldOwners: { subject: 'outlook' } })
  t.equal(owned.outcome, 'resolved')
  t.same(owned.writes, { salesforce: { op: 'update', fields: { subject: 'O' } } })
  t.same(owned.conflicts, [{ field: 'subject', base: 'Review', outlook: 'O', salesforce: 'S', winner: 'outlook', rule: 'field-owner' }])
  const later = merge({ subject: 'O' }, { subject: 'S' })
  t.same(later.writes, { outlook: { op: 'update', fields: { subject: 'S' } } })
  t.equal(later.conflicts[0].rule, 'last-modified')
  t.equal(later.conflicts[0].winner, 'salesforce')
})

t.test('modifiedAt ties and gaps go to review with writes {} and merged = base', async (t) => {
  const tie = mergeCalendarItems({
    base,
    outlook: { item: { ...base, subject: 'O' }, modifiedAt: Date.parse('2026-03-09T10:00:00.400Z') },
    salesforce: { item: { ...base, subject: 'S' }, modifiedAt: LATE },
  })
  t.equal(tie.outcome, 'needs_review', 'same second is a tie: Salesforce has no milliseconds')
  t.same(tie.writes, {})
  t.same(tie.merged, base)
  t.equal(tie.conflicts[0].rule, 'modified-at-tie')
  t.equal(tie.conflicts[0].winner, null)
  const missing = mergeCalendarItems({ base, outlook: { item: { ...base, subject: 'O' } }, salesforce: { item: { ...base, subject: 'S' }, modifiedAt: LATE }, policy: 'last-modified-wins' })
  t.equal(missing.outcome, 'needs_review')
  t.equal(missing.conflicts[0].rule, 'modified-at-missing')
  const noBase = mergeCalendarItems({ outlook: { item: { subject: 'O' } }, salesforce: { item: { subject: 'S' } } })
  t.same(noBase, { outcome: 'needs_review', merged: null, writes: {}, conflicts: [{ field: 'subject', base: null, outlook: 'O', salesforce: 'S', winner: null, rule: 'modified-at-missing' }] })
})

t.test('source-of-truth policies', async (t) => {
  t.same(merge({ subject: 'O' }, { subject: 'S' }, { policy: 'outlook-wins' }).writes, { salesforce: { op: 'update', fields: { subject: 'O' } } })
  t.same(merge({ subject: 'O' }, { subject: 'S' }, { policy: 'salesforce-wins' }).writes, { outlook: { op: 'update', fields: { subject: 'S' } } })
  const lww = merge({ subject: 'O' }, { subject: 'S' }, { policy: 'last-modified-wins', fieldOwners: { subject: 'outlook' } })
  t.equal(lww.conflicts[0].winner, 'salesforce', 'owners do not matter to last-modified-wins')
})

t.test('field-ownership: owners always win, even reverting a one-sided change; unowned conflicts need review', async (t) => {
  const revert = merge({ subject: 'O' }, {}, { policy: 'field-ownership', fieldOwners: { subject: 'salesforce' } })
  t.equal(revert.outcome, 'resolved')
  t.same(revert.writes, { outlook: { op: 'update', fields: { subject: 'Review' } } })
  t.same(revert.merged, base)
  t.same(revert.conflicts, [{ field: 'subject', base: 'Review', outlook: 'O', salesforce: 'Review', winner: 'salesforce', rule: 'field-owner-revert' }])
  const unowned = merge({ subject: 'O', location: 'Room 2' }, { subject: 'S' }, { policy: 'field-ownership', fieldOwners: { location: 'salesforce' } })
  t.equal(unowned.outcome, 'needs_review')
  t.same(unowned.writes, {})
  t.same(unowned.conflicts.map((c) => [c.field, c.rule, c.winner]), [['subject', 'unowned-field', null], ['location', 'field-owner-revert', 'salesforce']])
  const flows = merge({ location: 'Room 2' }, {}, { policy: 'field-ownership', fieldOwners: { location: 'outlook' } })
  t.same(flows.writes, { salesforce: { op: 'update', fields: { location: 'Room 2' } } }, "the owner's own change flows")
})

t.test('timing moves as a unit and never mixes all-day with timed', async (t) => {
  const allDay = { start: '2026-03-11', end: '2026-03-12', isAllDay: true }
  const result = merge(allDay, { start: '2026-03-10T16:00:00.000Z', end: '2026-03-10T17:00:00.000Z' }, { policy: 'outlook-wins' })
  t.same(result.writes, { salesforce: { op: 'update', fields: allDay } })
  t.same(result.conflicts.map((c) => c.field), ['start', 'end', 'isAllDay'])
  const endOnly = merge({ end: '2026-03-10T16:00:00.000Z' }, {})
  t.same(endOnly.writes, { salesforce: { op: 'update', fields: { start: base.start, end: '2026-03-10T16:00:00.000Z', isAllDay: false } } })
  t.throws(
    () => mergeCalendarItems({ base, outlook: { item: { start: '2026-03-11', isAllDay: true }, path: 'outlook.fields' }, salesforce: { item: base } }),
    { name: 'InvalidFieldError', path: 'outlook.fields.end' },
  )
})

t.test('partial sides: an absent field is unknown, taken as unchanged since the base', async (t) => {
  const result = mergeCalendarItems({ base, outlook: { item: { subject: 'O' } }, salesforce: { item: { location: 'Room 9' } } })
  t.equal(result.outcome, 'resolved')
  t.same(result.writes, { outlook: { op: 'update', fields: { location: 'Room 9' } }, salesforce: { op: 'update', fields: { subject: 'O' } } })
  t.same(result.merged, { ...base, subject: 'O', location: 'Room 9' })
  const noBase = mergeCalendarItems({ outlook: { item: { subject: 'S', attendees: ['a@example.com'] } }, salesforce: { item: { subject: 'S' } } })
  t.same(noBase, { outcome: 'in_sync', merged: { subject: 'S', attendees: ['a@example.com'] }, writes: {}, conflicts: [] })
})

t.test('deletes', async (t) => {
  t.same(
    mergeCalendarItems({ base, outlook: { item: {}, deleted: true }, salesforce: { item: {}, deleted: true } }),
    { outcome: 'in_sync', merged: null, writes: {}, conflicts: [] },
  )
  t.same(
    mergeCalendarItems({ base, outlook: { item: {}, deleted: true }, salesforce: { item: base } }),
    { outcome: 'resolved', merged: null, writes: { salesforce: { op: 'delete' } }, conflicts: [] },
    'a delete against an unchanged side flows',
  )
  const changed = { ...base, subject: 'Moved on' }
  const updateWins = mergeCalendarItems({ base, outlook: { item: {}, deleted: true }, salesforce: { item: changed } })
  t.equal(updateWins.outcome, 'resolved')
  t.same(updateWins.merged, changed)
  t.same(updateWins.writes, { outlook: { op: 'create', fields: changed } })
  t.same(updateWins.conflicts, [{ field: 'deleted', base: false, outlook: true, salesforce: false, winner: 'salesforce', rule: 'update-wins' }])
  const deleteWins = mergeCalendarItems({ base, deletePolicy: 'delete-wins', outlook: { item: changed }, salesforce: { item: {}, deleted: true } })
  t.same(deleteWins.writes, { outlook: { op: 'delete' } })
  t.equal(deleteWins.merged, null)
  const review = mergeCalendarItems({ base, deletePolicy: 'review', outlook: { item: changed }, salesforce: { item: {}, deleted: true } })
  t.same(review, { outcome: 'needs_review', merged: base, writes: {}, conflicts: [{ field: 'deleted', base: false, outlook: false, salesforce: true, winner: null, rule: 'delete-review' }] })
  const noBase = mergeCalendarItems({ outlook: { item: base }, salesforce: { item: {}, deleted: true } })
  t.same(noBase.writes, { salesforce: { op: 'create', fields: base } }, 'without a base the live side counts as changed')
})
