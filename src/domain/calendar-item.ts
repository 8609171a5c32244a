// The canonical calendar item both systems are compared in: its type, its normaliser and its comparison forms.
import { InvalidFieldError, isPlainObject, joinPath } from './invalid-field.js'
import { collapseWhitespace, HtmlTooDeepError, htmlToPlainText, looksLikeHtml, normalizeMultilineText, truncateText } from './plain-text.js'
import { graphDateTimeToInstant, isDateOnly, toInstant, writtenDate } from './time-zones.js'

export const SHOW_AS_VALUES = ['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown'] as const
export type ShowAs = (typeof SHOW_AS_VALUES)[number]

/** The subset Salesforce's ShowAs can hold; the other Graph values fold into it (see COMMON_SHOW_AS). */
export type CommonShowAs = 'busy' | 'oof' | 'free'

/**
 * Folding of Graph's showAs into what Salesforce can hold. tentative and unknown become busy (the time is not
 * offered to others), workingElsewhere becomes free (as Dynamics does: the person is working, only not here).
 */
export const COMMON_SHOW_AS: Record<ShowAs, CommonShowAs> = {
  free: 'free',
  tentative: 'busy',
  busy: 'busy',
  oof: 'oof',
  workingElsewhere: 'free',
  unknown: 'busy',
}

export const CALENDAR_FIELDS = ['subject', 'start', 'end', 'isAllDay', 'location', 'description', 'showAs', 'isPrivate', 'attendees'] as const
export type CalendarField = (typeof CALENDAR_FIELDS)[number]

/** start, end and isAllDay move as one unit: a timing is only meaningful whole. */
export const TIMING_FIELDS = ['start', 'end', 'isAllDay'] as const

export const SUBJECT_MAX = 255
export const LOCATION_MAX = 255
export const DESCRIPTION_MAX = 32_000

export interface CalendarItem {
  subject: string | null
  /** Timed: UTC instant `2026-03-02T17:00:00.000Z`; all-day: date `2026-03-05`. */
  start: string | null
  /** Timed: UTC instant; all-day: the exclusive end date. */
  end: string | null
  isAllDay: boolean | null
  location: string | null
  /** Plain text with LF line breaks. */
  description: string | null
  showAs: ShowAs | null
  isPrivate: boolean | null
  /** Lower-case e-mail addresses, sorted, unique. */
  attendees: string[] | null
}

/** What one read of one system knows: an absent key is unknown, a null value is known to be empty. */
export type PartialCalendarItem = Partial<CalendarItem>

const SHOW_AS_LOOKUP = new Map<string, ShowAs>([
  ...SHOW_AS_VALUES.map((value) => [value.toLowerCase(), value] as [string, ShowAs]),
  // Salesforce picklist values, so a flow may send either vocabulary.
  ['outofoffice', 'oof'],
  ['workingelsewhere', 'workingElsewhere'],
])

export function isCalendarField(key: string): key is CalendarField {
  return (CALENDAR_FIELDS as readonly string[]).includes(key)
}

/**
 * Reads a partial canonical item leniently: `body` is an alias of `description`; time values may be ISO strings,
 * epoch ms or Graph `{ dateTime, timeZone }`; `location` may be Graph's `{ displayName }`; attendees may be Graph
 * attendee objects. Keys outside the canonical set are ignored. Throws InvalidFieldError naming the bad field.
 */
export function normalizeCalendarItem(input: unknown, path = 'fields'): PartialCalendarItem {
  if (!isPlainObject(input)) throw new InvalidFieldError(path, 'must be an object')
  const item: PartialCalendarItem = {}

  if ('subject' in input) item.subject = readSingleLine(input.subject, joinPath(path, 'subject'))
  if ('location' in input) item.location = readLocation(input.location, joinPath(path, 'location'))
  if ('description' in input && input.description !== undefined) {
    item.description = readDescription(input.description, joinPath(path, 'description'))
  } else if ('body' in input) {
    item.description = readDescription(input.body, joinPath(path, 'body'))
  }
  if ('showAs' in input) item.showAs = readShowAs(input.showAs, joinPath(path, 'showAs'))
  if ('isPrivate' in input) item.isPrivate = readBoolean(input.isPrivate, joinPath(path, 'isPrivate'))
  if ('attendees' in input) item.attendees = readAttendees(input.attendees, joinPath(path, 'attendees'))
  Object.assign(item, readTiming(input, path))

  for (const key of CALENDAR_FIELDS) if (item[key] === undefined) delete item[key]
  return item
}

function readSingleLine(value: unknown, path: string): string | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'string') throw new InvalidFieldError(path, 'must be a string')
  const text = collapseWhitespace(value)
  return text === '' ? null : text
}

function readLocation(value: unknown, path: string): string | null {
  if (isPlainObject(value)) return readSingleLine(value.displayName, joinPath(path, 'displayName'))
  return readSingleLine(value, path)
}

/** A body object `{ contentType, content }` or a string; HTML becomes plain text either way. */
export function readDescription(value: unknown, path: string): string | null {
  if (value === null || value === undefined) return null
  let text: string
  let html: boolean
  if (isPlainObject(value)) {
    const { contentType, content } = value
    // An object without content is not a body read as empty: a misnamed key ({ text }) would blank the description.
    if (content === undefined) throw new InvalidFieldError(joinPath(path, 'content'), 'is required in a body object { contentType, content } (null for no text)')
    if (content !== null && typeof content !== 'string') {
      throw new InvalidFieldError(joinPath(path, 'content'), 'must be a string')
    }
    if (contentType !== undefined && contentType !== null && typeof contentType !== 'string') {
      throw new InvalidFieldError(joinPath(path, 'contentType'), 'must be "html" or "text"')
    }
    text = content ?? ''
    const type = typeof contentType === 'string' ? contentType.toLowerCase() : undefined
    if (type !== undefined && type !== 'html' && type !== 'text') {
      throw new InvalidFieldError(joinPath(path, 'contentType'), 'must be "html" or "text"')
    }
    html = type === 'html' || (type === undefined && looksLikeHtml(text))
  } else if (typeof value === 'string') {
    text = value
    html = looksLikeHtml(text)
  } else {
    throw new InvalidFieldError(path, 'must be a string or a body object { contentType, content }')
  }
  let plain: string
  try {
    plain = html ? htmlToPlainText(text) : normalizeMultilineText(text)
  } catch (error) {
    if (error instanceof HtmlTooDeepError) throw new InvalidFieldError(isPlainObject(value) ? joinPath(path, 'content') : path, error.message)
    throw error
  }
  return plain === '' ? null : plain
}

function readShowAs(value: unknown, path: string): ShowAs | null {
  if (value === null || value === undefined) return null
  const found = typeof value === 'string' ? SHOW_AS_LOOKUP.get(value.trim().toLowerCase()) : undefined
  if (!found) throw new InvalidFieldError(path, `must be one of ${SHOW_AS_VALUES.join(', ')}`)
  return found
}

function readBoolean(value: unknown, path: string): boolean | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'boolean') throw new InvalidFieldError(path, 'must be a boolean')
  return value
}

function readAttendees(value: unknown, path: string): string[] | null {
  if (value === null || value === undefined) return null
  if (!Array.isArray(value)) throw new InvalidFieldError(path, 'must be an array of e-mail addresses or attendee objects')
  const emails = new Set<string>()
  value.forEach((entry, index) => {
    const email = readAttendeeEmail(entry, joinPath(path, index))
    if (email) emails.add(email)
  })
  return [...emails].sort()
}

function readAttendeeEmail(entry: unknown, path: string): string | undefined {
  let address: unknown = entry
  if (isPlainObject(entry)) {
    if (isPlainObject(entry.emailAddress)) address = entry.emailAddress.address
    else address = entry.address ?? entry.email ?? entry.Email
  }
  if (address === null || address === undefined) return undefined
  if (typeof address !== 'string') throw new InvalidFieldError(path, 'must be an e-mail address or { emailAddress: { address } }')
  // trimmed with inner whitespace collapsed, as every string the fingerprint compares
  const email = collapseWhitespace(address).toLowerCase()
  return email === '' ? undefined : email
}

type TimeValue = { kind: 'date' | 'instant'; value: string }

function readTiming(input: Record<string, unknown>, path: string): PartialCalendarItem {
  const out: PartialCalendarItem = {}
  const allDayPath = joinPath(path, 'isAllDay')
  const isAllDay = 'isAllDay' in input ? readBoolean(input.isAllDay, allDayPath) : undefined
  const start = readTimeValue(input.start, joinPath(path, 'start'), isAllDay)
  const end = readTimeValue(input.end, joinPath(path, 'end'), isAllDay)

  if (isAllDay !== undefined && isAllDay !== null) out.isAllDay = isAllDay
  else if (start || end) out.isAllDay = (start ?? end)!.kind === 'date'
  else if (isAllDay === null) out.isAllDay = null

  if (start !== undefined) out.start = start?.value ?? null
  if (end !== undefined) out.end = end?.value ?? null
  if (start && end) {
    if (start.kind !== end.kind) {
      throw new InvalidFieldError(joinPath(path, 'end'), 'an all-day item has dates for start and end, a timed one date-times for both')
    }
    const startsBefore = start.kind === 'date' ? start.value < end.value : start.value <= end.value
    if (!startsBefore) {
      throw new InvalidFieldError(joinPath(path, 'end'), start.kind === 'date' ? 'must be after start (the all-day end date is exclusive)' : 'must not be before start')
    }
  }
  if (out.isAllDay === false && (start?.kind === 'date' || end?.kind === 'date')) {
    throw new InvalidFieldError(start?.kind === 'date' ? joinPath(path, 'start') : joinPath(path, 'end'), 'a timed item (isAllDay false) needs a date-time, not a plain date')
  }
  return out
}

/** undefined: absent; null: known empty. With isAllDay true every value is reduced to the date as written. */
function readTimeValue(value: unknown, path: string, isAllDay: boolean | null | undefined): TimeValue | null | undefined {
  if (value === undefined) return undefined
  if (value === null) return null
  if (isAllDay === true) return { kind: 'date', value: writtenDate(value, path) }
  if (typeof value === 'string' && isDateOnly(value.trim())) return { kind: 'date', value: value.trim() }
  if (isPlainObject(value)) return { kind: 'instant', value: graphDateTimeToInstant(value, path).instant }
  return { kind: 'instant', value: toInstant(value, path) }
}

/**
 * Text cut to a field limit as Salesforce holds it: it trims what it stores, so a cut that ends in whitespace
 * reads back without it. Writers and comparisons both use this, so the value written is the value read back.
 */
export function cutToLimit(text: string, max: number): string {
  return text.length <= max ? text : truncateText(text, max).trimEnd()
}

/**
 * The form two values of one field are compared in: what survives a trip through either system. Values equal in
 * this form are the same meeting (e.g. showAs tentative and busy, a subject and its 255-character cut).
 */
export function comparableValue(field: CalendarField, value: unknown): unknown {
  if (value === undefined || value === null) return null
  switch (field) {
    case 'subject':
      return cutToLimit(value as string, SUBJECT_MAX)
    case 'location':
      return cutToLimit(value as string, LOCATION_MAX)
    case 'description':
      return collapseWhitespace(cutToLimit(value as string, DESCRIPTION_MAX))
    case 'showAs':
      return COMMON_SHOW_AS[value as ShowAs]
    case 'attendees':
      return (value as string[]).length === 0 ? null : value
    default:
      return value
  }
}

export function sameFieldValue(field: CalendarField, a: unknown, b: unknown): boolean {
  return JSON.stringify(comparableValue(field, a)) === JSON.stringify(comparableValue(field, b))
}

/** The item reduced to its comparison forms, nulls dropped: the exact projection fingerprints hash. */
export function comparableItem(item: PartialCalendarItem): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const field of CALENDAR_FIELDS) {
    const value = comparableValue(field, item[field])
    if (value !== null) out[field] = value
  }
  return out
}
