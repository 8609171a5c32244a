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
