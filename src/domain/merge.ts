// Conflict policies over canonical items: a field-level three-way merge deciding what each side must change.
import {
  CALENDAR_FIELDS,
  TIMING_FIELDS,
  sameFieldValue,
  type CalendarField,
  type PartialCalendarItem,
} from './calendar-item.js'
import { InvalidFieldError, joinPath } from './invalid-field.js'

export const CONFLICT_POLICIES = ['three-way-merge', 'last-modified-wins', 'outlook-wins', 'salesforce-wins', 'field-ownership'] as const
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number]
export const DELETE_POLICIES = ['update-wins', 'delete-wins', 'review'] as const
export type DeletePolicy = (typeof DELETE_POLICIES)[number]
export const SIDES = ['outlook', 'salesforce'] as const
export type Side = (typeof SIDES)[number]
export type Outcome = 'in_sync' | 'resolved' | 'needs_review'

/**
 * Why a conflict went the way it did. A null winner (the last three, and `delete-review`) means a person decides.
 * `field-owner-revert` is no conflict in the strict sense: under field-ownership a change by the side that does
 * not own the field is undone, and the list says so.
 */
export type ConflictRule =
  | 'field-owner'
  | 'field-owner-revert'
  | 'last-modified'
  | 'outlook-wins'
  | 'salesforce-wins'
  | 'update-wins'
  | 'delete-wins'
  | 'unowned-field'
  | 'modified-at-tie'
  | 'modified-at-missing'
  | 'delete-review'

export interface Conflict {
  /** A canonical field, or `deleted` for a delete against an update. */
  field: CalendarField | 'deleted'
  base: unknown
  outlook: unknown
  salesforce: unknown
  winner: Side | null
  rule: ConflictRule
}

export interface MergeSide {
  item: PartialCalendarItem
  /** Epoch ms of the side's last change. */
  modifiedAt?: number
  deleted?: boolean
  /** Where the side's item came from in the request, for error paths (e.g. `outlook.event`). */
  path?: string
}

export interface CanonicalMergeInput {
  policy?: ConflictPolicy
  fieldOwners?: Partial<Record<CalendarField, Side>>
  deletePolicy?: DeletePolicy
  outlook: MergeSide
  salesforce: MergeSide
  base?: PartialCalendarItem | null
}

export interface CanonicalWrite {
  op: 'update' | 'create' | 'delete'
  /** The canonical fields to set (the whole item for create). */
  fields?: PartialCalendarItem
}

export interface CanonicalMergeResult {
  outcome: Outcome
  merged: PartialCalendarItem | null
  writes: Partial<Record<Side, CanonicalWrite>>
  conflicts: Conflict[]
}

/**
 * Whole seconds: Salesforce's LastModifiedDate has no milliseconds, so a Graph time 0.4 s "later" in the same
 * second says nothing about which edit came last. Such ties go to review.
 */
export const MODIFIED_AT_PRECISION_MS = 1000

interface Unit {
  fields: readonly CalendarField[]
}

// Timing is one unit: a start without its end (or all-day flag) could pair a date with an instant.
const UNITS: Unit[] = CALENDAR_FIELDS.filter((field) => !(TIMING_FIELDS as readonly string[]).includes(field)).map((field) => ({ fields: [field] }))
UNITS.splice(1, 0, { fields: TIMING_FIELDS })

type UnitValue = PartialCalendarItem

const other = (side: Side): Side => (side === 'outlook' ? 'salesforce' : 'outlook')

/**
 * Settles two changed copies of one item against their last agreed state. Fields a side does not carry are
 * unknown for it and taken as unchanged since the base; without a base they are left as the other side has them.
 * Throws InvalidFieldError when a side's timing, completed from the base, is no valid timing.
 */
export function mergeCalendarItems(input: CanonicalMergeInput): CanonicalMergeResult {
  const base = input.base ?? null
  const { outlook, salesforce } = input
  if (outlook.deleted && salesforce.deleted) return { outcome: 'in_sync', merged: null, writes: {}, conflicts: [] }
  if (outlook.deleted || salesforce.deleted) return mergeDelete(input, base)

  const policy = input.policy ?? 'three-way-merge'
  const owners = input.fieldOwners ?? {}
  const merged: PartialCalendarItem = {}
  const changes: Record<Side, PartialCalendarItem> = { outlook: {}, salesforce: {} }
  const conflicts: Conflict[] = []

  for (const unit of UNITS) {
    const b = unitValue(base, unit)
    let o = completeFromBase(unitValue(outlook.item, unit), b, unit, outlook.path ?? 'outlook')
    let s = completeFromBase(unitValue(salesforce.item, unit), b, unit, salesforce.path ?? 'salesforce')
    if (!o && !s) {
      if (b) Object.assign(merged, b)
      continue
    }
    if (!o || !s) {
      // Only one side carries the field: without a base there is nothing to compare it with.
      if (!b) {
        Object.assign(merged, o ?? s)
        continue
      }
      o = o ?? b
      s = s ?? b
    }
    const values: Record<Side, UnitValue> = { outlook: o, salesforce: s }
    if (sameUnit(unit, o, s)) {
      Object.assign(merged, richerValue(o, s))
      continue
    }
    const changed: Record<Side, boolean> = { outlook: !b || !sameUnit(unit, o, b), salesforce: !b || !sameUnit(unit, s, b) }
    const owner = ownerOf(unit, owners)
    let winner: Side | null
    let rule: ConflictRule | undefined
    if (changed.outlook !== changed.salesforce) {
      const changer: Side = changed.outlook ? 'outlook' : 'salesforce'
      if (policy === 'field-ownership' && owner && owner !== changer) {
        winner = owner
        rule = 'field-owner-revert'
      } else winner = changer
    } else {
      ;({ winner, rule } = settleConflict(policy, owner, outlook.modifiedAt, salesforce.modifiedAt))
    }
    if (rule) {
      for (const field of unit.fields) {
        if (sameFieldValue(field, o[field], s[field])) continue
        conflicts.push({ field, base: b?.[field] ?? null, outlook: o[field] ?? null, salesforce: s[field] ?? null, winner, rule })
      }
    }
    if (winner) {
      Object.assign(merged, values[winner])
      Object.assign(changes[other(winner)], values[winner])
    }
  }

  if (conflicts.some((conflict) => conflict.winner === null)) {
    return { outcome: 'needs_review', merged: base, writes: {}, conflicts }
  }
  const writes: Partial<Record<Side, CanonicalWrite>> = {}
  for (const side of SIDES) if (Object.keys(changes[side]).length > 0) writes[side] = { op: 'update', fields: changes[side] }
  const outcome: Outcome = conflicts.length === 0 && Object.keys(writes).length === 0 ? 'in_sync' : 'resolved'
  return { outcome, merged: orderFields(merged), writes, conflicts }
}

function mergeDelete(input: CanonicalMergeInput, base: PartialCalendarItem | null): CanonicalMergeResult {
  const deletedSide: Side = input.outlook.deleted ? 'outlook' : 'salesforce'
  const liveSide = other(deletedSide)
  const live = input[liveSide]
  const liveItem = completeItem(live.item, base, live.path ?? liveSide)
  if (!changedSinceBase(live.item, base, live.path ?? liveSide)) {
    return { outcome: 'resolved', merged: null, writes: { [liveSide]: { op: 'delete' } }, conflicts: [] }
  }
  const policy = input.deletePolicy ?? 'update-wins'
  const conflict = (winner: Side | null, rule: ConflictRule): Conflict => ({
    field: 'deleted',
    base: base ? false : null,
    outlook: deletedSide === 'outlook',
    salesforce: deletedSide === 'salesforce',
    winner,
    rule,
  })
  if (policy === 'review') return { outcome: 'needs_review', merged: base, writes: {}, conflicts: [conflict(null, 'delete-review')] }
  if (policy === 'delete-wins') {
    return { outcome: 'resolved', merged: null, writes: { [liveSide]: { op: 'delete' } }, conflicts: [conflict(deletedSide, 'delete-wins')] }
  }
  return {
    outcome: 'resolved',
    merged: liveItem,
    writes: { [deletedSide]: { op: 'create', fields: liveItem } },
    conflicts: [conflict(liveSide, 'update-wins')],
  }
}

/** Without a base (or one that knows none of the side's fields) every live copy counts as changed. */
function changedSinceBase(item: PartialCalendarItem, base: PartialCalendarItem | null, path: string): boolean {
  if (!base) return true
  let compared = false
  for (const unit of UNITS) {
    const b = unitValue(base, unit)
    const value = completeFromBase(unitValue(item, unit), b, unit, path)
    if (!b || !value) continue
    compared = true
    if (!sameUnit(unit, value, b)) return true
  }
  return !compared
}

/** The side's item with the fields it does not carry taken from the base. */
function completeItem(item: PartialCalendarItem, base: PartialCalendarItem | null, path: string): PartialCalendarItem {
  const out: PartialCalendarItem = {}
  for (const unit of UNITS) {
    const b = unitValue(base, unit)
    Object.assign(out, completeFromBase(unitValue(item, unit), b, unit, path) ?? b ?? {})
  }
  return orderFields(out)
}

function settleConflict(
  policy: ConflictPolicy,
  owner: Side | undefined,
  outlookAt: number | undefined,
  salesforceAt: number | undefined,
): { winner: Side | null; rule: ConflictRule } {
  switch (policy) {
    case 'outlook-wins':
      return { winner: 'outlook', rule: 'outlook-wins' }
    case 'salesforce-wins':
      return { winner: 'salesforce', rule: 'salesforce-wins' }
    case 'field-ownership':
      return owner ? { winner: owner, rule: 'field-owner' } : { winner: null, rule: 'unowned-field' }
    case 'three-way-merge':
      if (owner) return { winner: owner, rule: 'field-owner' }
      return settleByModifiedAt(outlookAt, salesforceAt)
    case 'last-modified-wins':
      return settleByModifiedAt(outlookAt, salesforceAt)
  }
}

function settleByModifiedAt(outlookAt: number | undefined, salesforceAt: number | undefined): { winner: Side | null; rule: ConflictRule } {
  if (outlookAt === undefined || salesforceAt === undefined) return { winner: null, rule: 'modified-at-missing' }
  const o = Math.floor(outlookAt / MODIFIED_AT_PRECISION_MS)
  const s = Math.floor(salesforceAt / MODIFIED_AT_PRECISION_MS)
  if (o === s) return { winner: null, rule: 'modified-at-tie' }
  return { winner: o > s ? 'outlook' : 'salesforce', rule: 'last-modified' }
}

/** The timing unit's owner is the owner of start, else of end, else of isAllDay. */
function ownerOf(unit: Unit, owners: Partial<Record<CalendarField, Side>>): Side | undefined {
  for (const field of unit.fields) if (owners[field]) return owners[field]
  return undefined
}

function unitValue(item: PartialCalendarItem | null, unit: Unit): UnitValue | undefined {
  if (!item) return undefined
  let known = false
  const out: UnitValue = {}
  for (const field of unit.fields) {
    if (item[field] !== undefined) {
      out[field] = item[field] as never
      known = true
    }
  }
  return known ? out : undefined
}

function completeFromBase(value: UnitValue | undefined, base: UnitValue | undefined, unit: Unit, path: string): UnitValue | undefined {
  if (!value || !base) return value
  const out: UnitValue = {}
  let completed = false
  for (const field of unit.fields) {
    if (value[field] !== undefined) out[field] = value[field] as never
    else if (base[field] !== undefined) {
      out[field] = base[field] as never
      completed = true
    }
  }
  if (completed && unit.fields === TIMING_FIELDS) checkTiming(out, path)
  return out
}

function checkTiming(timing: UnitValue, path: string): void {
  const { start, end, isAllDay } = timing
  const kinds = [start, end].filter((value): value is string => typeof value === 'string').map((value) => value.length === 10)
  const consistent = kinds.every((allDay) => allDay === kinds[0]) && (isAllDay === undefined || isAllDay === null || kinds.length === 0 || kinds[0] === isAllDay)
  const ordered = typeof start !== 'string' || typeof end !== 'string' || (start.length === 10 ? start < end : start <= end)
  if (!consistent || !ordered) {
    throw new InvalidFieldError(joinPath(path, 'end'), 'the timing given does not fit the stored base: send start, end and isAllDay together')
  }
}

function sameUnit(unit: Unit, a: UnitValue, b: UnitValue): boolean {
  return unit.fields.every((field) => sameFieldValue(field, a[field], b[field]))
}

/**
 * Two values equal in comparison form may still differ (tentative vs busy, a long subject vs its cut). The more
 * detailed one is kept, decided by content alone so the result does not depend on which side held it.
 */
function richerValue(a: UnitValue, b: UnitValue): UnitValue {
  const ja = JSON.stringify(a)
  const jb = JSON.stringify(b)
  if (ja.length !== jb.length) return ja.length > jb.length ? a : b
  return ja <= jb ? a : b
}

function orderFields(item: PartialCalendarItem): PartialCalendarItem {
  const out: PartialCalendarItem = {}
  for (const field of CALENDAR_FIELDS) if (item[field] !== undefined) out[field] = item[field] as never
  return out
}
