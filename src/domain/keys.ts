// Item keys: every record is namespaced by tenant, system and the system's own item id.
export interface ItemKey {
  tenant: string
  system: string
  itemId: string
}

export const DEFAULT_TENANT = 'default'

/** The longest item id or version the sidecar keeps, whatever form it came in (explicit or native). */
export const MAX_ID_LENGTH = 1024

/** A stable string for maps and logs; parts are URI-encoded so no id can collide with the separator. */
export function itemKeyString(key: ItemKey): string {
  return `${encodeURIComponent(key.tenant)}:${encodeURIComponent(key.system)}:${encodeURIComponent(key.itemId)}`
}

/**
 * A cheaper key for in-process maps: tenant and system can hold no NUL (their schemas forbid it), so joining with
 * NUL is unambiguous without encoding the item id.
 */
export function itemMapKey(key: ItemKey): string {
  return `${key.tenant}\u0000${key.system}\u0000${key.itemId}`
}

/** The inverse of itemMapKey: the first two NULs separate the parts; the item id keeps any of its own. */
export function parseItemMapKey(text: string): ItemKey {
  const first = text.indexOf('\u0000')
  const second = text.indexOf('\u0000', first + 1)
  return { tenant: text.slice(0, first), system: text.slice(first + 1, second), itemId: text.slice(second + 1) }
}
