// Time values between systems: Graph dateTimeTimeZone (Windows or IANA zones), ISO strings, epoch ms, plain dates.
import { DateTime, IANAZone } from 'luxon'
import { WINDOWS_TO_IANA_MAP } from 'windows-iana'
import { InvalidFieldError, isPlainObject, joinPath } from './invalid-field.js'

/** Legacy custom Outlook zones have no IANA equivalent: their times are read as UTC and flagged. */
export const CUSTOM_ZONE_NAMES = ['tzone://Microsoft/Custom', 'Customized Time Zone']

export interface GraphDateTime {
  dateTime: string
  timeZone: string
}

export interface ResolvedZone {
  /** An IANA id luxon understands. */
  zone: string
  /** True for a custom Outlook zone that was read as UTC. */
  custom: boolean
}

export interface ZonedInstant {
  instant: string
  customZone: boolean
}

// Windows names are matched case-insensitively; territory 001 is CLDR's default IANA zone for each name.
const windowsToIana = new Map<string, string>()
for (const entry of WINDOWS_TO_IANA_MAP) {
  if (entry.territory === '001' && entry.iana.length > 0) windowsToIana.set(entry.windowsName.toLowerCase(), entry.iana[0])
}
const customZones = new Set(CUSTOM_ZONE_NAMES.map((name) => name.toLowerCase()))

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
// An offset is at most 23:59 either way (RFC 3339's grammar); luxon alone would read +99:99 as an instant.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?$/i
// The range every system here can hold; also keeps toISOString in its four-digit-year form.
const MIN_MS = Date.UTC(1, 0, 1)
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

export function resolveTimeZone(name: string): ResolvedZone | undefined {
  const trimmed = name.trim()
  const lower = trimmed.toLowerCase()
  if (customZones.has(lower)) return { zone: 'UTC', custom: true }
  const windows = windowsToIana.get(lower)
  if (windows) return { zone: windows, custom: false }
  if (IANAZone.isValidZone(trimmed)) return { zone: trimmed, custom: false }
  return undefined
}

export function isDateOnly(value: string): boolean {
  return DATE_ONLY.test(value) && DateTime.fromISO(value, { zone: 'utc' }).isValid
}

/** True for an ISO-8601 date-time that names its offset (`Z` or `+hh:mm`): an unambiguous instant. */
export function isIsoInstantString(value: string): boolean {
  const match = ISO_DATE_TIME.exec(value)
  return match !== null && match[1] !== undefined && DateTime.fromISO(value).isValid
}

export function looksLikeIsoDateTime(value: string): boolean {
  return ISO_DATE_TIME.test(value)
}

export function formatInstant(ms: number): string {
  return new Date(ms).toISOString()
}

export function epochMsToInstant(ms: number, path: string): string {
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) throw new InvalidFieldError(path, 'is not a valid epoch-milliseconds time')
  return formatInstant(Math.trunc(ms))
}

/**
 * An ISO date-time string or epoch ms as a canonical UTC instant (`2026-03-02T17:00:00.000Z`).
 * A string without offset is read as UTC: that is what both Graph (no Prefer header) and Salesforce send.
 */
export function toInstant(value: unknown, path: string): string {
  if (typeof value === 'number') return epochMsToInstant(value, path)
  if (typeof value !== 'string') throw new InvalidFieldError(path, 'must be an ISO-8601 date-time or epoch milliseconds')
  const text = value.trim()
  if (!looksLikeIsoDateTime(text)) throw new InvalidFieldError(path, 'must be an ISO-8601 date-time or epoch milliseconds')
  const parsed = DateTime.fromISO(text.replace(',', '.'), { zone: 'utc' })
  if (!parsed.isValid) throw new InvalidFieldError(path, `is not a valid date-time (${parsed.invalidExplanation ?? parsed.invalidReason})`)
  return epochMsToInstant(parsed.toMillis(), path)
}

/** Graph's `{ dateTime, timeZone }` as a UTC instant; wall times in a DST gap move forward, as luxon does. */
export function graphDateTimeToInstant(value: unknown, path: string): ZonedInstant {
  if (!isPlainObject(value)) throw new InvalidFieldError(path, 'must be an object { dateTime, timeZone }')
  const { dateTime, timeZone } = value
  if (typeof dateTime !== 'string' || !looksLikeIsoDateTime(dateTime.trim())) {
    throw new InvalidFieldError(joinPath(path, 'dateTime'), 'must be an ISO-8601 date-time such as 2026-03-10T15:30:00.0000000')
  }
  let resolved: ResolvedZone = { zone: 'UTC', custom: false }
  if (timeZone !== undefined && timeZone !== null && timeZone !== '') {
    if (typeof timeZone !== 'string') throw new InvalidFieldError(joinPath(path, 'timeZone'), 'must be a Windows or IANA time zone name')
    const found = resolveTimeZone(timeZone)
    if (!found) throw new InvalidFieldError(joinPath(path, 'timeZone'), `unknown time zone "${timeZone}"`)
    resolved = found
  }
  // An explicit offset inside dateTime wins over timeZone: it already names the instant.
  const parsed = DateTime.fromISO(dateTime.trim().replace(',', '.'), { zone: resolved.zone })
  if (!parsed.isValid) throw new InvalidFieldError(joinPath(path, 'dateTime'), 'is not a valid date-time')
  return { instant: epochMsToInstant(parsed.toMillis(), joinPath(path, 'dateTime')), customZone: resolved.custom }
}

/** The calendar date as written, never shifted through a zone (all-day items are floating dates). */
export function writtenDate(value: unknown, path: string): string {
  if (typeof value === 'number') return epochMsToInstant(value, path).slice(0, 10)
  if (isPlainObject(value) && typeof value.dateTime === 'string') return writtenDate(value.dateTime, joinPath(path, 'dateTime'))
  if (typeof value !== 'string') throw new InvalidFieldError(path, 'must be a date YYYY-MM-DD')
  const text = value.trim()
  const date = text.slice(0, 10)
  if (!isDateOnly(date) || !(text.length === 10 || looksLikeIsoDateTime(text))) {
    throw new InvalidFieldError(path, 'must be a date YYYY-MM-DD')
  }
  return date
}

export function instantToGraphDateTime(instant: string): GraphDateTime {
  // Graph writes seven fraction digits; padding the milliseconds keeps the value exact.
  return { dateTime: `${instant.slice(0, 23)}0000`, timeZone: 'UTC' }
}

export function dateToGraphDateTime(date: string): GraphDateTime {
  return { dateTime: `${date}T00:00:00.0000000`, timeZone: 'UTC' }
}

export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'utc' }).plus({ days }).toISODate() as string
}

export function daysBetween(start: string, end: string): number {
  return Math.round(DateTime.fromISO(end, { zone: 'utc' }).diff(DateTime.fromISO(start, { zone: 'utc' }), 'days').days)
}
