// Turns /correlate and /correlate/confirm requests (explicit or native forms) into what the store decides on.
import { CREATE_KEY_RULE, isCreateKey } from './correlate-key.js'
import type { CorrelateSystem, CounterpartHint, ItemRef, SeriesRole } from './correlate-model.js'
import { readGraphEvent } from './graph-event.js'
import { readGraphNotification } from './graph-notification.js'
import { canonicalizeFields, fingerprintFromNative } from './fingerprint.js'
import { InvalidFieldError, type InvalidField } from './invalid-field.js'
import { DEFAULT_TENANT } from './keys.js'
import { otherSystem, type TargetState } from './correlate-rules.js'
import { readSeriesFacts, type SeriesFacts } from './correlate-series.js'
import { readSalesforceChangeEvent } from './salesforce-change-event.js'
import { readSalesforceRecord } from './salesforce-event.js'

type Json = Record<string, unknown>

/** The /correlate body after schema validation: types are right, cross-field rules are checked here. */
export interface CorrelateRequestBody {
  tenant?: string
  system?: CorrelateSystem
  itemId?: string
  changeType?: 'created' | 'updated' | 'deleted' | 'undeleted'
  fields?: Json
  fingerprint?: string
  event?: Json
  record?: Json
  changedBy?: string
  changeOrigin?: string
  /** either system and itemId, or createKey (the schema types each part; the form is checked here) */
  counterpartHint?: { system?: CorrelateSystem; itemId?: string; createKey?: string }
  targetFields?: Json
  targetEvent?: Json
  targetRecord?: Json
  seriesRole?: SeriesRole
  isChild?: boolean
  leaseMs?: number
  reread?: boolean
  claimToken?: string
  notification?: Json
  changeEvent?: Json
}

export interface CorrelateChange {
  tenant: string
  system: CorrelateSystem
  itemId: string
  /** undeleted: see DecideInput */
  changeType: 'created' | 'updated' | 'deleted' | 'undeleted'
  fingerprint?: string
  /** the state as an object: fields as given, or event / record read into the canonical item (not with fingerprint) */
  state?: Json
  changedBy?: string
  changeOrigin?: string
  counterpartHint?: CounterpartHint
  target?: TargetState
  series: SeriesFacts
  leaseMs: number
  /** the state was read again after an earlier_write answer */
  reread: boolean
  /** the /dedupe claim token the change is processed under: a reservation it took answers it again */
  claimToken?: string
}


const given = <K extends string>(body: Partial<Record<K, unknown>>, keys: readonly K[]) => keys.filter((key) => body[key] !== undefined)

/**
 * The fingerprint of one of fingerprint, fields, event or record (`prefix` is where they sit, e.g. "written.").
 * `event` belongs to an Outlook item and `record` to a Salesforce one.
 */
export function fingerprintOfState(
  body: { fingerprint?: string; fields?: Json; event?: Json; record?: Json },
  system: CorrelateSystem,
  prefix = '',
): string | undefined {
  const sent = given(body, ['fields', 'event', 'record', 'fingerprint'] as const)
  if (sent.length > 1) throw new InvalidFieldError(`${prefix}${sent[1]}`, `send one of fingerprint, fields, event or record, not ${sent.join(' and ')}`)
  if (body.event !== undefined && system !== 'outlook') throw new InvalidFieldError(`${prefix}event`, 'is a Graph event: it describes an Outlook item, not a Salesforce one')
  if (body.record !== undefined && system !== 'salesforce') {
    throw new InvalidFieldError(`${prefix}record`, 'is a Salesforce Event record: it describes a Salesforce item, not an Outlook one')
  }
  if (body.fingerprint !== undefined) return body.fingerprint
  if (sent.length === 0) return undefined
  return fingerprintFromNative({ fields: body.fields, event: body.event, record: body.record }, { basePath: prefix.replace(/\.$/, '') })
}

/**
 * The changed item's state: its fingerprint and, unless only a fingerprint was sent, the state itself (fields as
 * given, or the canonical item read from event / record), which the store may keep as what a create writes.
 */
function readChangeState(body: CorrelateRequestBody, system: CorrelateSystem): { fingerprint?: string; state?: Json } {
  const fingerprint = fingerprintOfState(body, system)
  if (fingerprint === undefined || body.fingerprint !== undefined) return { fingerprint }
  if (body.event !== undefined) return { fingerprint, state: { ...readGraphEvent(body.event, 'event').item } }
  if (body.record !== undefined) return { fingerprint, state: { ...readSalesforceRecord(body.record, 'record') } }
  return { fingerprint, state: body.fields }
}

function readTarget(body: CorrelateRequestBody, target: CorrelateSystem): TargetState | undefined {
  const sent = given(body, ['targetFields', 'targetEvent', 'targetRecord'] as const)
  if (sent.length > 1) throw new InvalidFieldError(sent[1], `send one of targetFields, targetEvent or targetRecord, not ${sent.join(' and ')}`)
  if (body.targetEvent !== undefined) {
    if (target !== 'outlook') throw new InvalidFieldError('targetEvent', 'is a Graph event, but the counterpart of an Outlook item is in Salesforce (send targetRecord or targetFields)')
    const event = body.targetEvent
    return { item: readGraphEvent(event, 'targetEvent').item }
  }
  if (body.targetRecord !== undefined) {
    if (target !== 'salesforce') throw new InvalidFieldError('targetRecord', 'is a Salesforce record, but the counterpart of a Salesforce item is in Outlook (send targetEvent or targetFields)')
    const record = body.targetRecord
    return { item: readSalesforceRecord(record, 'targetRecord') }
  }
  if (body.targetFields !== undefined) {
    const fields = body.targetFields
    canonicalizeFields(fields, { path: 'targetFields' })
    return { fields }
  }
  return undefined
}

/** The hint in one of its two forms: the source item's id, or the createKey our create was made with. */
function readCounterpartHint(hint: CorrelateRequestBody['counterpartHint'], other: CorrelateSystem): CounterpartHint | undefined {
  if (hint === undefined) return undefined
  const { system, itemId, createKey } = hint
  if (createKey !== undefined) {
    if (system !== undefined || itemId !== undefined) {
      throw new InvalidFieldError('counterpartHint.createKey', 'send either system and itemId, or createKey, not both')
    }
    if (!isCreateKey(createKey)) {
      throw new InvalidFieldError('counterpartHint.createKey', CREATE_KEY_RULE)
    }
    return { createKey }
  }
  if (system === undefined && itemId === undefined) {
    throw new InvalidFieldError('counterpartHint', 'send system and itemId (the source id stamped on the item), or createKey (the key it was created with)')
  }
  if (system === undefined) throw new InvalidFieldError('counterpartHint.system', 'is required with itemId')
  if (itemId === undefined) throw new InvalidFieldError('counterpartHint.itemId', 'is required with system')
  if (system !== other) {
    throw new InvalidFieldError('counterpartHint.system', `must be "${other}": the hint names the counterpart, in the other system`)
  }
  return { system, itemId }
}

const NATIVE_DERIVED = ['system', 'itemId', 'changeType'] as const

/**
 * The explicit form's missing fields (system, itemId, changeType) of a body that sends neither notification nor
 * changeEvent; the route also adds these beside a schema's refusal, so one answer names every field to fix.
 */
export function correlateExplicitFormErrors(body: unknown): InvalidField[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return []
  const record = body as Record<string, unknown>
  if (record.notification !== undefined || record.changeEvent !== undefined) return []
  return NATIVE_DERIVED.filter((key) => record[key] === undefined).map((path) => ({ path, message: 'is required (or send the native form: notification or changeEvent)' }))
}

/** One item change to correlate; native forms give system, itemId, changeType (and changedBy, changeOrigin). */
export function readCorrelateRequest(body: CorrelateRequestBody, defaults: { leaseMs: number }): CorrelateChange {
  const natives = given(body, ['notification', 'changeEvent'] as const)
  if (natives.length > 1) throw new InvalidFieldError('changeEvent', 'send one of notification or changeEvent, not both')
  if (natives.length === 1) {
    const extra = NATIVE_DERIVED.filter((key) => body[key] !== undefined)
    if (extra.length > 0) throw InvalidFieldError.of(extra.map((path) => ({ path, message: `is derived from ${natives[0]}; do not send it with the native form` })))
  }

  let system: CorrelateSystem
  let itemId: string
  let changeType: CorrelateRequestBody['changeType']
  let changedBy = body.changedBy
  let changeOrigin = body.changeOrigin
  let payload: Json | undefined
  if (body.notification !== undefined) {
    const change = readGraphNotification(body.notification, 'notification', false)
    ;({ system, itemId, changeType } = change)
  } else if (body.changeEvent !== undefined) {
    const changes = readSalesforceChangeEvent(body.changeEvent)
    const [change] = changes
    // one record id listed several times is one record
    if (changes.some((other) => other.itemId !== change.itemId)) {
      throw new InvalidFieldError(
        `${change.headerPath}.recordIds`,
        `holds ${changes.length} record ids: /correlate decides one item; call it once per id with the explicit form (system, itemId, changeType)`,
      )
    }
    if (change.overflow) {
      throw new InvalidFieldError(`${change.headerPath}.changeType`, 'is GAP_OVERFLOW: it names no record; resync the object instead of correlating it')
    }
    // Pairs are calendar events: an Account's or an EventRelation's change would otherwise be answered create.
    if (change.entityName !== 'Event') {
      throw new InvalidFieldError(`${change.headerPath}.entityName`, `is ${JSON.stringify(change.entityName.slice(0, 60))}: /correlate pairs Salesforce Events with Outlook events; send EventChangeEvent's changes only`)
    }
    ;({ system, itemId, changeType } = change)
    changedBy ??= change.commitUser
    changeOrigin ??= change.changeOrigin
    payload = change.payload
  } else {
    const missing = correlateExplicitFormErrors(body)
    if (missing.length > 0) throw InvalidFieldError.of(missing)
    system = body.system as CorrelateSystem
    itemId = body.itemId as string
    changeType = body.changeType
  }

  // Child events are Salesforce's (an invitee's copy): on an Outlook item the flag would skip a real change.
  if (body.isChild === true && system !== 'salesforce') throw new InvalidFieldError('isChild', 'applies to Salesforce events only (an invitee\'s child event); an Outlook item has none')
  // The same for Salesforce's commit facts: on an Outlook item they would make a person's change our echo.
  if (system === 'outlook') {
    const salesforceOnly = (['changedBy', 'changeOrigin'] as const).filter((key) => body[key] !== undefined)
    if (salesforceOnly.length > 0) {
      throw InvalidFieldError.of(salesforceOnly.map((path) => ({ path, message: 'applies to Salesforce changes only (commitUser / LastModifiedById, changeOrigin); an Outlook item has none' })))
    }
  }
  const other = otherSystem(system)
  const hint = readCounterpartHint(body.counterpartHint, other)
  const target = readTarget(body, other)
  const { fingerprint, state } = readChangeState(body, system)
  return {
    tenant: body.tenant ?? DEFAULT_TENANT,
    system,
    itemId,
    changeType: changeType as CorrelateChange['changeType'],
    fingerprint,
    state,
    changedBy,
    changeOrigin,
    counterpartHint: hint,
    target,
    series: readSeriesFacts(system, [body.event ?? body.record, payload], { seriesRole: body.seriesRole, isChild: body.isChild }),
    leaseMs: body.leaseMs ?? defaults.leaseMs,
    reread: body.reread === true,
    claimToken: body.claimToken,
  }
}

/** The /correlate/confirm body after schema validation. */
export interface ConfirmRequestBody {
  tenant?: string
  source: ItemRef
  target: ItemRef
  written?: { fields?: Json; fingerprint?: string; event?: Json; record?: Json }
  baseline?: Json
  reservationToken?: string
  deleted?: boolean
  replaces?: ItemRef
}

export interface ConfirmChange {
  tenant: string
  source: ItemRef
  target: ItemRef
  writtenFingerprint?: string
  baseline?: Json
  reservationToken?: string
  deleted: boolean
  replaces?: ItemRef
}

/** `written` says what the write left in the target, so it must hold it: `{}` would link and record no echo. */
function writtenFingerprintOf(written: NonNullable<ConfirmRequestBody['written']>, system: CorrelateSystem): string {
  const fingerprint = fingerprintOfState(written, system, 'written.')
  if (fingerprint === undefined) throw new InvalidFieldError('written', 'must hold one of fields, fingerprint, event or record: what the write left in target')
  return fingerprint
}

export function readConfirmRequest(body: ConfirmRequestBody): ConfirmChange {
  if (body.source.system === body.target.system) {
    throw new InvalidFieldError('target.system', `must be "${otherSystem(body.source.system)}": a link pairs an Outlook item with a Salesforce item`)
  }
  if (body.replaces !== undefined) {
    if (body.replaces.system !== body.target.system) {
      throw new InvalidFieldError('replaces.system', `must be "${body.target.system}": the item replaced is target's predecessor, in target's system`)
    }
    if (body.replaces.itemId === body.target.itemId) throw new InvalidFieldError('replaces.itemId', 'must not be target itself')
    if (body.deleted === true) throw new InvalidFieldError('replaces', 'goes with a create, not with deleted true')
  }
  const baseline = body.baseline
  // Checked now so a later both_changed comparison can always read it; stored exactly as given.
  if (baseline !== undefined) canonicalizeFields(baseline, { path: 'baseline' })
  return {
    tenant: body.tenant ?? DEFAULT_TENANT,
    source: body.source,
    target: body.target,
    writtenFingerprint: body.written ? writtenFingerprintOf(body.written, body.target.system) : undefined,
    baseline,
    reservationToken: body.reservationToken,
    deleted: body.deleted === true,
    replaces: body.replaces,
  }
}
