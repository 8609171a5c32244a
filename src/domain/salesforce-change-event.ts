// Reads a Salesforce Change Data Capture event (CometD envelope, wrapped form or decoded payload) into item changes.
import { InvalidFieldError } from './invalid-field.js'
import { MAX_ID_LENGTH } from './keys.js'
import type { ChangeType } from './graph-notification.js'

export interface SalesforceChange {
  system: 'salesforce'
  itemId: string
  /** transactionKey:sequenceNumber */
  version: string
  /** LastModifiedDate when present, else commitTimestamp (epoch ms) */
  modifiedAt?: number
  changeType: ChangeType
  /** GAP_* events: no field data, the caller must re-read the record */
  gap: boolean
  /** GAP_OVERFLOW: no record id, resync the whole object */
  overflow: boolean
  /** the header's changeType as sent (GAP_UPDATE, UPDATE, ...) */
  sourceChangeType: string
  /** the dotted path of the ChangeEventHeader in the request, through whichever envelope it came in */
  headerPath: string
  entityName: string
  commitUser?: string
  changeOrigin?: string
  changedFields: string[]
  nulledFields: string[]
  /** the body fields beside ChangeEventHeader */
  payload: Record<string, unknown>
  replayId?: unknown
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const CHANGE_TYPES: Record<string, ChangeType> = {
  CREATE: 'created',
  UPDATE: 'updated',
  DELETE: 'deleted',
  UNDELETE: 'undeleted',
}

/** The latest instant a JavaScript Date can hold (year 275760). */
const MAX_EPOCH_MS = 8.64e15

/** Salesforce object API names run to about 40 characters; the GAP_OVERFLOW item id is overflow:<entityName>. */
const MAX_ENTITY_NAME = 255
/** The version transactionKey:sequenceNumber stays within MAX_ID_LENGTH: a safe integer prints in at most 16 digits. */
const MAX_TRANSACTION_KEY = 1000

/** Whether the YYYY-MM-DD that starts `text` is a day of the calendar (month 1-12, day within that month). */
function dayExists(text: string): boolean {
  const year = Number(text.slice(0, 4))
  const month = Number(text.slice(5, 7))
  const day = Number(text.slice(8, 10))
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Epoch ms from an ISO string or an epoch-ms number; undefined when absent; InvalidFieldError when malformed. */
export function readInstant(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number') {
    if (value < 0) throw new InvalidFieldError(path, 'must not be negative: epoch milliseconds count from 1970-01-01T00:00:00Z')
    if (!Number.isFinite(value) || value > MAX_EPOCH_MS) throw new InvalidFieldError(path, 'must be an ISO-8601 date-time or epoch milliseconds')
    // a fraction would be dropped, and the ordering would then treat 1000.7 and 1000.3 as one instant
    if (!Number.isInteger(value)) throw new InvalidFieldError(path, 'must be whole epoch milliseconds (no fraction)')
    return value
  }
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) {
      const ms = Number(value)
      if (ms > MAX_EPOCH_MS) throw new InvalidFieldError(path, 'is past the latest date a timestamp can hold')
      return ms
    }
    // Date.parse accepts non-ISO text too; insist on an ISO-8601 date-time shape first. It also rolls a day past the
    // month's end (February 30th) into the next month, which would move the item's ordering mark to a wrong instant.
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(value) && dayExists(value)) {
      const ms = Date.parse(value.replace(/(\.\d{3})\d+/, '$1'))
      if (Number.isFinite(ms)) return ms
    }
  }
  throw new InvalidFieldError(path, 'must be an ISO-8601 date-time with a zone (e.g. 2026-03-09T09:30:05Z) or epoch milliseconds')
}

/** A header text that may be absent (or null); any other type is a 400 naming it. */
function optionalText(value: unknown, path: string, what: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new InvalidFieldError(path, `must be a string: ${what}`)
  return value
}

const stringList = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [])

/** Finds the decoded payload and where it sits, whichever envelope carries it. */
function unwrap(raw: Record<string, unknown>, at: string): { payload: Record<string, unknown>; path: string; replayId?: unknown } {
  if (isObject(raw.ChangeEventHeader)) return { payload: raw, path: at }
  if (isObject(raw.payload) && isObject(raw.payload.ChangeEventHeader)) {
    return { payload: raw.payload, path: `${at}.payload`, replayId: isObject(raw.event) ? raw.event.replayId : undefined }
  }
  if (isObject(raw.data) && isObject(raw.data.payload) && isObject(raw.data.payload.ChangeEventHeader)) {
    const data = raw.data
    return { payload: data.payload as Record<string, unknown>, path: `${at}.data.payload`, replayId: isObject(data.event) ? data.event.replayId : undefined }
  }
  throw new InvalidFieldError(
    at,
    'must be a Salesforce change event: a CometD message { schema, payload: { ChangeEventHeader, ... }, event }, the wrapped form { data: { payload, event }, channel }, or the decoded payload { ChangeEventHeader, ... }',
  )
}

/** One change per record id (a GAP_OVERFLOW gives one change with itemId `overflow:<entityName>`). */
export function readSalesforceChangeEvent(raw: unknown, at = 'changeEvent'): SalesforceChange[] {
  if (!isObject(raw)) throw new InvalidFieldError(at, 'must be a Salesforce change event object')
  const { payload, path, replayId } = unwrap(raw, at)
  const header = payload.ChangeEventHeader as Record<string, unknown>
  const hp = `${path}.ChangeEventHeader`

  const rawType = header.changeType
  if (typeof rawType !== 'string') throw new InvalidFieldError(`${hp}.changeType`, 'is required')
  const gap = rawType.startsWith('GAP_')
  const overflow = rawType === 'GAP_OVERFLOW'
  const baseType = gap ? rawType.slice(4) : rawType
  const changeType: ChangeType | undefined = overflow ? 'updated' : CHANGE_TYPES[baseType]
  if (!changeType) {
    throw new InvalidFieldError(`${hp}.changeType`, `"${rawType}" is not a change this sidecar orders (CREATE, UPDATE, DELETE, UNDELETE, GAP_*, GAP_OVERFLOW)`)
  }

  const entityName = typeof header.entityName === 'string' && header.entityName.length > 0 ? header.entityName : undefined
  if (!entityName) throw new InvalidFieldError(`${hp}.entityName`, 'must be a non-empty string')
  if (entityName.length > MAX_ENTITY_NAME) throw new InvalidFieldError(`${hp}.entityName`, `must be at most ${MAX_ENTITY_NAME} characters`)
  const transactionKey = header.transactionKey
  if (typeof transactionKey !== 'string' || transactionKey.length === 0) throw new InvalidFieldError(`${hp}.transactionKey`, 'must be a non-empty string')
  if (transactionKey.length > MAX_TRANSACTION_KEY) throw new InvalidFieldError(`${hp}.transactionKey`, `must be at most ${MAX_TRANSACTION_KEY} characters`)
  const sequenceNumber = header.sequenceNumber
  if (typeof sequenceNumber !== 'number' || !Number.isSafeInteger(sequenceNumber) || sequenceNumber < 0) {
    throw new InvalidFieldError(`${hp}.sequenceNumber`, 'must be a non-negative integer (at most 2^53 - 1)')
  }
  // Every change event carries it; without it a DELETE would be undated, and an undated delete makes every later event
  // of the record stale, a dated restore included.
  if (header.commitTimestamp === undefined || header.commitTimestamp === null) {
    throw new InvalidFieldError(`${hp}.commitTimestamp`, 'is required: the commit time every ChangeEventHeader carries (epoch ms)')
  }
  const commitTimestamp = readInstant(header.commitTimestamp, `${hp}.commitTimestamp`)
  const lastModified = readInstant(payload.LastModifiedDate, `${path}.LastModifiedDate`)

  let ids: string[]
  if (overflow) {
    ids = [`overflow:${entityName}`]
  } else {
    const recordIds = header.recordIds
    if (!Array.isArray(recordIds)) throw new InvalidFieldError(`${hp}.recordIds`, recordIds === undefined ? 'is required' : 'must be an array of record ids')
    if (recordIds.length === 0) throw new InvalidFieldError(`${hp}.recordIds`, 'must hold at least one record id')
    recordIds.forEach((id, i) => {
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
        const what = typeof id === 'string' && id.length > MAX_ID_LENGTH ? `must be at most ${MAX_ID_LENGTH} characters` : 'must be a non-empty record id'
        throw new InvalidFieldError(`${hp}.recordIds.${i}`, what)
      }
    })
    ids = recordIds as string[]
  }

  // Who made the change and through which client decide whether it is our own echo (/correlate): one of another type
  // is refused rather than read as no one.
  const commitUser = optionalText(header.commitUser, `${hp}.commitUser`, 'the id of the user who committed the change')
  const changeOrigin = optionalText(header.changeOrigin, `${hp}.changeOrigin`, 'the API and client the change came through')

  const { ChangeEventHeader: _header, ...fields } = payload
  return ids.map((itemId) => ({
    system: 'salesforce' as const,
    itemId,
    version: `${transactionKey}:${sequenceNumber}`,
    modifiedAt: lastModified ?? commitTimestamp,
    changeType,
    gap,
    overflow,
    sourceChangeType: rawType,
    headerPath: hp,
    entityName,
    commitUser,
    changeOrigin,
    changedFields: stringList(header.changedFields),
    nulledFields: stringList(header.nulledFields),
    payload: fields,
    replayId,
  }))
}
