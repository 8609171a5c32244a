// Reads Graph notification collections from Event Hubs bodies and sorts each element: drop, lifecycle or change.
import { changeKeyFromEtag, isValidationNotification } from '../domain/graph-notification.js'

export type ChangeType = 'created' | 'updated' | 'deleted'

/** Why a notification was not forwarded; each is a metric label. */
export type DropReason = 'validation' | 'client_state' | 'malformed' | 'unparsable'

export interface ChangeNotification {
  kind: 'change'
  tenantId: string
  subscriptionId: string
  itemId: string
  resource: string
  changeType: ChangeType
  /** changeKey without the W/"..." wrapper; undefined when the notification carries none */
  etag?: string
}

export interface LifecycleNotification {
  kind: 'lifecycle'
  lifecycleEvent: string
  subscriptionId: string
  tenantId: string | null
}

export interface DroppedNotification {
  kind: 'drop'
  reason: DropReason
}

export type ClassifiedNotification = ChangeNotification | LifecycleNotification | DroppedNotification

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.length > 0

const toChangeType = (value: unknown): ChangeType | undefined =>
  value === 'created' || value === 'updated' || value === 'deleted' ? value : undefined

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * The elements of one event's `{ value: [...] }` collection, or undefined when the body is not one.
 * The SDK hands over parsed JSON, but a body it could not parse arrives as bytes and a producer may send a string.
 */
export function readNotificationCollection(body: unknown): unknown[] | undefined {
  let parsed = body
  try {
    if (body instanceof Uint8Array) parsed = JSON.parse(decoder.decode(body))
    else if (typeof body === 'string') parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  if (!isObject(parsed) || !Array.isArray(parsed.value)) return undefined
  return parsed.value
}

/**
 * Sorts one element of `value` in the order the pre-filter applies its rules: validation probes first (they carry
 * "NA" as clientState), then the clientState check (lifecycle notifications too), then lifecycle, then change.
 */
export function classifyNotification(raw: unknown, clientStates: ReadonlySet<string>): ClassifiedNotification {
  if (!isObject(raw)) return { kind: 'drop', reason: 'malformed' }
  if (isValidationNotification(raw)) return { kind: 'drop', reason: 'validation' }
  if (clientStates.size > 0 && (typeof raw.clientState !== 'string' || !clientStates.has(raw.clientState))) {
    return { kind: 'drop', reason: 'client_state' }
  }
  // (null counts as absent, as a relay that writes every field may send it on a change notification)
  if (raw.lifecycleEvent !== undefined && raw.lifecycleEvent !== null) {
    // Unknown lifecycle values are still forwarded: losing a "resync needed" signal costs more than an odd message.
    if (!nonEmpty(raw.lifecycleEvent) || !nonEmpty(raw.subscriptionId)) return { kind: 'drop', reason: 'malformed' }
    return {
      kind: 'lifecycle',
      lifecycleEvent: raw.lifecycleEvent,
      subscriptionId: raw.subscriptionId,
      tenantId: nonEmpty(raw.tenantId) ? raw.tenantId : null,
    }
  }
  const changeType = toChangeType(raw.changeType)
  const data = raw.resourceData
  if (!changeType || !isObject(data) || !nonEmpty(data.id) || !nonEmpty(raw.tenantId) || !nonEmpty(raw.subscriptionId)) {
    return { kind: 'drop', reason: 'malformed' }
  }
  const etag = typeof data['@odata.etag'] === 'string' ? changeKeyFromEtag(data['@odata.etag']) : ''
  const resource = typeof raw.resource === 'string' ? raw.resource : typeof data['@odata.id'] === 'string' ? data['@odata.id'] : ''
  return {
    kind: 'change',
    tenantId: raw.tenantId,
    subscriptionId: raw.subscriptionId,
    itemId: data.id,
    resource,
    changeType,
    etag: etag.length > 0 ? etag : undefined,
  }
}
