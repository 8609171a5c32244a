// Reads one Microsoft Graph changeNotification into the item change it describes.
import { InvalidFieldError } from './invalid-field.js'
import { MAX_ID_LENGTH } from './keys.js'

/** A Graph delete's version: its changeKey behind this prefix (see readGraphNotification). */
export const DELETE_VERSION_PREFIX = 'deleted:'

export type ChangeType = 'created' | 'updated' | 'deleted' | 'undeleted'

export interface GraphChange {
  system: 'outlook'
  itemId: string
  /** the version the sidecar keeps: the changeKey, a delete's behind DELETE_VERSION_PREFIX */
  version: string
  /** the changeKey: resourceData.@odata.etag without its W/"..." wrapper, as answers report the version */
  changeKey: string
  changeType: 'created' | 'updated' | 'deleted'
  /** the mailbox tenant (kept on the record; not the sidecar tenant) */
  graphTenantId?: string
  subscriptionId?: string
  resource?: string
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** True for the reachability probe Graph writes when a subscription is created. */
export function isValidationNotification(n: Record<string, unknown>): boolean {
  return n.subscriptionId === 'NA' || (typeof n.changeType === 'string' && n.changeType.startsWith('Validation:'))
}

/**
 * A body that is a Graph notification collection ({ "value": [ ... ] }, what Graph posts and Event Hubs carries)
 * rather than one change: the error that says how to send it, or undefined when the body is something else.
 * `at` prefixes the path (a batch event's position). `hint` says where its notifications go: to /dedupe one at a
 * time or to /dedupe/batch ('batch'), one call each (/correlate: 'one-each'), or as the batch's events ('events',
 * a collection posted to /dedupe/batch as its body).
 */
export function notificationCollectionError(body: unknown, at = '', hint: 'batch' | 'one-each' | 'events' = 'batch'): InvalidFieldError | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const { value, system, notification, changeEvent } = body as Record<string, unknown>
  if (!Array.isArray(value) || system !== undefined || notification !== undefined || changeEvent !== undefined) return undefined
  const validation = value.some((n) => typeof n === 'object' && n !== null && isValidationNotification(n as Record<string, unknown>))
  return new InvalidFieldError(
    `${at}value`,
    validation
      ? 'is a Graph notification collection holding a validation message: answer it from the subscription endpoint, not here'
      : hint === 'events'
        ? 'is a Graph notification collection: send its notifications as the batch\'s events, { "events": [ { "notification": ... }, ... ] }'
        : `is a Graph notification collection: send one notification as { "notification": ... }${hint === 'batch' ? ', or several to /dedupe/batch as { "events": [ { "notification": ... }, ... ] }' : ', one call each'}`,
  )
}

/** Graph's tenant and subscription ids are GUIDs; what the record keeps of them is bounded like every id it keeps. */
function kept(value: unknown, path: string): string | undefined {
  if (typeof value !== 'string') return undefined
  if (value.length > MAX_ID_LENGTH) throw new InvalidFieldError(path, `must be at most ${MAX_ID_LENGTH} characters`)
  return value
}

/** Strips the weak-ETag wrapper: W/"abc" -> abc; a bare value is kept as it is. */
export function changeKeyFromEtag(etag: string): string {
  const match = /^(?:W\/)?"(.*)"$/.exec(etag.trim())
  return match ? match[1] : etag.trim()
}

/**
 * Throws InvalidFieldError (path under `at`) for validation and lifecycle messages and for notifications
 * that lack what a change needs; they are answered with a 400 that says where they belong.
 */
export function readGraphNotification(raw: unknown, at = 'notification', batchHint = true): GraphChange {
  if (!isObject(raw)) throw new InvalidFieldError(at, 'must be one Graph changeNotification object')
  if (Array.isArray(raw.value)) {
    throw new InvalidFieldError(at, `is a notification collection ({ value: [...] }); send one element of value per call${batchHint ? ', or use /dedupe/batch' : ''}`)
  }
  if (isValidationNotification(raw)) {
    throw new InvalidFieldError(
      at,
      'is a Graph validation message (subscriptionId "NA" / changeType "Validation: ..."): it carries no change; drop it before the sidecar (the pre-filter does)',
    )
  }
  if (typeof raw.lifecycleEvent === 'string') {
    throw new InvalidFieldError(
      at,
      `is a Graph lifecycle notification (${raw.lifecycleEvent}): it carries no item change; route it to the subscription-maintenance flow (reauthorize, recreate or resync)`,
    )
  }
  const changeType = raw.changeType
  if (changeType !== 'created' && changeType !== 'updated' && changeType !== 'deleted') {
    throw new InvalidFieldError(`${at}.changeType`, 'must be "created", "updated" or "deleted"')
  }
  const resourceData = raw.resourceData
  if (!isObject(resourceData)) {
    // An oversized rich notification through Event Hubs leaves its resource and resourceData in blob storage.
    if (typeof raw.additionalPayloadStorageId === 'string') {
      throw new InvalidFieldError(
        `${at}.resourceData`,
        `is in blob storage (additionalPayloadStorageId ${JSON.stringify(raw.additionalPayloadStorageId.slice(0, 200))}): read it from the subscription's blobStoreUrl container and send the notification with resource and resourceData`,
      )
    }
    throw new InvalidFieldError(`${at}.resourceData`, 'is required for a change notification')
  }
  const itemId = resourceData.id
  if (typeof itemId !== 'string' || itemId.length === 0) throw new InvalidFieldError(`${at}.resourceData.id`, 'must be a non-empty string')
  if (itemId.length > MAX_ID_LENGTH) throw new InvalidFieldError(`${at}.resourceData.id`, `must be at most ${MAX_ID_LENGTH} characters`)
  const etag = resourceData['@odata.etag']
  const changeKey = typeof etag === 'string' ? changeKeyFromEtag(etag) : ''
  if (changeKey.length === 0) {
    throw new InvalidFieldError(`${at}.resourceData.@odata.etag`, 'must be the weak ETag W/"<changeKey>" that versions the item')
  }
  // A delete is a version of its own: its etag may name a state an update already delivered (and had committed), and
  // the delete must not be a duplicate of that update. Its replays still are duplicates of it. Answers still report
  // the changeKey as the contract's version (changeKey); the item's record (GET) shows the version as kept.
  const version = changeType === 'deleted' ? `${DELETE_VERSION_PREFIX}${changeKey}` : changeKey
  if (version.length > MAX_ID_LENGTH) {
    throw new InvalidFieldError(`${at}.resourceData.@odata.etag`, `holds a changeKey longer than ${MAX_ID_LENGTH - (version.length - changeKey.length)} characters`)
  }
  return {
    system: 'outlook',
    itemId,
    version,
    changeKey,
    changeType,
    graphTenantId: kept(raw.tenantId, `${at}.tenantId`),
    subscriptionId: kept(raw.subscriptionId, `${at}.subscriptionId`),
    resource: typeof raw.resource === 'string' ? raw.resource : undefined,
  }
}
