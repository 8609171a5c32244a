// /resolve-conflict in pure form: read both sides (native or canonical), merge, and shape each side's write.
import { CALENDAR_FIELDS, isCalendarField, normalizeCalendarItem, type CalendarField, type PartialCalendarItem } from './calendar-item.js'
import { isRemovedGraphEvent, readGraphEvent, writeGraphPatch, type GraphEvent, type GraphEventPatch } from './graph-event.js'
import { InvalidFieldError, isPlainObject, joinPath } from './invalid-field.js'
import {
  CONFLICT_POLICIES,
  DELETE_POLICIES,
  SIDES,
  mergeCalendarItems,
  type CanonicalWrite,
  type Conflict,
  type ConflictPolicy,
  type DeletePolicy,
  type MergeSide,
  type Outcome,
  type Side,
} from './merge.js'
import { isDeletedSalesforceRecord, readSalesforceRecord, writeSalesforcePatch, type SalesforceEventPatch, type SalesforceRecord } from './salesforce-event.js'
import { toInstant } from './time-zones.js'

interface SideInput {
  itemId?: string
  /** Canonical fields (partial allowed); the alternative to the native resource. */
  fields?: Record<string, unknown>
  /** ISO-8601 or epoch ms; defaults to the resource's lastModifiedDateTime / LastModifiedDate. */
  modifiedAt?: string | number
  deleted?: boolean
}

export interface OutlookSideInput extends SideInput {
  event?: GraphEvent
}

export interface SalesforceSideInput extends SideInput {
  record?: SalesforceRecord
}

export interface ResolveConflictInput {
  policy?: ConflictPolicy
  fieldOwners?: Partial<Record<string, Side>>
  deletePolicy?: DeletePolicy
  outlook: OutlookSideInput
  salesforce: SalesforceSideInput
  /** The last agreed state; null or absent: none (every differing field is a conflict). */
  base?: Record<string, unknown> | null
}

export interface SideWrite<Patch> {
  op: 'update' | 'create' | 'delete'
  patch?: Patch
  /** Salesforce only: the invitees' emails the copy must list (EventRelation rows, which no Event patch holds). */
  attendees?: string[]
}

export interface ResolveConflictResult {
  outcome: Outcome
  merged: PartialCalendarItem | null
  writes: { outlook?: SideWrite<GraphEventPatch>; salesforce?: SideWrite<SalesforceEventPatch> }
  conflicts: Conflict[]
  /** Present only when something was read with a caveat, e.g. a custom Outlook zone read as UTC. */
  warnings?: string[]
}

/**
 * Both sides changed since the last sync: what each must get. Pure; throws InvalidFieldError (path dotted from the
 * request body root) for bad input. A write whose patch would be empty in that system's shape is left out. Attendees
 * a Salesforce copy must change are its `attendees` (the whole list): a Salesforce Event cannot hold them, so an
 * update of attendees alone has that and no patch.
 */
export function resolveConflict(input: ResolveConflictInput): ResolveConflictResult {
  if (!isPlainObject(input)) throw new InvalidFieldError('body', 'must be an object')
  const policy = readChoice(input.policy, CONFLICT_POLICIES, 'policy')
  const deletePolicy = readChoice(input.deletePolicy, DELETE_POLICIES, 'deletePolicy')
  const fieldOwners = readFieldOwners(input.fieldOwners)
  const warnings: string[] = []
  const outlook = readOutlookSide(input.outlook, warnings)
  const salesforce = readSalesforceSide(input.salesforce)
  const base = input.base === undefined || input.base === null ? null : normalizeCalendarItem(input.base, 'base')

  const result = mergeCalendarItems({ policy, deletePolicy, fieldOwners, outlook, salesforce, base })
  const writes: ResolveConflictResult['writes'] = {}
  if (result.writes.outlook) {
    const write = shapeWrite(result.writes.outlook, writeGraphPatch)
    if (write) writes.outlook = write
  }
  if (result.writes.salesforce) {
    const write = shapeWrite(result.writes.salesforce, writeSalesforcePatch)
    const attendees = result.writes.salesforce.op === 'delete' ? undefined : result.writes.salesforce.fields?.attendees
    if (attendees !== undefined) writes.salesforce = { ...(write ?? { op: 'update' }), attendees: attendees ?? [] }
    else if (write) writes.salesforce = write
  }
  const out: ResolveConflictResult = { outcome: result.outcome, merged: result.merged, writes, conflicts: result.conflicts }
  if (warnings.length > 0) out.warnings = warnings
  return out
}

function shapeWrite<Patch extends object>(write: CanonicalWrite, shape: (fields: PartialCalendarItem) => Patch): SideWrite<Patch> | undefined {
  if (write.op === 'delete') return { op: 'delete' }
  const patch = shape(write.fields ?? {})
  if (write.op === 'update' && Object.keys(patch).length === 0) return undefined
  return { op: write.op, patch }
}

function readChoice<T extends string>(value: unknown, allowed: readonly T[], path: string): T | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidFieldError(path, `must be one of ${allowed.join(', ')}`)
  }
  return value as T
}

function readFieldOwners(value: unknown): Partial<Record<CalendarField, Side>> {
  if (value === undefined || value === null) return {}
  if (!isPlainObject(value)) throw new InvalidFieldError('fieldOwners', 'must be an object of field: "outlook" | "salesforce"')
  const owners: Partial<Record<CalendarField, Side>> = {}
  for (const [key, owner] of Object.entries(value)) {
    const field = key === 'body' ? 'description' : key
    if (!isCalendarField(field)) throw new InvalidFieldError(joinPath('fieldOwners', key), `is not a synced field (${CALENDAR_FIELDS.join(', ')})`)
    if (owner === undefined || owner === null) continue
    if (typeof owner !== 'string' || !(SIDES as readonly string[]).includes(owner)) {
      throw new InvalidFieldError(joinPath('fieldOwners', key), 'must be "outlook" or "salesforce"')
    }
    owners[field] = owner as Side
  }
  return owners
}

function readSideCommon(value: unknown, side: Side, nativeKey: 'event' | 'record'): { side: Record<string, unknown>; deleted: boolean | undefined } {
  if (!isPlainObject(value)) throw new InvalidFieldError(side, 'must be an object')
  if (value.deleted !== undefined && value.deleted !== null && typeof value.deleted !== 'boolean') {
    throw new InvalidFieldError(joinPath(side, 'deleted'), 'must be a boolean')
  }
  const hasNative = value[nativeKey] !== undefined && value[nativeKey] !== null
  const hasFields = value.fields !== undefined && value.fields !== null
  if (hasNative && hasFields) throw new InvalidFieldError(side, `give either ${nativeKey} or fields, not both`)
  const deleted = typeof value.deleted === 'boolean' ? value.deleted : undefined
  if (!hasNative && !hasFields && deleted !== true) throw new InvalidFieldError(side, `needs ${nativeKey} or fields (or deleted: true)`)
  return { side: value, deleted }
}

function readOutlookSide(value: unknown, warnings: string[]): MergeSide {
  const { side, deleted } = readSideCommon(value, 'outlook', 'event')
  if (isPlainObject(side.event)) {
    const path = 'outlook.event'
    const removed = isRemovedGraphEvent(side.event)
    const read = removed ? { item: {}, customZone: false } : readGraphEvent(side.event, path)
    if (read.customZone) warnings.push(`${path}: a custom Outlook time zone was read as UTC`)
    const modifiedAt = readModifiedAt(side.modifiedAt, 'outlook.modifiedAt') ?? readModifiedAt(side.event.lastModifiedDateTime, `${path}.lastModifiedDateTime`)
    return { item: read.item, modifiedAt, deleted: deleted ?? removed, path }
  }
  if (side.event !== undefined && side.event !== null) throw new InvalidFieldError('outlook.event', 'must be a Graph event object')
  return readFieldsSide(side, 'outlook', deleted)
}

function readSalesforceSide(value: unknown): MergeSide {
  const { side, deleted } = readSideCommon(value, 'salesforce', 'record')
  if (isPlainObject(side.record)) {
    const path = 'salesforce.record'
    const removed = isDeletedSalesforceRecord(side.record)
    const modifiedAt = readModifiedAt(side.modifiedAt, 'salesforce.modifiedAt') ?? readModifiedAt(side.record.LastModifiedDate, `${path}.LastModifiedDate`)
    return { item: readSalesforceRecord(side.record, path), modifiedAt, deleted: deleted ?? removed, path }
  }
  if (side.record !== undefined && side.record !== null) throw new InvalidFieldError('salesforce.record', 'must be a Salesforce Event record object')
  return readFieldsSide(side, 'salesforce', deleted)
}

function readFieldsSide(side: Record<string, unknown>, name: Side, deleted: boolean | undefined): MergeSide {
  const path = `${name}.fields`
  const item = side.fields === undefined || side.fields === null ? {} : normalizeCalendarItem(side.fields, path)
  return { item, modifiedAt: readModifiedAt(side.modifiedAt, `${name}.modifiedAt`), deleted: deleted ?? false, path }
}

function readModifiedAt(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined
  return Date.parse(toInstant(value, path))
}
