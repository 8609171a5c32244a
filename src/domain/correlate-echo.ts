// Echo signals that need no stored state: the Salesforce user that committed the change and its changeOrigin client.

/** The `client=` value of a changeOrigin such as `com/salesforce/api/rest/62.0;client=c3-sync`, or undefined. */
export function readChangeOriginClient(changeOrigin: string | undefined): string | undefined {
  if (!changeOrigin) return undefined
  for (const part of changeOrigin.split(';')) {
    const trimmed = part.trim()
    if (trimmed.startsWith('client=')) return trimmed.slice('client='.length)
  }
  return undefined
}

/**
 * Salesforce ids come in a 15-character case-sensitive form and an 18-character form that appends a checksum;
 * both name the same record when the first 15 characters match exactly.
 */
export function sameSalesforceId(a: string, b: string): boolean {
  if (a === b) return true
  const short = (id: string) => (id.length === 18 ? id.slice(0, 15) : id)
  return (a.length === 15 || a.length === 18) && (b.length === 15 || b.length === 18) && short(a) === short(b)
}

export interface EchoSettings {
  salesforceIntegrationUserIds: string[]
  salesforceClientId?: string
}

/** True when the change was made by the sync itself: its integration user, or its API client id. */
export function isEchoBySource(change: { changedBy?: string; changeOrigin?: string }, settings: EchoSettings): boolean {
  const { changedBy } = change
  if (changedBy && settings.salesforceIntegrationUserIds.some((id) => sameSalesforceId(id, changedBy))) return true
  const client = readChangeOriginClient(change.changeOrigin)
  return settings.salesforceClientId !== undefined && client === settings.salesforceClientId
}
