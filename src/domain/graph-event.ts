// Outlook side: a Graph event resource read into the canonical item, and canonical fields written as a Graph patch.
import { normalizeCalendarItem, type PartialCalendarItem, type ShowAs } from './calendar-item.js'
import { InvalidFieldError, isPlainObject, joinPath } from './invalid-field.js'
import { dateToGraphDateTime, graphDateTimeToInstant, instantToGraphDateTime, type GraphDateTime } from './time-zones.js'

/** The Graph event properties the sync reads; anything else on the resource is ignored. */
export interface GraphEvent {
  id?: string
  subject?: string | null
  body?: { contentType?: string; content?: string | null } | null
  start?: GraphDateTime | null
  end?: GraphDateTime | null
  isAllDay?: boolean | null
  location?: { displayName?: string | null; [key: string]: unknown } | null
  showAs?: string | null
  sensitivity?: string | null
  attendees?: Array<{ emailAddress?: { address?: string | null; name?: string | null } | null; [key: string]: unknown }> | null
  lastModifiedDateTime?: string | null
  '@removed'?: unknown
  [key: string]: unknown
}

export interface GraphEventPatch {
  subject?: string
  body?: { contentType: 'text'; content: string }
  start?: GraphDateTime
  end?: GraphDateTime
  isAllDay?: boolean
  location?: { displayName: string }
  showAs?: ShowAs
  sensitivity?: 'private' | 'normal'
  attendees?: Array<{ emailAddress: { address: string }; type: 'required' }>
}

export interface GraphReadResult {
  item: PartialCalendarItem
  /** Set when a start or end used a custom Outlook zone and was read as UTC. */
  customZone: boolean
}

// Salesforce has one IsPrivate flag; every Graph sensitivity that hides details counts as private.
const PRIVATE_SENSITIVITIES = new Set(['private', 'confidential', 'personal'])
const SENSITIVITIES = new Set([...PRIVATE_SENSITIVITIES, 'normal'])

export function readGraphEvent(event: unknown, path = 'event'): GraphReadResult {
  if (!isPlainObject(event)) throw new InvalidFieldError(path, 'must be a Graph event object')
  const raw: Record<string, unknown> = {}
  let customZone = false
  for (const key of ['subject', 'body', 'location', 'showAs', 'attendees', 'isAllDay'] as const) {
    if (key in event) raw[key] = event[key]
  }
  for (const key of ['start', 'end'] as const) {
    if (!(key in event)) continue
    const value = event[key]
    raw[key] = value
    if (isPlainObject(value) && event.isAllDay !== true) {
      customZone = graphDateTimeToInstant(value, joinPath(path, key)).customZone || customZone
    }
  }
  if ('sensitivity' in event) raw.isPrivate = readSensitivity(event.sensitivity, joinPath(path, 'sensitivity'))
  return { item: normalizeCalendarItem(raw, path), customZone }
}

function readSensitivity(value: unknown, path: string): boolean | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'string' || !SENSITIVITIES.has(value.toLowerCase())) {
    throw new InvalidFieldError(path, 'must be one of normal, personal, private, confidential')
  }
  return PRIVATE_SENSITIVITIES.has(value.toLowerCase())
}

/** True when the resource is a delta-query tombstone. */
export function isRemovedGraphEvent(event: unknown): boolean {
  return isPlainObject(event) && event['@removed'] !== undefined
}

/**
 * The Graph patch that sets the given canonical fields. Timing goes out in UTC; an all-day item as midnight
 * dates with isAllDay true (Graph requires midnight in one zone). Empty values are written as empty strings,
 * which Graph stores as empty and reads back as absent. A null showAs or isPrivate has nothing to write.
 * Attendees are written as required attendees: Graph replaces the whole list (names and responses are lost).
 */
export function writeGraphPatch(fields: PartialCalendarItem): GraphEventPatch {
  const patch: GraphEventPatch = {}
  if (fields.subject !== undefined) patch.subject = fields.subject ?? ''
  if (fields.description !== undefined) patch.body = { contentType: 'text', content: fields.description ?? '' }
  if (fields.location !== undefined) patch.location = { displayName: fields.location ?? '' }
  if (fields.showAs !== undefined && fields.showAs !== null) patch.showAs = fields.showAs
  if (fields.isPrivate !== undefined && fields.isPrivate !== null) patch.sensitivity = fields.isPrivate ? 'private' : 'normal'
  if (fields.attendees !== undefined) {
    patch.attendees = (fields.attendees ?? []).map((address) => ({ emailAddress: { address }, type: 'required' as const }))
  }
  const allDay = fields.isAllDay ?? (fields.start ?? fields.end)?.length === 10
  if (fields.start !== undefined && fields.start !== null) patch.start = toGraphTime(fields.start)
  if (fields.end !== undefined && fields.end !== null) patch.end = toGraphTime(fields.end)
  if (fields.isAllDay !== undefined || patch.start || patch.end) patch.isAllDay = allDay === true
  return patch
}

function toGraphTime(value: string): GraphDateTime {
  return value.length === 10 ? dateToGraphDateTime(value) : instantToGraphDateTime(value)
}
