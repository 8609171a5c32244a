import fc from 'fast-check'
import t from 'tap'
import { CALENDAR_FIELDS, type CalendarField, type PartialCalendarItem } from '../../src/domain/calendar-item.js'
import {
  CONFLICT_POLICIES,
  DELETE_POLICIES,
  mergeCalendarItems,
  type CanonicalMergeInput,
  type CanonicalMergeResult,
  type Conflict,
  type Side,
} from '../../src/domain/merge.js'
import { resolveConflict } from '../../src/domain/resolve-conflict.js'

const NUM_RUNS = 200
const LONG = 'L'.repeat(255)

// Small pools so equal values, one-sided changes and lossy near-equals (tentative ~ busy, a 255-character cut,
// whitespace-only differences) all come up often.
const timings: PartialCalendarItem[] = [
  { start: '2026-03-08T09:00:00.000Z', end: '2026-03-08T10:00:00.000Z', isAllDay: false },
  { start: '2026-03-29T08:00:00.000Z', end: '2026-03-29T09:30:00.000Z', isAllDay: false },
  { start: '2026-03-08', end: '2026-03-09', isAllDay: true },
  { start: '2026-03-27', end: '2026-03-31', isAllDay: true },
]
const itemArb: fc.Arbitrary<PartialCalendarItem> = fc
  .tuple(
    fc.record(
      {
        subject: fc.constantFrom(null, 'Review', 'Planning', `${LONG}A`, `${LONG}B`),
        location: fc.constantFrom(null, 'Room 1', 'Room 2'),
        description: fc.constantFrom(null, 'Agenda', 'Agenda\n\nitems', 'Agenda items'),
        showAs: fc.constantFrom('free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown', null),
        isPrivate: fc.constantFrom(true, false, null),
        attendees: fc.constantFrom(null, [], ['a@example.com'], ['a@example.com', 'b@example.com']),
      },
      { requiredKeys: [] },
    ),
    fc.option(fc.constantFrom(...timings), { nil: undefined }),
  )
  .map(([fields, timing]) => ({ ...fields, ...timing }) as PartialCalendarItem)

const T0 = Date.parse('2026-03-09T10:00:00Z')
const modifiedAtArb = fc.option(fc.constantFrom(T0, T0 + 400, T0 + 1000, T0 + 60_000), { nil: undefined })
const sideArb = fc.record({ item: itemArb, modifiedAt: modifiedAtArb, deleted: fc.constantFrom(false, false, false, true) })
const sideNameArb = fc.constantFrom<Side>('outlook', 'salesforce')
const ownersArb = fc.dictionary(fc.constantFrom(...CALENDAR_FIELDS), sideNameArb, { maxKeys: 4 }) as fc.Arbitrary<Partial<Record<CalendarField, Side>>>
const inputArb: fc.Arbitrary<CanonicalMergeInput> = fc.record({
  policy: fc.constantFrom(...CONFLICT_POLICIES),
  deletePolicy: fc.constantFrom(...DELETE_POLICIES),
  fieldOwners: ownersArb,
  outlook: sideArb,
  salesforce: sideArb,
  base: fc.option(itemArb, { nil: null }),
})

const swapSide = (side: Side | null): Side | null => (side === 'outlook' ? 'salesforce' : side === 'salesforce' ? 'outlook' : null)

function swapInput(input: CanonicalMergeInput): CanonicalMergeInput {
  const owners: Partial<Record<CalendarField, Side>> = {}
  for (const [field, owner] of Object.entries(input.fieldOwners ?? {})) owners[field as CalendarField] = swapSide(owner) as Side
  const policy = input.policy === 'outlook-wins' ? 'salesforce-wins' : input.policy === 'salesforce-wins' ? 'outlook-wins' : input.policy
  return { ...input, policy, fieldOwners: owners, outlook: input.salesforce, salesforce: input.outlook }
}

function swapConflict(conflict: Conflict): Conflict {
  const rule = conflict.rule === 'outlook-wins' ? 'salesforce-wins' : conflict.rule === 'salesforce-wins' ? 'outlook-wins' : conflict.rule
  return { ...conflict, outlook: conflict.salesforce, salesforce: conflict.outlook, winner: swapSide(conflict.winner), rule }
}

function swapResult(result: CanonicalMergeResult): CanonicalMergeResult {
  const writes: CanonicalMergeResult['writes'] = {}
  if (result.writes.outlook) writes.salesforce = result.writes.outlook
  if (result.writes.salesforce) writes.outlook = result.writes.salesforce
  return { ...result, writes, conflicts: result.conflicts.map(swapConflict) }
}

/** The merge throws only for a timing that cannot be completed from the base; the pools never produce one. */
function mergeSafely(input: CanonicalMergeInput): CanonicalMergeResult {
  return mergeCalendarItems(input)
}

t.test('symmetric when the sides and the owners are swapped', async (t) => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const straight = mergeSafely(input)
      const swapped = mergeSafely(swapInput(input))
      t.strictSame(swapResult(swapped), straight)
      return true
    }),
    { numRuns: NUM_RUNS },
  )
})

t.test('idempotent: the merged item on both sides is in_sync', async (t) => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const result = mergeSafely(input)
      const merged = result.merged
      const again = mergeSafely({
        ...input,
        outlook: merged === null ? { item: {}, deleted: true } : { item: merged, modifiedAt: input.outlook.modifiedAt },
        salesforce: merged === null ? { item: {}, deleted: true } : { item: merged, modifiedAt: input.salesforce.modifiedAt },
      })
      return again.outcome === 'in_sync' && Object.keys(again.writes).length === 0
    }),
    { numRuns: NUM_RUNS },
  )
})

t.test('idempotent through resolveConflict too: merged sent as fields on both sides', async (t) => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const merged = mergeSafely(input).merged
      if (merged === null) return true
      const again = resolveConflict({ outlook: { fields: merged }, salesforce: { fields: merged }, base: input.base })
      return again.outcome === 'in_sync' && Object.keys(again.writes).length === 0
    }),
    { numRuns: NUM_RUNS },
  )
})

t.test('applying the writes brings both sides together', async (t) => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const result = mergeSafely(input)
      if (result.outcome === 'needs_review') return true
      const after = (side: Side) => {
        const write = result.writes[side]
        const current = input[side]
        if (write?.op === 'delete') return { item: {}, deleted: true }
        if (write?.op === 'create') return { item: write.fields ?? {} }
        return { item: { ...current.item, ...write?.fields }, deleted: current.deleted }
      }
      const again = mergeSafely({ ...input, base: result.merged, outlook: after('outlook'), salesforce: after('salesforce') })
      return again.outcome === 'in_sync'
    }),
    { numRuns: NUM_RUNS },
  )
})

t.test('never invents a value that neither side nor the base had', async (t) => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const result = mergeSafely(input)
      const known = (field: CalendarField, value: unknown) =>
        [input.outlook.item, input.salesforce.item, input.base ?? {}].some((item) => JSON.stringify(item[field]) === JSON.stringify(value))
      const produced = [result.merged ?? {}, ...Object.values(result.writes).map((write) => write?.fields ?? {})]
      for (const item of produced) {
        for (const field of CALENDAR_FIELDS) {
          if (item[field] !== undefined && !known(field, item[field])) return false
        }
      }
      return true
    }),
    { numRuns: NUM_RUNS },
  )
})
