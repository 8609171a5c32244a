// Salesforce side: Event records and change events read into the canonical item, canonical fields written as a patch.
import {
  DESCRIPTION_MAX,
  LOCATION_MAX,
  SUBJECT_MAX,
  COMMON_SHOW_AS,
  cutToLimit,
  normalizeCalendarItem,
  type CommonShowAs,
  type PartialCalendarItem,
  type ShowAs,
} from './calendar-item.js'
import { InvalidFieldError, isPlainObject, joinPath } from './invalid-field.js'
import { addDays, daysBetween, epochMsToInstant, toInstant, writtenDate } from './time-zones.js'

/** The Event fields the sync reads (REST names). Date-times are ISO strings (REST, CometD) or epoch ms (Pub/Sub). */
export interface SalesforceRecord {
  Id?: string
  Subject?: string | null
  StartDateTime?: string | number | null
  EndDateTime?: string | number | null
  IsAllDayEvent?: boolean | null
  ActivityDate?: string | number | null
  ActivityDateTime?: string | number | null
  DurationInMinutes?: number | null
  EndDate?: string | number | null
  Location?: string | null
  Description?: string | null
  ShowAs?: string | null
  IsPrivate?: boolean | null
  IsDeleted?: boolean | null
  LastModifiedDate?: string | number | null
  /** Optional subquery `(SELECT IsInvitee, Relation.Email FROM EventRelations)`: the only way to read attendees. */
  EventRelations?: { records?: Array<{ IsInvitee?: boolean | null; Relation?: { Email?: string | null } | null }> | null } | null
  [key: string]: unknown
}

export type SalesforceShowAs = 'Busy' | 'OutOfOffice' | 'Free'

export interface SalesforceEventPatch {
  Subject?: string | null
  Location?: string | null
  Description?: string | null
  ShowAs?: SalesforceShowAs
  IsPrivate?: boolean
  IsAllDayEvent?: boolean
  StartDateTime?: string
  EndDateTime?: string
  ActivityDate?: string
  DurationInMinutes?: number
}

export const MINUTES_PER_DAY = 1440

const SHOW_AS_TO_SALESFORCE: Record<CommonShowAs, SalesforceShowAs> = { busy: 'Busy', oof: 'OutOfOffice', free: 'Free' }
const SHOW_AS_FROM_SALESFORCE: Record<string, ShowAs> = { busy: 'busy', outofoffice: 'oof', free: 'free' }

/** The mappings that lose information between the two systems, for the docs. */
export const LOSSY_MAPPINGS: ReadonlyArray<{ field: string; outlook: string; salesforce: string; rule: string }> = [
  { field: 'showAs', outlook: 'tentative', salesforce: 'Busy', rule: 'not offered to others, so busy' },
  { field: 'showAs', outlook: 'unknown', salesforce: 'Busy', rule: 'the safe reading of an unknown state' },
  { field: 'showAs', outlook: 'workingElsewhere', salesforce: 'Free', rule: 'working but not here, as Dynamics maps it' },
  { field: 'isPrivate', outlook: 'sensitivity personal, private or confidential', salesforce: 'IsPrivate true', rule: 'written back to Outlook as private' },
  { field: 'isPrivate', outlook: 'sensitivity normal', salesforce: 'IsPrivate false', rule: 'exact' },
  { field: 'subject, location', outlook: 'any length', salesforce: '255 characters', rule: 'cut at 255; equal when the first 255 agree' },
  { field: 'description', outlook: 'HTML or text body', salesforce: 'plain text, 32,000 characters', rule: 'HTML to text, cut at 32,000' },
  { field: 'attendees', outlook: 'attendees', salesforce: 'EventRelation rows', rule: 'read from an EventRelations subquery when present; never written into an Event patch' },
]

export function readSalesforceRecord(record: unknown, path = 'record'): PartialCalendarItem {
  if (!isPlainObject(record)) throw new InvalidFieldError(path, 'must be a Salesforce Event record object')
  const raw: Record<string, unknown> = {}
  if ('Subject' in record) raw.subject = record.Subject
  if ('Location' in record) raw.location = record.Location
  if ('Description' in record) raw.description = record.Description
  if ('IsPrivate' in record) raw.isPrivate = record.IsPrivate
  if ('ShowAs' in record) raw.showAs = readShowAs(record.ShowAs, joinPath(path, 'ShowAs'))
  const attendees = readEventRelations(record.EventRelations, joinPath(path, 'EventRelations'))
  if (attendees !== undefined) raw.attendees = attendees
  Object.assign(raw, readRecordTiming(record, path))
  try {
    return normalizeCalendarItem(raw, path)
  } catch (error) {
    // The canonical reader names canonical fields; the caller sent Salesforce ones.
    if (error instanceof InvalidFieldError) {
      const field = error.path.slice(path.length + 1).split('.', 1)[0]
      const native = RECORD_FIELD_NAMES[field]
      if (native && error.path.startsWith(`${path}.`)) {
        throw new InvalidFieldError(joinPath(path, native) + error.path.slice(path.length + 1 + field.length), error.fieldMessage, error.others)
      }
    }
    throw error
  }
}

const RECORD_FIELD_NAMES: Record<string, string> = { subject: 'Subject', location: 'Location', description: 'Description', isPrivate: 'IsPrivate', showAs: 'ShowAs' }

function readShowAs(value: unknown, path: string): ShowAs | null {
  if (value === null || value === undefined) return null
  const found = typeof value === 'string' ? SHOW_AS_FROM_SALESFORCE[value.trim().toLowerCase()] : undefined
  if (!found) throw new InvalidFieldError(path, 'must be one of Busy, OutOfOffice, Free')
  return found
}

function readEventRelations(value: unknown, path: string): string[] | undefined {
  if (value === undefined) return undefined
  if (value === null) return []
  if (!isPlainObject(value) || !Array.isArray(value.records)) throw new InvalidFieldError(path, 'must be a subquery result { records: [...] }')
  const emails: string[] = []
  value.records.forEach((row, index) => {
    if (!isPlainObject(row) || row.IsInvitee === false) return
    const email = isPlainObject(row.Relation) ? row.Relation.Email : undefined
    if (email === null || email === undefined) return
    if (typeof email !== 'string') throw new InvalidFieldError(joinPath(joinPath(joinPath(path, 'records'), index), 'Relation.Email'), 'must be a string')
    emails.push(email)
  })
  return emails
}

function has(record: Record<string, unknown>, key: string): boolean {
  return record[key] !== undefined && record[key] !== null
}

/**
 * Timing from a full record. All-day: the day is ActivityDate (or the date of StartDateTime), the length
 * DurationInMinutes / 1440 days, else EndDateTime's date read as the inclusive last day, else one day.
 * Timed: StartDateTime (or ActivityDateTime), end EndDateTime (or start + DurationInMinutes).
 */
function readRecordTiming(record: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const startKey = has(record, 'StartDateTime') ? 'StartDateTime' : has(record, 'ActivityDateTime') ? 'ActivityDateTime' : undefined
  let allDay: boolean | undefined
  if (has(record, 'IsAllDayEvent')) {
    if (typeof record.IsAllDayEvent !== 'boolean') throw new InvalidFieldError(joinPath(path, 'IsAllDayEvent'), 'must be a boolean')
    allDay = record.IsAllDayEvent
  } else if (startKey) allDay = false
  else if (has(record, 'ActivityDate')) allDay = true
  if (allDay === undefined) return out
  out.isAllDay = allDay
  const duration = readDuration(record.DurationInMinutes, joinPath(path, 'DurationInMinutes'))

  if (allDay) {
    const dayKey = has(record, 'ActivityDate') ? 'ActivityDate' : startKey
    if (!dayKey) return out
    const start = writtenDate(record[dayKey], joinPath(path, dayKey))
    out.start = start
    if (duration !== undefined) out.end = addDays(start, Math.max(1, Math.ceil(duration / MINUTES_PER_DAY)))
    else if (has(record, 'EndDateTime') || has(record, 'EndDate')) {
      const endKey = has(record, 'EndDateTime') ? 'EndDateTime' : 'EndDate'
      const lastDay = writtenDate(record[endKey], joinPath(path, endKey))
      out.end = addDays(lastDay < start ? start : lastDay, 1)
    } else out.end = addDays(start, 1)
    return out
  }

  if (!startKey) return out
  const start = toInstant(record[startKey], joinPath(path, startKey))
  out.start = start
  if (has(record, 'EndDateTime')) out.end = toInstant(record.EndDateTime, joinPath(path, 'EndDateTime'))
  else if (duration !== undefined) out.end = epochMsToInstant(Date.parse(start) + duration * 60_000, joinPath(path, 'DurationInMinutes'))
  return out
}

/** A multiday Salesforce event spans at most 14 days. */
const MAX_DURATION_MINUTES = 14 * MINUTES_PER_DAY

function readDuration(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InvalidFieldError(path, 'must be a whole number of minutes, 0 or more')
  if (value > MAX_DURATION_MINUTES) throw new InvalidFieldError(path, `must be at most ${MAX_DURATION_MINUTES} (a Salesforce event spans at most 14 days)`)
  return value
}

/** True when a queried record is in the recycle bin. */
export function isDeletedSalesforceRecord(record: unknown): boolean {
  return isPlainObject(record) && record.IsDeleted === true
}

/**
 * The Salesforce Event patch that sets the given canonical fields. Timed items write StartDateTime and
 * EndDateTime; all-day ones IsAllDayEvent, ActivityDate and DurationInMinutes = 1440 x days. Text is cut to the
 * field limits; showAs folds into Busy/OutOfOffice/Free (see LOSSY_MAPPINGS). Attendees are not written: they are
 * EventRelation rows, not Event fields.
 */
export function writeSalesforcePatch(fields: PartialCalendarItem): SalesforceEventPatch {
  const patch: SalesforceEventPatch = {}
  if (fields.subject !== undefined) patch.Subject = fields.subject === null ? null : cutToLimit(fields.subject, SUBJECT_MAX)
  if (fields.location !== undefined) patch.Location = fields.location === null ? null : cutToLimit(fields.location, LOCATION_MAX)
  if (fields.description !== undefined) patch.Description = fields.description === null ? null : cutToLimit(fields.description, DESCRIPTION_MAX)
  if (fields.showAs !== undefined && fields.showAs !== null) patch.ShowAs = SHOW_AS_TO_SALESFORCE[COMMON_SHOW_AS[fields.showAs]]
  if (fields.isPrivate !== undefined && fields.isPrivate !== null) patch.IsPrivate = fields.isPrivate
  const start = fields.start ?? undefined
  const end = fields.end ?? undefined
  const allDay = fields.isAllDay ?? (start ?? end)?.length === 10
  if (fields.isAllDay !== undefined || start || end) patch.IsAllDayEvent = allDay === true
  if (allDay) {
    if (start) patch.ActivityDate = start
    if (start && end) patch.DurationInMinutes = MINUTES_PER_DAY * Math.max(1, daysBetween(start, end))
  } else {
    if (start) patch.StartDateTime = start
    if (end) patch.EndDateTime = end
  }
  return patch
}
