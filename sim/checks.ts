// The verdicts: both calendars agree, no human change vanished, no loop, and every duplicate write with its cause.
import type { PartialCalendarItem } from '../src/domain/calendar-item.js'
import type { FlowStats } from './flow-stats.js'
import type { SimOptions } from './options.js'
import type { Link } from './sidecar-client.js'
import { Tally } from './stats.js'
import { differingGroups, groupValues, otherSide, type Group, type GroupValues, type HumanChange, type Side, type SyncWrite, type Truth } from './truth.js'

export interface LiveItem {
  id: string
  meeting?: number
  item: PartialCalendarItem
}

export interface CheckInput {
  truth: Truth
  outlookItems: LiveItem[]
  salesforceItems: LiveItem[]
  /** The sidecar's link for each live Outlook item (GET /correlate/outlook/{id}); null: unlinked. */
  links: Map<string, Link | null>
  stats: FlowStats
  options: SimOptions
  startedAt: number
  /** The sync settled (no messages, no work, no writes for a while) before the drain timeout. */
  settled: boolean
  /** Sync writes made after it settled, while the simulation watched a little longer. */
  writesAfterSettled: SyncWrite[]
}

export interface MeetingProblem {
  meeting?: number
  problem: string
  outlook: string[]
  salesforce: string[]
  detail?: unknown
  /** The meeting's story: human actions, sync writes and the listed items' sidecar decisions (the last 60). */
  timeline?: string[]
}

export interface LostChange {
  meeting: number
  side: Side
  itemId: string
  group: Group
  changedAtMs: number
  value: string
  final: { outlook?: string; salesforce?: string }
  overwrittenBy?: { write: number; atMs: number; worker: number; flow: string; reason: string; redelivery?: string }
  /** What became of it, in one sentence. */
  fate: string
  /** The meeting's story around the change: human edits, sync writes and the workers' sidecar decisions. */
  timeline: string[]
}

export interface Checks {
  converged: { ok: boolean; meetings: number; equal: number; deletedOnBoth: number; problems: MeetingProblem[] }
  lost: {
    ok: boolean
    humanChanges: number
    applied: number
    superseded: number
    supersededByDelete: number
    settledByPolicy: Record<string, number>
    lost: LostChange[]
    /** changes back to the synced value that a resolution read as no change (mergeSawNoChange): not failures */
    mergeLimit: LostChange[]
  }
  loops: {
    ok: boolean
    maxWritesPerChange: number
    bound: string
    meetingsOverBound: Array<{ meeting: number; writes: number; changes: number }>
    settled: boolean
    writesAfterSettled: number
  }
  duplicateWrites: { syncWrites: number; duplicates: number; byCause: Record<string, number> }
}

const CONFLICT_FIELD_GROUP: Record<string, Group> = {
  subject: 'subject',
  start: 'timing',
  end: 'timing',
  isAllDay: 'timing',
  timing: 'timing',
  location: 'location',
  description: 'description',
  body: 'description',
  showAs: 'showAs',
  isPrivate: 'isPrivate',
}

const short = (value: string) => (value.length > 90 ? `${value.slice(0, 87)}...` : value)

export function runChecks(input: CheckInput): Checks {
  return {
    converged: checkConverged(input),
    lost: checkLost(input),
    loops: checkLoops(input),
    duplicateWrites: countDuplicates(input.truth),
  }
}

function byMeeting(items: LiveItem[]): Map<number | undefined, LiveItem[]> {
  const map = new Map<number | undefined, LiveItem[]>()
  for (const item of items) {
    const list = map.get(item.meeting) ?? []
    list.push(item)
    map.set(item.meeting, list)
  }
  return map
}

function checkConverged(input: CheckInput): Checks['converged'] {
  const outlook = byMeeting(input.outlookItems)
  const salesforce = byMeeting(input.salesforceItems)
  const problems: MeetingProblem[] = []
  let equal = 0
  let deletedOnBoth = 0
  for (const meeting of input.truth.meetings.values()) {
    const os = outlook.get(meeting.id) ?? []
    const ss = salesforce.get(meeting.id) ?? []
    const ids = { outlook: os.map((o) => o.id), salesforce: ss.map((s) => s.id) }
    const story = () => meetingTimeline(input, meeting.id, ids)
    if (meeting.deletedAt !== undefined && (os.length + ss.length === 0 || !meeting.mayRevive)) {
      if (os.length + ss.length === 0) deletedOnBoth++
      else problems.push({ meeting: meeting.id, problem: `deleted in ${meeting.deletedOn} but still present`, ...ids, timeline: story() })
      continue
    }
    // From here the meeting must be on both sides, alike and linked (a contested delete may have been undone).
    const overruled = meeting.overruledDeletes?.length ? `, though deleted in ${meeting.overruledDeletes.map((d) => d.side).join(' and ')} while the other copy held an edit not yet synced (update-wins)` : ''
    const revived = meeting.deletedAt !== undefined ? `, revived after a delete in ${meeting.deletedOn} that met an edit of the other copy` : ''
    if (os.length === 0 || ss.length === 0) {
      problems.push({ meeting: meeting.id, problem: `missing in ${os.length === 0 ? 'Outlook' : 'Salesforce'}${overruled}${revived}`, ...ids, timeline: story() })
      continue
    }
    if (os.length > 1 || ss.length > 1) problems.push({ meeting: meeting.id, problem: 'more than one copy on a side', ...ids, timeline: story() })
    const o = groupValues(os[0].item)
    const s = groupValues(ss[0].item)
    const differing = differingGroups(o, s)
    if (differing.length > 0) {
      problems.push({
        meeting: meeting.id,
        problem: `differs in ${differing.join(', ')}`,
        ...ids,
        detail: Object.fromEntries(differing.map((g) => [g, { outlook: short(o[g]), salesforce: short(s[g]) }])),
        timeline: story(),
      })
      continue
    }
    const link = input.links.get(os[0].id)
    if (!link || link.state !== 'linked' || link.salesforce.itemId !== ss[0].id) {
      problems.push({ meeting: meeting.id, problem: 'equal, but the sidecar does not link the two', ...ids, detail: { link: link ?? null }, timeline: story() })
      continue
    }
    if (os.length === 1 && ss.length === 1) equal++
  }
  for (const [side, map] of [['Outlook', outlook], ['Salesforce', salesforce]] as const) {
    const orphans = map.get(undefined) ?? []
    if (orphans.length > 0) {
      problems.push({ problem: `${orphans.length} ${side} item(s) that belong to no meeting`, outlook: side === 'Outlook' ? orphans.map((o) => o.id) : [], salesforce: side === 'Salesforce' ? orphans.map((o) => o.id) : [] })
    }
  }
  return { ok: problems.length === 0, meetings: input.truth.meetings.size, equal, deletedOnBoth, problems }
}

function checkLost(input: CheckInput): Checks['lost'] {
  const { truth } = input
  const finals = new Map<number, { outlook?: GroupValues; salesforce?: GroupValues }>()
  for (const item of input.outlookItems) if (item.meeting !== undefined) finals.set(item.meeting, { ...finals.get(item.meeting), outlook: groupValues(item.item) })
  for (const item of input.salesforceItems) if (item.meeting !== undefined) finals.set(item.meeting, { ...finals.get(item.meeting), salesforce: groupValues(item.item) })

  const byMeeting = new Map<number, HumanChange[]>()
  for (const change of truth.human) {
    const list = byMeeting.get(change.meeting) ?? []
    list.push(change)
    byMeeting.set(change.meeting, list)
  }
  const settledByPolicy = new Tally()
  const lost: LostChange[] = []
  const mergeLimit: LostChange[] = []
  let humanChanges = 0
  let applied = 0
  let superseded = 0
  let supersededByDelete = 0
  for (const change of truth.human) {
    const groups = Object.keys(change.values) as Group[]
    if (groups.length === 0) continue
    humanChanges++
    const meeting = truth.meetings.get(change.meeting)
    const final = finals.get(change.meeting) ?? {}
    const gone = final.outlook === undefined && final.salesforce === undefined
    // A delete ends the changes made before it: all of them when it stood, its own side's when an edit of the other
    // copy won over it (update-wins made this side anew from the other).
    const deletedAfter = (d: { side: Side; seq: number }) => d.side === change.side && d.seq > change.seq
    if (
      (meeting?.deletedAt !== undefined && (gone || !meeting.mayRevive)) ||
      (meeting?.deletedAt !== undefined && meeting.deletedOn === change.side && change.seq < (meeting.deletedSeq ?? Infinity)) ||
      meeting?.overruledDeletes?.some(deletedAfter)
    ) {
      supersededByDelete++
      continue
    }
    const later = (byMeeting.get(change.meeting) ?? []).filter((c) => c.seq > change.seq)
    let verdict: 'applied' | 'superseded' | 'policy' | 'lost' = 'applied'
    for (const group of groups) {
      if (later.some((c) => c.values[group] !== undefined)) {
        if (verdict === 'applied') verdict = 'superseded'
        continue
      }
      const value = change.values[group]!
      const present = final.outlook?.[group] === value && final.salesforce?.[group] === value
      if (present) continue
      const rule = policyDecision(truth, change, group)
      if (rule) {
        settledByPolicy.add(rule)
        if (verdict !== 'lost') verdict = 'policy'
        continue
      }
      if (mergeSawNoChange(truth, change, group)) {
        mergeLimit.push(explainLost(input, change, group, final))
        if (verdict !== 'lost') verdict = 'policy'
        continue
      }
      verdict = 'lost'
      lost.push(explainLost(input, change, group, final))
    }
    if (verdict === 'applied') applied++
    else if (verdict === 'superseded') superseded++
  }
  return { ok: lost.length === 0, humanChanges, applied, superseded, supersededByDelete, settledByPolicy: settledByPolicy.toObject(), lost, mergeLimit }
}

/**
 * The three-way merge's limit (design.md: a field changed on one side only flows): a person set the group back to
 * the synced value while the other copy changed it, and neither the value in between nor the return was synced
 * before a resolution. The merge then read this side as unchanged from its base, and the other side's value flowed.
 * No flow built on the contract can tell that return from no change, so such a change is reported apart, not lost.
 * Judged by the simulation's own record, not the sidecar's: the value is the one the last confirmed sync write of the
 * meeting before the change left (a baseline the sidecar held wrongly does not count), and the first resolution of
 * the meeting after the change read it so.
 */
function mergeSawNoChange(truth: Truth, change: HumanChange, group: Group): boolean {
  const value = change.values[group]
  const synced = truth.writes.filter((w) => w.meeting === change.meeting && w.confirmed && w.at < change.at && w.after !== undefined).at(-1)
  if (synced?.after?.[group] !== value) return false
  const other = otherSide(change.side)
  const first = truth.resolutions.find((r) => r.meeting === change.meeting && r.at >= change.at)
  const otherValue = first?.sides?.[other]?.[group]
  return (
    first !== undefined &&
    first.base?.[group] === value &&
    first.sides?.[change.side]?.[group] === value &&
    otherValue !== undefined &&
    otherValue !== value &&
    first.merged?.[group] === otherValue
  )
}

/** A /resolve-conflict answer after the change that gave this group to the other side (or to a person). */
function policyDecision(truth: Truth, change: HumanChange, group: Group): string | undefined {
  for (const resolution of truth.resolutions) {
    if (resolution.meeting !== change.meeting || resolution.at < change.at) continue
    for (const conflict of resolution.conflicts) {
      if (CONFLICT_FIELD_GROUP[conflict.field] === group && conflict.winner !== change.side) return conflict.rule
    }
  }
  return undefined
}

function explainLost(input: CheckInput, change: HumanChange, group: Group, final: { outlook?: GroupValues; salesforce?: GroupValues }): LostChange {
  const overwrite = input.truth.writes.find((w) => w.itemId === change.itemId && w.at >= change.at && w.after !== undefined && w.after[group] !== change.values[group])
  const counterpart = change.side === 'outlook' ? input.salesforceItems : input.outlookItems
  const otherId = counterpart.find((i) => i.meeting === change.meeting)?.id
  const rel = (at: number) => `+${((at - input.startedAt) / 1000).toFixed(3)}s`
  const ids = { outlook: [] as string[], salesforce: [] as string[] }
  ids[change.side].push(change.itemId)
  if (otherId) ids[change.side === 'outlook' ? 'salesforce' : 'outlook'].push(otherId)
  const timeline = meetingTimeline(input, change.meeting, ids, { from: change.at - 10_000, change: change.seq, group })
  const after = input.stats.historyOf(change.side, change.itemId).filter((h) => h.at >= change.at).map((h) => h.text)
  let fate: string
  if (overwrite) {
    fate = `overwritten on ${change.side} by sync write #${overwrite.seq} (${overwrite.ctx.flow}/${overwrite.ctx.reason}) at ${rel(overwrite.at)}`
    // Salesforce's precondition compares whole seconds: an edit in the second the worker read the Event slips through.
    if (change.side === 'salesforce' && input.options.conditionalWrites && Math.floor(overwrite.at / 1000) === Math.floor(change.at / 1000)) {
      fate += ', in the same second as this edit (If-Unmodified-Since has whole-second precision: the read-then-write race Salesforce cannot refuse)'
    } else if (!input.options.conditionalWrites) fate += ' (a write without If-Match / If-Unmodified-Since over a state read before this edit)'
  }
  else if (after.length === 0) fate = 'no change event of the item was processed after it'
  else if (after.some((t) => t.startsWith('correlate skip/echo (by the integration user)'))) {
    fate = `a change event of our own write (commitUser = integration user) was read after this edit, skipped as echo and its state committed; this edit's own event was then 'unchanged'`
  } else if (after.some((t) => t.startsWith('correlate skip/echo'))) {
    fate = 'skipped as echo: the item\'s state matched a fingerprint the sync had written into it within ECHO_WINDOW'
  }
  else if (after.every((t) => t.startsWith('dedupe'))) fate = `its change events were all dropped by /dedupe (${[...new Set(after)].join(', ').slice(0, 120)})`
  else fate = `processed, but the value did not reach the other side (${after.slice(-3).join('; ')})`
  return {
    meeting: change.meeting,
    side: change.side,
    itemId: change.itemId,
    group,
    changedAtMs: change.at - input.startedAt,
    value: short(change.values[group]!),
    final: { outlook: final.outlook && short(final.outlook[group]), salesforce: final.salesforce && short(final.salesforce[group]) },
    overwrittenBy: overwrite && {
      write: overwrite.seq,
      atMs: overwrite.at - input.startedAt,
      worker: overwrite.ctx.worker,
      flow: overwrite.ctx.flow,
      reason: overwrite.ctx.reason,
      redelivery: overwrite.ctx.redeliveryCause,
    },
    fate,
    timeline,
  }
}

/**
 * A meeting's story, oldest first: human actions, sync writes and the given items' sidecar decisions. For a lost
 * change: from 10 s before it, the first 60 lines, each write with the change's group; else the last 60 lines.
 */
function meetingTimeline(
  input: CheckInput,
  meeting: number,
  ids: { outlook: string[]; salesforce: string[] },
  around?: { from: number; change: number; group: Group },
): string[] {
  const rel = (at: number) => `+${((at - input.startedAt) / 1000).toFixed(3)}s`
  const from = around?.from ?? 0
  const entries: Array<{ at: number; text: string }> = []
  for (const h of input.truth.human) {
    if (h.meeting !== meeting || h.at < from) continue
    const what = Object.entries(h.values).map(([g, v]) => `${g}=${short(v ?? '')}`).join(' ')
    entries.push({ at: h.at, text: `${h.actor} ${h.kind} in ${h.side} ${h.itemId}${h.seq === around?.change ? ' <== this change' : ''} ${what}` })
  }
  for (const w of input.truth.writes) {
    if (w.meeting !== meeting || w.at < from) continue
    const value = around ? ` ${around.group}=${short(w.after?.[around.group] ?? '-')}` : ''
    entries.push({ at: w.at, text: `sync write #${w.seq} ${w.op} ${w.system} ${w.itemId} by worker ${w.ctx.worker} (${w.ctx.flow}/${w.ctx.reason}${w.noop ? ', no-op' : ''}${w.confirmed ? '' : ', unconfirmed'})${value}` })
  }
  // Every copy the meeting ever had on a side, not only the ones left: a deleted or replaced copy's decisions tell
  // what happened to it.
  const copies = { outlook: new Set(ids.outlook), salesforce: new Set(ids.salesforce) }
  for (const h of input.truth.human) if (h.meeting === meeting) copies[h.side].add(h.itemId)
  for (const w of input.truth.writes) if (w.meeting === meeting) copies[w.system].add(w.itemId)
  for (const side of ['outlook', 'salesforce'] as const) {
    for (const id of copies[side]) for (const h of input.stats.historyOf(side, id)) if (h.at >= from) entries.push({ at: h.at, text: `${side} item ${id}: ${h.text}` })
  }
  entries.sort((a, b) => a.at - b.at)
  return (around ? entries.slice(0, 60) : entries.slice(-60)).map((e) => `${rel(e.at)} ${e.text}`)
}

function checkLoops(input: CheckInput): Checks['loops'] {
  const { truth, options } = input
  const writes = new Tally()
  const changes = new Tally()
  for (const write of truth.writes) if (write.meeting !== undefined) writes.add(String(write.meeting))
  for (const change of truth.human) if (change.kind !== 'touch') changes.add(String(change.meeting))
  const over: Array<{ meeting: number; writes: number; changes: number }> = []
  let maxRatio = 0
  for (const meeting of truth.meetings.keys()) {
    const w = writes.get(String(meeting))
    const c = changes.get(String(meeting))
    if (c > 0) maxRatio = Math.max(maxRatio, w / c)
    if (w > options.loopFactor * c + 3) over.push({ meeting, writes: w, changes: c })
  }
  return {
    ok: over.length === 0 && input.settled && input.writesAfterSettled.length === 0,
    maxWritesPerChange: Math.round(maxRatio * 100) / 100,
    bound: `${options.loopFactor} x changes + 3 per meeting`,
    meetingsOverBound: over,
    settled: input.settled,
    writesAfterSettled: input.writesAfterSettled.length,
  }
}

/** Why a sync write changed nothing (or made a second copy), from what the worker knew when it wrote. */
export function duplicateCause(write: SyncWrite): string | undefined {
  const { ctx } = write
  if (ctx.flow === 'cleanup') return 'deleting an extra copy after conflicting_link'
  if (write.extraCopy) return `second copy of a meeting created (${ctx.flow}/${ctx.reason}${ctx.redeliveryCause ? `, redelivery after ${ctx.redeliveryCause}` : ''})`
  if (!write.noop) return undefined
  if (ctx.retryAfterLanded) return 'retry of a write that had landed (the calendar timed out after writing)'
  if (write.createKeyHit) return 'create repeated; the createKey found the first copy (no second item)'
  if (ctx.sourceLastWriter === 'sync') {
    return ctx.sourceWriteUnconfirmed ? 'echo of a write whose /correlate/confirm never happened (worker crash)' : 'our own echo not recognised'
  }
  if (ctx.redeliveryCause === 'worker_crash') return 'redelivery after a worker crash'
  if (ctx.flow === 'resolve') return 'conflict resolution wrote a value the side already had'
  if (ctx.redeliveryCause) return `redelivery (${ctx.redeliveryCause}) of a change already written`
  return `${ctx.flow}/${ctx.reason} of a value the target already had`
}

function countDuplicates(truth: Truth): Checks['duplicateWrites'] {
  const byCause = new Tally()
  for (const write of truth.writes) {
    const cause = duplicateCause(write)
    if (cause) byCause.add(cause)
  }
  return { syncWrites: truth.writes.length, duplicates: byCause.total, byCause: byCause.toObject() }
}
