// Fingerprints: a stable hash of the synced fields, equal for one meeting whichever system it was read from.
import { createHash } from 'node:crypto'
import { CALENDAR_FIELDS, comparableItem, isCalendarField, normalizeCalendarItem, type PartialCalendarItem } from './calendar-item.js'
import { readGraphEvent, type GraphEvent } from './graph-event.js'
import { InvalidFieldError, isPlainObject, joinPath } from './invalid-field.js'
import { readSalesforceRecord, type SalesforceRecord } from './salesforce-event.js'
import { collapseWhitespace } from './plain-text.js'
import { graphDateTimeToInstant, isIsoInstantString, toInstant } from './time-zones.js'

// Bumped whenever normalisation changes, so old stored fingerprints never match new ones by accident.
// v2: a description string counts as HTML only with a closing tag or a tag that is HTML alone (looksLikeHtml).
const FINGERPRINT_VERSION = 'calendar-fingerprint-v2'

export interface FingerprintOptions {
  /** Where the fields sit in the request, for error paths (default `fields`). */
  path?: string
  /** Fields left out of the hash, e.g. `['attendees']` when one side cannot read them. */
  omit?: string[]
}

/**
 * The normalised object that gets hashed. Canonical keys (see CALENDAR_FIELDS; `body` counts as `description`) get
 * the canonical item's comparison form; every other key keeps its value after generic normalisation: strings
 * trimmed with inner whitespace collapsed, ISO date-times with an offset as UTC instants, Graph
 * `{ dateTime, timeZone }` objects as UTC instants, null and absent alike (dropped). Keys come out sorted.
 */
export function canonicalizeFields(fields: Record<string, unknown>, options: FingerprintOptions = {}): Record<string, unknown> {
  const path = options.path ?? 'fields'
  if (!isPlainObject(fields)) throw new InvalidFieldError(path, 'must be an object')
  const omit = new Set(options.omit ?? [])
  const canonicalInput: Record<string, unknown> = {}
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (isCalendarField(key) || key === 'body') canonicalInput[key] = value
    else if (!omit.has(key)) {
      const normalized = normalizeGeneric(value, joinPath(path, key))
      if (normalized !== null) out[key] = normalized
    }
  }
  const canonical = comparableItem(normalizeCalendarItem(canonicalInput, path))
  for (const field of CALENDAR_FIELDS) {
    if (field in canonical && !omit.has(field) && !(field === 'description' && omit.has('body'))) out[field] = canonical[field]
  }
  return sortKeys(out) as Record<string, unknown>
}

export function fingerprintFields(fields: Record<string, unknown>, options: FingerprintOptions = {}): string {
  return hashCanonical(canonicalizeFields(fields, options))
}

/** A canonical item (e.g. from a reader) hashed without re-reading its values. */
export function fingerprintItem(item: PartialCalendarItem, options: Pick<FingerprintOptions, 'omit'> = {}): string {
  const omit = new Set(options.omit ?? [])
  const canonical = comparableItem(item)
  for (const key of Object.keys(canonical)) if (omit.has(key)) delete canonical[key]
  return hashCanonical(sortKeys(canonical) as Record<string, unknown>)
}

export interface NativeFingerprintInput {
  /** A Graph event resource. */
  event?: GraphEvent
  /** A Salesforce Event record (REST field names). */
  record?: SalesforceRecord
  /** Synced fields, best the canonical item. */
  fields?: Record<string, unknown>
}

/**
 * The fingerprint of whichever one of `event`, `record` or `fields` is given. A native event or record is read
 * into the canonical item first, so the same meeting hashes equal from Graph, from Salesforce and as fields.
 * `basePath` prefixes error paths (default: the body root).
 */
export function fingerprintFromNative(input: NativeFingerprintInput, options: { basePath?: string; omit?: string[] } = {}): string {
  const base = options.basePath ?? ''
  const given = (['event', 'record', 'fields'] as const).filter((key) => input[key] !== undefined && input[key] !== null)
  if (given.length !== 1) {
    throw new InvalidFieldError(base || 'fields', given.length === 0 ? 'one of fields, event or record is required' : `give only one of ${given.join(', ')}`)
  }
  if (input.event) return fingerprintItem(readGraphEvent(input.event, joinPath(base, 'event')).item, options)
  if (input.record) return fingerprintItem(readSalesforceRecord(input.record, joinPath(base, 'record')), options)
  return fingerprintFields(input.fields as Record<string, unknown>, { path: joinPath(base, 'fields'), omit: options.omit })
}

function hashCanonical(canonical: Record<string, unknown>): string {
  return createHash('sha256').update(FINGERPRINT_VERSION).update('\n').update(JSON.stringify(canonical)).digest('hex')
}

function normalizeGeneric(value: unknown, path: string): unknown {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') {
    const text = collapseWhitespace(value)
    if (isIsoInstantString(text)) return toInstant(text, path)
    return text
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'boolean') return value
  if (Array.isArray(value)) return value.map((entry, index) => normalizeGeneric(entry, joinPath(path, index)))
  if (isPlainObject(value)) {
    if (isGraphDateTime(value)) return graphDateTimeToInstant(value, path).instant
    const out: Record<string, unknown> = {}
    for (const [key, entry] of Object.entries(value)) {
      const normalized = normalizeGeneric(entry, joinPath(path, key))
      if (normalized !== null) out[key] = normalized
    }
    return out
  }
  return null
}

function isGraphDateTime(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value)
  return keys.length === 2 && typeof value.dateTime === 'string' && typeof value.timeZone === 'string'
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key])
    return out
  }
  return value
}
