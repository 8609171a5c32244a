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
 * The createKey of an item's copy once `generation` earlier pairs of it were deleted: the derived key, then "-1",
 * "-2"... A Graph transactionId is remembered for an undocumented time, and a create sent with the transactionId of a
 * deleted event might be taken for a retry of that event's create, so a copy made anew (after an undelete, or after
 * the tombstones expired) gets a key of its own. Retries of one copy's create keep one key.
 */
export function createKeyOfGeneration(derived: string, generation: number): string {
  return generation > 0 ? `${derived}-${generation}` : derived
}

const WITH_GENERATION = /^(css-[0-9a-f]{32})-[1-9][0-9]{0,9}$/

/**
 * The derived key a createKey was made from (createKeyOfGeneration): every generation names the same source item.
 * Only a key of our shape has a generation to take off.
 */
export function derivedCreateKey(createKey: string): string {
  return WITH_GENERATION.exec(createKey)?.[1] ?? createKey
}

/** What every createKey we hand out looks like; a hint in any other shape cannot be one of ours. */
export const CREATE_KEY_PATTERN = /^css-[0-9a-f]{32}(?:-[1-9][0-9]{0,9})?$/
export const CREATE_KEY_RULE =
  'must be a createKey this sidecar handed out: "css-" and 32 lower-case hex digits, with "-" and a number after them for a copy made after an earlier one was deleted'

export function isCreateKey(text: string): boolean {
  return CREATE_KEY_PATTERN.test(text)
}
