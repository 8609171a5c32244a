// Ground truth the sync never sees: which items are one meeting, every human change, every sync write and its context.
import { comparableItem, type PartialCalendarItem } from '../src/domain/calendar-item.js'
import { Samples } from './stats.js'

export type Side = 'outlook' | 'salesforce'
export const otherSide = (side: Side): Side => (side === 'outlook' ? 'salesforce' : 'outlook')

/** Units a change is judged in; timing (start, end, isAllDay) moves as one, as the merge treats it. */
export const GROUPS = ['subject', 'timing', 'location', 'description', 'showAs', 'isPrivate'] as const
export type Group = (typeof GROUPS)[number]
/** Each group's value in its comparison form, as JSON (null: empty). */
export type GroupValues = Record<Group, string>

export function groupValues(item: PartialCalendarItem): GroupValues {
  const c = comparableItem(item)
  const json = (value: unknown) => JSON.stringify(value ?? null)
  return {
    subject: json(c.subject),
    timing: json({ start: c.start ?? null, end: c.end ?? null, isAllDay: c.isAllDay ?? null }),
    location: json(c.location),
    description: json(c.description),
    showAs: json(c.showAs),
    isPrivate: json(c.isPrivate ?? false),
  }
}

export function differingGroups(a: GroupValues, b: GroupValues): Group[] {
  return GROUPS.filter((group) => a[group] !== b[group])
}

export interface HumanChange {
  seq: number
  at: number
  meeting: number
  side: Side
  itemId: string
  actor: 'human' | 'reviewer'
  kind: 'create' | 'update' | 'delete' | 'touch'
  /** The groups this change set, with their new values (create: all of them). */
  values: Partial<GroupValues>
  /** Seq of the edit on the other side it was made concurrently with. */
  concurrentWith?: number
  /**
   * A delete made while the other copy held a state the sync had not carried across (see Desk.delete):
   * `must-survive` when that state is a person's edit not yet synced and the delete policy is update-wins (the
   * meeting lives on, made anew on this side); `may-survive` when the sidecar cannot tell (an edit carried across
   * by a write not yet confirmed, or a policy that leaves it to a person): either end is right.
   */
  contest?: 'must-survive' | 'may-survive'
}

/** Why the sync did what it did, attached to every write it makes (for the duplicate-write causes). */
export interface WriteContext {
  worker: number
  deliveryId: number
  /** The delivery is a redelivery: duplicate, worker_crash, write_failed, ... */
  redeliveryCause?: string
  flow: 'create' | 'update' | 'delete' | 'resolve' | 'cleanup'
  reason: string
  /** An earlier attempt of this write in this delivery landed although it reported a failure. */
  retryAfterLanded: boolean
  /** Who wrote the source item last when the worker read it. */
  sourceLastWriter?: 'human' | 'sync'
  /** The source's last sync write was never confirmed (the worker died between write and /correlate/confirm). */
  sourceWriteUnconfirmed?: boolean
}

export interface SyncWrite {
  seq: number
  at: number
  system: Side
  itemId: string
  meeting?: number
  op: 'create' | 'update' | 'delete'
  /** The target held the same canonical item before and after. */
  noop: boolean
  /** A create that made a second live item of one meeting on one side. */
  extraCopy: boolean
  /** An upsert on the create key found the item it made before: no copy. */
  createKeyHit: boolean
  ctx: WriteContext
  /** The target's groups after the write (none for a delete). */
  after?: GroupValues
  confirmed: boolean
}

export interface ResolutionRecord {
  at: number
  meeting?: number
  outcome: string
  conflicts: Array<{ field: string; winner: string; rule: string }>
  /** What the merge was given and gave, by group: its base, each side it read (absent: deleted), and merged. */
  base?: GroupValues
  sides?: { outlook?: GroupValues; salesforce?: GroupValues }
  merged?: GroupValues
}

export interface MeetingTruth {
  id: number
  createdOn: Side
  createdAt: number
  deletedAt?: number
  deletedOn?: Side
  /** The seq of that delete. */
  deletedSeq?: number
  /** The delete may be undone by update-wins: the meeting may end on both sides instead of on neither. */
  mayRevive?: boolean
  /** Deletes that an edit of the other copy must win over (update-wins): changes of that side before one are gone. */
  overruledDeletes?: Array<{ side: Side; seq: number }>
}

export class Truth {
  private nextMeeting = 1
  private nextSeq = 1
  private readonly meetingByItem = new Map<string, number>()
  readonly meetings = new Map<number, MeetingTruth>()
  readonly human: HumanChange[] = []
  readonly writes: SyncWrite[] = []
  readonly resolutions: ResolutionRecord[] = []
  readonly reviews: Array<{ at: number; meeting?: number; settled: string[] }> = []
  readonly lag = new Samples()
  private readonly awaitingSync = new Map<number, HumanChange[]>()

  newMeeting(side: Side): number {
    const id = this.nextMeeting++
    this.meetings.set(id, { id, createdOn: side, createdAt: Date.now() })
    return id
  }

  bind(side: Side, itemId: string, meeting: number): void {
    this.meetingByItem.set(`${side}:${itemId}`, meeting)
  }

  meetingOf(side: Side, itemId: string): number | undefined {
    return this.meetingByItem.get(`${side}:${itemId}`)
  }

  recordHuman(change: Omit<HumanChange, 'seq' | 'at'>): HumanChange {
    const full: HumanChange = { ...change, seq: this.nextSeq++, at: Date.now() }
    this.human.push(full)
    if (full.kind === 'delete') {
      const meeting = this.meetings.get(full.meeting)
      if (meeting && full.contest === 'must-survive') {
        meeting.overruledDeletes = [...(meeting.overruledDeletes ?? []), { side: full.side, seq: full.seq }]
      } else if (meeting && meeting.deletedAt === undefined) {
        meeting.deletedAt = full.at
        meeting.deletedOn = full.side
        meeting.deletedSeq = full.seq
        meeting.mayRevive = full.contest === 'may-survive'
      }
    }
    if ((full.kind === 'update' || full.kind === 'create') && Object.keys(full.values).length > 0) {
      const list = this.awaitingSync.get(full.meeting) ?? []
      list.push(full)
      this.awaitingSync.set(full.meeting, list)
    }
    return full
  }

  /** A person's changes of this side of the meeting that the other side does not hold yet. */
  pendingOn(meeting: number, side: Side): HumanChange[] {
    return (this.awaitingSync.get(meeting) ?? []).filter((change) => change.side === side)
  }

  recordWrite(write: Omit<SyncWrite, 'seq' | 'at' | 'confirmed'>): SyncWrite {
    const full: SyncWrite = { ...write, seq: this.nextSeq++, at: Date.now(), confirmed: false }
    this.writes.push(full)
    return full
  }

  markConfirmed(writeSeq: number | undefined): void {
    if (writeSeq === undefined) return
    const write = this.writes.find((w) => w.seq === writeSeq)
    if (write) write.confirmed = true
  }

  /** After a sync write: human changes of the other side that this item now reflects have reached it. */
  noteSynced(meeting: number | undefined, side: Side, values: GroupValues): void {
    if (meeting === undefined) return
    const list = this.awaitingSync.get(meeting)
    if (!list) return
    const now = Date.now()
    const left = list.filter((change) => {
      if (change.side === side) return true
      const reached = Object.entries(change.values).every(([group, value]) => values[group as Group] === value)
      if (reached) this.lag.add(now - change.at)
      return !reached
    })
    this.awaitingSync.set(meeting, left)
  }

  recordResolution(record: Omit<ResolutionRecord, 'at'>): void {
    this.resolutions.push({ ...record, at: Date.now() })
  }
}
