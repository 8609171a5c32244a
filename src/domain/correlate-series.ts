// How /correlate treats recurring series and Salesforce invitee copies, so nothing is linked to the wrong item.
//
// The policy:
// - Links are one to one between items of the same shape: a Graph series master <-> a Salesforce series record
//   (Lightning series pattern record, GroupEventType 3, or a Classic IsRecurrence master); an occurrence or exception
//   <-> the occurrence on the other side that has the same original start (the flow matches them; /correlate/confirm
//   links each pair). A series is never linked to a single event or an occurrence (`series_mismatch`).
// - An unlinked occurrence or exception never gets `create` (`series_occurrence`): creating the series on the
//   other side creates its occurrences there; the flow pairs them up after reading both sides' instances.
// - A linked Graph series master's `updated` is an `update`: Graph reports occurrence edits and deletions only as an
//   update of the master, so the flow re-reads the instances and fans out to the linked occurrences.
// - Salesforce child events (IsChild: an invitee's copy of the meeting; only its reminder is editable) are skipped
//   (`child_event`): the organizer's parent event is the one synced. Only the parent carries the meeting.
// Facts come from the native Graph `event`, the Salesforce `record` or change event payload, or explicit
// `seriesRole` / `isChild`; an UPDATE change event's unchanged fields are null, so they tell nothing.
import type { SeriesRole } from './correlate-model.js'
import { isPlainObject } from './invalid-field.js'

export interface SeriesFacts {
  role?: SeriesRole
  /** a Salesforce invitee's child event */
  child: boolean
  /** the series the occurrence belongs to, when the source says (Graph seriesMasterId, Classic RecurrenceActivityId) */
  masterId?: string
}

const GRAPH_TYPES: Record<string, SeriesRole> = {
  singleInstance: 'single',
  seriesMaster: 'series_master',
  occurrence: 'occurrence',
  exception: 'exception',
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined)

/** The role a Graph event resource shows: its `type`, else `seriesMasterId` or `recurrence`. */
export function readGraphSeries(event: Record<string, unknown>): SeriesFacts {
  const masterId = text(event.seriesMasterId)
  // (own keys only: a type named "constructor" or "toString" is no role)
  const typed = typeof event.type === 'string' && Object.hasOwn(GRAPH_TYPES, event.type) ? GRAPH_TYPES[event.type] : undefined
  if (typed) return { role: typed, child: false, masterId }
  if (masterId) return { role: 'occurrence', child: false, masterId }
  if (isPlainObject(event.recurrence)) return { role: 'series_master', child: false }
  return { child: false }
}

/** The role a Salesforce Event record (or change event payload) shows; null fields are unknown, not false. */
export function readSalesforceSeries(record: Record<string, unknown>): SeriesFacts {
  const child = record.IsChild === true
  const classicMaster = text(record.RecurrenceActivityId)
  if (record.GroupEventType === '3' || record.GroupEventType === 3) return { role: 'series_master', child }
  if (record.IsRecurrence === true) return { role: 'series_master', child }
  if (text(record.Recurrence2PatternText) && record.IsRecurrence2Exception !== true) return { role: 'series_master', child }
  if (record.IsRecurrence2Exception === true) return { role: 'exception', child }
  if (record.IsRecurrence2 === true) return { role: 'occurrence', child }
  if (classicMaster) return { role: 'occurrence', child, masterId: classicMaster }
  const saysSingle = ['IsRecurrence', 'IsRecurrence2'].some((key) => record[key] === false)
  return saysSingle ? { role: 'single', child } : { child }
}

/**
 * Combines what the request says about the item: explicit values win, then the native resources in the order
 * given (the fullest first).
 */
export function readSeriesFacts(
  system: 'outlook' | 'salesforce',
  natives: Array<Record<string, unknown> | undefined>,
  explicit: { seriesRole?: SeriesRole; isChild?: boolean },
): SeriesFacts {
  let facts: SeriesFacts = { child: false }
  for (const native of natives) {
    if (!native) continue
    const read = system === 'outlook' ? readGraphSeries(native) : readSalesforceSeries(native)
    facts = {
      role: facts.role ?? read.role,
      child: facts.child || read.child,
      masterId: facts.masterId ?? read.masterId,
    }
  }
  if (explicit.seriesRole) facts.role = explicit.seriesRole
  if (explicit.isChild !== undefined) facts.child = explicit.isChild
  return facts
}
