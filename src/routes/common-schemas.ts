// Request pieces shared by the routes: tenant, ids, fields/fingerprint, lease, native payloads, instants.
import { z } from 'zod'
import { LEASE_MAX_MS, LEASE_MIN_MS } from '../config.js'

/** A schema's error: "is required" when the field is missing, else "must be <what>". */
export const required = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`)

export const tenantSchema = z
  .string({ error: required('a string') })
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .describe('Namespace for every key, so one sidecar serves several sync pairs without collisions. Default "default".')

export const systemSchema = z
  .string({ error: required('a string') })
  .regex(/^[a-z0-9-]{1,32}$/, 'must be "outlook", "salesforce" or another name of 1-32 characters a-z, 0-9, "-"')
  .describe('The system the item lives in: "outlook", "salesforce", or any [a-z0-9-]{1,32}.')

export const itemIdSchema = z
  .string({ error: required('a string') })
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters')
  .describe('The item id in its system, exactly as that system spells it (Graph ids are case-sensitive; use 18-character Salesforce ids).')

export const versionSchema = z
  .string({ error: required('a string') })
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters')
  .describe('Opaque change marker: the Graph changeKey, the Salesforce transactionKey:sequenceNumber, or any string that changes with each version.')

export const instantSchema = z
  .union([z.string(), z.number()], { error: 'must be an ISO-8601 date-time or epoch milliseconds' })
  .describe('ISO-8601 date-time with a zone (e.g. 2026-03-09T09:30:05Z) or epoch milliseconds.')

export const changeTypeSchema = z
  .enum(['created', 'updated', 'deleted', 'undeleted'], { error: 'must be "created", "updated", "deleted" or "undeleted"' })
  .describe('What happened to the item.')

export const fieldsSchema = z
  .record(z.string(), z.unknown(), { error: 'must be an object of the synced fields' })
  .describe(
    'The synced fields as they are now, best as the canonical calendar item (subject, start, end, isAllDay, location, description, showAs, isPrivate, attendees; partial allowed). The sidecar fingerprints them: key order, whitespace, time zones and HTML vs text do not matter (a description given as a string, or a Salesforce Description, counts as HTML only when it holds a document tag, <br>, <hr>, an image, or a well-known tag with its closing tag; a Graph body object says its contentType). Send fields or fingerprint, not both.',
  )

export const fingerprintSchema = z
  .string({ error: required('a string') })
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .describe('Your own hash of the synced fields, stored and compared as given. Send fields or fingerprint, not both.')

export const leaseMsSchema = z
  .number({ error: required('an integer') })
  .int('must be an integer')
  .min(LEASE_MIN_MS, `must be at least ${LEASE_MIN_MS}`)
  .max(LEASE_MAX_MS, `must be at most ${LEASE_MAX_MS}`)
  .describe(`How long the claim (or reservation) is held before it lapses, ${LEASE_MIN_MS}-${LEASE_MAX_MS} ms. Default DEFAULT_LEASE_MS (60 s).`)

export const notificationSchema = z
  .record(z.string(), z.unknown(), { error: 'must be one Graph changeNotification object' })
  .describe(
    'Native form: one Microsoft Graph changeNotification (an element of the collection\'s "value"). The sidecar derives system "outlook", itemId = resourceData.id, version = the changeKey inside resourceData.@odata.etag, changeType. A deleted notification is answered with that changeKey too, but kept as "deleted:" and the changeKey (as the item\'s record shows it), so a delete is never the duplicate of an update that carried the same etag, while its own replays are. Validation and lifecycle notifications are answered with 400 saying where they belong.',
  )

export const changeEventSchema = z
  .record(z.string(), z.unknown(), { error: 'must be a Salesforce change event object' })
  .describe(
    'Native form: a Salesforce change event as the CometD message { schema, payload, event }, the wrapped { data, channel }, or the decoded payload { ChangeEventHeader, ... }. system "salesforce", itemId = the one id in recordIds, version = transactionKey:sequenceNumber, modifiedAt = LastModifiedDate or commitTimestamp. The header must carry entityName, changeType, transactionKey, sequenceNumber, commitTimestamp and (but for GAP_OVERFLOW) recordIds, as every change event does (400 naming the one missing); commitUser and changeOrigin, when present, are strings. Several recordIds: use /dedupe/batch.',
  )

// Any other parameter is refused: a misspelt tenant (?tennant=acme) would otherwise read or delete the default tenant's record.
export const tenantQuerySchema = z.strictObject({ tenant: tenantSchema.optional() })
export const itemParamsSchema = z.object({
  system: systemSchema,
  itemId: itemIdSchema.describe(
    'The item id in its system, exactly as that system spells it (Graph ids are case-sensitive; use 18-character Salesforce ids), percent-encoded in the path (a / as %2F): an unencoded / makes another path, which no route serves.',
  ),
})

// Answers carry several instants each (expiresAt, committedAt) and most fall in the same second, so the
// "YYYY-MM-DDTHH:mm:ss." part is formatted once per second and only the milliseconds are added.
let cachedSecond = Number.NaN
let cachedPrefix = ''

/** ISO-8601 in UTC with milliseconds, exactly as Date#toISOString (which throws the same RangeError for invalid instants). */
export function isoOf(ms: number): string
export function isoOf(ms: number | undefined): string | undefined
export function isoOf(ms: number | undefined): string | undefined {
  if (ms === undefined) return undefined
  const whole = Math.trunc(ms) // as Date does
  if (!(Math.abs(whole) <= 8.64e15)) return new Date(ms).toISOString() // NaN or out of range: Date's own RangeError
  const second = Math.floor(whole / 1000)
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString()
    cachedPrefix = iso.slice(0, -4) // drop "000Z"
    cachedSecond = second
  }
  const milli = whole - second * 1000
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`
}
