// The /correlate rules that need no stored state: the other system, series clashes, both_changed, baseline fingerprints.
import type { CorrelateSystem, SeriesRole } from './correlate-model.js'
import { comparableItem, type PartialCalendarItem } from './calendar-item.js'
import { canonicalizeFields, fingerprintFields } from './fingerprint.js'

export const otherSystem = (system: CorrelateSystem): CorrelateSystem => (system === 'outlook' ? 'salesforce' : 'outlook')

/** Two known roles that cannot be one meeting: a series on one side, a single item or an occurrence on the other. */
export function rolesClash(a: SeriesRole | undefined, b: SeriesRole | undefined): boolean {
  return a !== undefined && b !== undefined && (a === 'series_master') !== (b === 'series_master')
}

/** What the flow read from the counterpart: plain synced fields, or a native resource already read into an item. */
export type TargetState = { fields: Record<string, unknown> } | { item: PartialCalendarItem }

const canonicalKey = (key: string) => (key === 'body' ? 'description' : key)

/**
 * True when the counterpart's synced fields moved away from the baseline since the last sync, comparing only
 * fields both know (a partial read is fine) in their comparison form (zones, HTML, whitespace do not matter).
 * A linked update then becomes `resolve`: writing the source's state would overwrite the counterpart's change.
 */
export function targetMovedFromBaseline(baseline: Record<string, unknown>, target: TargetState): boolean {
  let base: Record<string, unknown>
  try {
    base = canonicalizeFields(baseline, { path: 'baseline' })
  } catch {
    // A stored baseline that no longer reads cannot vouch for anything: let /resolve-conflict look at it.
    return true
  }
  const known = new Set(Object.keys(baseline).map(canonicalKey))
  const [current, keys] =
    'item' in target
      ? [comparableItem(target.item), Object.keys(target.item)]
      : [canonicalizeFields(target.fields, { path: 'targetFields' }), Object.keys(target.fields).map(canonicalKey)]
  return keys.some((key) => known.has(key) && JSON.stringify(current[key] ?? null) !== JSON.stringify(base[key] ?? null))
}

/**
 * The fingerprint of a baseline, so a change whose state equals it (nothing new since the last sync) is known for
 * an echo. Hashed like `fields`; a baseline that does not read has none (it then matches nothing).
 */
export function fingerprintBaseline(baseline: Record<string, unknown>): string | undefined {
  try {
    return fingerprintFields(baseline, { path: 'baseline' })
  } catch {
    return undefined
  }
}
