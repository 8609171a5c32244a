// The createKey: one stable id per source item, so a create retried after a crash never makes a second copy.
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

/** What every createKey we hand out looks like; a hint in any other shape cannot be one of ours. */
export const CREATE_KEY_PATTERN = /^css-[0-9a-f]{32}$/
export const CREATE_KEY_RULE = 'must be a createKey this sidecar handed out: "css-" and 32 lower-case hex digits'

export function isCreateKey(text: string): boolean {
  return CREATE_KEY_PATTERN.test(text)
}
