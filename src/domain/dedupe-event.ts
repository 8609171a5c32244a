// Turns a /dedupe request (explicit, Graph notification or Salesforce change event) into the change(s) to decide.
import { InvalidFieldError, isPlainObject, type InvalidField } from './invalid-field.js'
import { fingerprintFields } from './fingerprint.js'
import { readGraphNotification, type ChangeType } from './graph-notification.js'
import { DEFAULT_TENANT, type ItemKey } from './keys.js'
import { readInstant, readSalesforceChangeEvent } from './salesforce-change-event.js'

/** The request after schema validation: types are right, cross-field rules are checked here. */
export interface DedupeRequestBody {
  tenant?: string
  system?: string
  itemId?: string
  version?: string
  modifiedAt?: string | number
  changeType?: ChangeType
  fields?: Record<string, unknown>
  fingerprint?: string
  leaseMs?: number
  notification?: Record<string, unknown>
  changeEvent?: Record<string, unknown>
}

export interface DedupeEvent {
  key: ItemKey
  /** the version the store decides and records */
  version: string
  /** the version answers report, when it is not `version` (a Graph delete's changeKey) */
  reportedVersion?: string
  modifiedAt?: number
  changeType?: ChangeType
  fingerprint?: string
  gap: boolean
  overflow: boolean
  leaseMs: number
  meta?: Record<string, string>
}

const EXPLICIT_KEYS = ['system', 'itemId', 'version', 'modifiedAt', 'changeType'] as const

/** Cross-field rules shared by every route that takes fields-or-fingerprint. */
export function fingerprintOf(body: { fields?: Record<string, unknown>; fingerprint?: string }, at = ''): string | undefined {
  if (body.fields !== undefined && body.fingerprint !== undefined) {
    throw new InvalidFieldError(`${at}fingerprint`, 'send fields or fingerprint, not both')
  }
  if (body.fingerprint !== undefined) return body.fingerprint
  if (body.fields !== undefined) return fingerprintFields(body.fields, { path: `${at}fields` })
  return undefined
}

const EXPLICIT_REQUIRED = ['system', 'itemId', 'version'] as const

/**
 * What is wrong with an explicit-form request, every field of it: the missing ones and an unreadable modifiedAt. For
 * a body that has neither notification nor changeEvent; the route also adds these beside a schema's refusal, so one
 * answer names every field to fix.
 */
export function explicitFormErrors(body: unknown, at = ''): InvalidField[] {
  if (!isPlainObject(body) || body.notification !== undefined || body.changeEvent !== undefined) return []
  const invalid: InvalidField[] = []
  for (const field of EXPLICIT_REQUIRED) {
    if (body[field] === undefined) invalid.push({ path: `${at}${field}`, message: 'is required (or send the native form: notification or changeEvent)' })
  }
  if (typeof body.modifiedAt === 'string' || typeof body.modifiedAt === 'number') {
    try {
      readInstant(body.modifiedAt, `${at}modifiedAt`)
    } catch (error) {
      if (!(error instanceof InvalidFieldError)) throw error
      invalid.push({ path: error.path, message: error.fieldMessage })
    }
  }
  return invalid
}

/**
 * One event per item: a Salesforce change event with several recordIds fans out (only /dedupe/batch allows it;
 * `allowFanOut` false makes it a 400 that points there). `at` prefixes error paths (e.g. "events.3.").
 */
export function readDedupeRequest(
  body: DedupeRequestBody,
  defaults: { tenant?: string; leaseMs: number; allowFanOut: boolean },
  at = '',
): DedupeEvent[] {
  const tenant = body.tenant ?? defaults.tenant ?? DEFAULT_TENANT
  const leaseMs = body.leaseMs ?? defaults.leaseMs
  const natives = [body.notification !== undefined && 'notification', body.changeEvent !== undefined && 'changeEvent'].filter(Boolean)
  if (natives.length > 1) throw new InvalidFieldError(`${at}changeEvent`, 'send one of notification or changeEvent, not both')
  const fingerprint = fingerprintOf(body, at)

  if (natives.length === 1) {
    const extra = EXPLICIT_KEYS.find((k) => body[k] !== undefined)
    if (extra) {
      throw new InvalidFieldError(`${at}${extra}`, `is derived from ${natives[0]}; do not send it with the native form`)
    }
  }

  if (body.notification !== undefined) {
    const change = readGraphNotification(body.notification, `${at}notification`)
    const meta: Record<string, string> = {}
    if (change.graphTenantId) meta.graphTenantId = change.graphTenantId
    if (change.subscriptionId) meta.subscriptionId = change.subscriptionId
    return [
      {
        key: { tenant, system: 'outlook', itemId: change.itemId },
        version: change.version,
        reportedVersion: change.changeKey === change.version ? undefined : change.changeKey,
        changeType: change.changeType,
        fingerprint,
        gap: false,
        overflow: false,
        leaseMs,
        meta,
      },
    ]
  }

  if (body.changeEvent !== undefined) {
    let changes = readSalesforceChangeEvent(body.changeEvent, `${at}changeEvent`)
    // one record id listed several times is one record (a batch keeps one result per listed id)
    if (changes.length > 1 && !defaults.allowFanOut && changes.every((change) => change.itemId === changes[0].itemId)) changes = [changes[0]]
    if (changes.length > 1 && !defaults.allowFanOut) {
      throw new InvalidFieldError(
        `${changes[0].headerPath}.recordIds`,
        `holds ${changes.length} record ids: send this change event to /dedupe/batch, which answers one result per id`,
      )
    }
    return changes.map((change) => {
      const meta: Record<string, string> = { entityName: change.entityName }
      // A gap flags the item's record until the next native change event for it replaces these facts.
      if (change.gap) meta.gap = change.sourceChangeType
      return {
        key: { tenant, system: 'salesforce', itemId: change.itemId },
        version: change.version,
        modifiedAt: change.modifiedAt,
        changeType: change.changeType,
        // Gap events carry no field data: a fingerprint would wrongly make them `unchanged`.
        fingerprint: change.gap ? undefined : fingerprint,
        gap: change.gap,
        overflow: change.overflow,
        leaseMs,
        meta,
      }
    })
  }

  // With the three present, modifiedAt is the only field left to refuse, and readInstant below names it.
  if (body.system === undefined || body.itemId === undefined || body.version === undefined) throw InvalidFieldError.of(explicitFormErrors(body, at))
  return [
    {
      key: { tenant, system: body.system as string, itemId: body.itemId as string },
      version: body.version as string,
      modifiedAt: readInstant(body.modifiedAt, `${at}modifiedAt`),
      changeType: body.changeType,
      fingerprint,
      gap: false,
      overflow: false,
      leaseMs,
    },
  ]
}
