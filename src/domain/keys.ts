// Item keys: every record is namespaced by tenant, system and the system's own item id.
export interface ItemKey {
  tenant: string
  system: string
  itemId: string
}

export const DEFAULT_TENANT = 'default'

/** A stable string for maps and logs; parts are URI-encoded so no id can collide with the separator. */
export function itemKeyString(key: ItemKey): string {
  return `${encodeURIComponent(key.tenant)}:${encodeURIComponent(key.system)}:${encodeURIComponent(key.itemId)}`
}
