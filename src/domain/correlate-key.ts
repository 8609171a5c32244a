// The createKey: one stable id per copy of a source item, so a create retried after a crash never makes a second copy.
import { createHash } from 'node:crypto'
import type { CorrelateSystem } from './correlate-model.js'
import { itemKeyString } from './keys.js'

/**
 * `css-` and 32 hex digits of SHA-256 over the URI-encoded tenant, system and item id: the same for every delivery of the item,
 * different across tenants, and short enough for a Graph `transactionId` or a Salesforce external-id field.
 */
export function deriveCreateKey(tenant: string, system: CorrelateSystem, itemId: string): string {
  const digest = createHash('sha256').update(itemKeyString({ tenant, system, itemId })).digest('hex')
  return `css-${digest.slice(0, 32)}`
}

/**
 * The createKey of an item's next copy: the derived key, or, once a pair of the item was deleted, the derived key
 * with "-" and the time of that delete (epoch ms). A Graph transactionId is remembered for an undocumented time, and a
 * create sent with the transactionId of a deleted event might be taken for a retry of that event's create, so a copy
 * made anew (after an undelete) gets a key of its own; every retry of one copy's create keeps one key, and each later
 * delete gives a later time, so no copy's key is ever handed out again.
 */
export function createKeyAfterDelete(derived: string, deletedAt: number | undefined): string {
  return deletedAt === undefined ? derived : `${derived}-${deletedAt}`
}

// Our key's two parts, written once: the derived key, then the delete time createKeyAfterDelete may append.
const DERIVED = 'css-[0-9a-f]{32}'
const DELETE_TIME = '-[1-9][0-9]{0,15}'
const AFTER_DELETE = new RegExp(`^(${DERIVED})${DELETE_TIME}$`)

/**
 * The derived key a createKey was made from (createKeyAfterDelete): every copy's key names the same source item.
 * Only a key of our shape has a suffix to take off.
 */
export function derivedCreateKey(createKey: string): string {
  return AFTER_DELETE.exec(createKey)?.[1] ?? createKey
}

/** What every createKey we hand out looks like; a hint in any other shape cannot be one of ours. */
export const CREATE_KEY_PATTERN = new RegExp(`^${DERIVED}(?:${DELETE_TIME})?$`)
export const CREATE_KEY_RULE =
  'must be a createKey this sidecar handed out: "css-" and 32 lower-case hex digits, then "-" and a number on a copy made after an earlier one was deleted'

export function isCreateKey(text: string): boolean {
  return CREATE_KEY_PATTERN.test(text)
}
