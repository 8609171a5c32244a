// The messages the pre-filter forwards (shapes fixed by design.md) and their idempotency and partition keys.
import { DELETE_VERSION_PREFIX } from '../domain/graph-notification.js'
import type { Burst } from './collapse.js'
import type { ChangeType, LifecycleNotification } from './notifications.js'

export interface ChangeMessage {
  kind: 'change'
  tenantId: string
  subscriptionId: string
  itemId: string
  resource: string
  changeType: ChangeType
  etag: string | null
  etags: string[]
  collapsed: number
  firstEnqueuedAt: string
  lastEnqueuedAt: string
}

export interface LifecycleMessage {
  kind: 'lifecycle'
  lifecycleEvent: string
  subscriptionId: string
  tenantId: string | null
}

export type ForwardMessage = ChangeMessage | LifecycleMessage

/** A message ready for a forwarder. */
export interface Outbound {
  message: ForwardMessage
  /** the same on every retry and after a restart */
  idempotencyKey: string
  /** output event hub partition key: the item (or the subscription for lifecycle) stays on one partition */
  partitionKey: string
  /** messages sharing a lane are delivered one after the other, in order */
  lane: string
}

const percentEncode = (c: string): string =>
  [...Buffer.from(c, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('')

// Header values must be visible ASCII; ids are base64-like ASCII in practice, but an odd one must not break a send.
const headerSafe = (text: string): string => (/^[\x21-\x7e]*$/.test(text) ? text : text.replace(/[^\x21-\x7e]/g, percentEncode))

const iso = (ms: number): string => new Date(ms).toISOString()

export function toChangeOutbound(burst: Burst<unknown>): Outbound {
  const message: ChangeMessage = {
    kind: 'change',
    tenantId: burst.tenantId,
    subscriptionId: burst.subscriptionId,
    itemId: burst.itemId,
    resource: burst.resource,
    changeType: burst.changeType,
    etag: burst.etag ?? null,
    etags: burst.etags,
    collapsed: burst.collapsed,
    firstEnqueuedAt: iso(burst.firstEnqueuedAt),
    lastEnqueuedAt: iso(burst.lastEnqueuedAt),
  }
  // Without any etag the change type and last enqueued time stand in, so a redelivery still maps to one key. A delete
  // is keyed apart from the update whose etag it may carry (as the sidecar versions a Graph delete).
  const version =
    burst.etag === undefined ? `${burst.changeType}@${message.lastEnqueuedAt}` : burst.changeType === 'deleted' ? `${DELETE_VERSION_PREFIX}${burst.etag}` : burst.etag
  return {
    message,
    idempotencyKey: headerSafe(`${burst.tenantId}:${burst.itemId}:${version}`),
    partitionKey: burst.itemId,
    lane: `c:${burst.tenantId.length}:${burst.tenantId}${burst.itemId}`,
  }
}

export function toLifecycleOutbound(notification: LifecycleNotification, enqueuedAt: number): Outbound {
  const message: LifecycleMessage = {
    kind: 'lifecycle',
    lifecycleEvent: notification.lifecycleEvent,
    subscriptionId: notification.subscriptionId,
    tenantId: notification.tenantId,
  }
  return {
    message,
    idempotencyKey: headerSafe(`${notification.subscriptionId}:${notification.lifecycleEvent}:${iso(enqueuedAt)}`),
    partitionKey: notification.subscriptionId,
    lane: `l:${notification.subscriptionId}`,
  }
}
