// People using both calendars: creates, edits (some concurrent on both sides of a meeting), deletes; and the reviewer.
import type { PartialCalendarItem } from '../src/domain/calendar-item.js'
import { completeFields, type FakeOutlook } from './fake-outlook.js'
import { HUMAN_USERS, REVIEWER_USER, type FakeSalesforce } from './fake-salesforce.js'
import { OUTLOOK_ZONES, editMeeting, newMeeting, type EditKind, type MeetingPatch } from './meeting-fields.js'
import type { SimOptions } from './options.js'
import type { Random } from './random.js'
import { Tally, sleep } from './stats.js'
import { differingGroups, groupValues, otherSide, type Group, type HumanChange, type Side, type Truth } from './truth.js'
import type { ReviewRequest } from './worker.js'

const EDIT_WEIGHTS: Array<[EditKind, number]> = [
  ['subject', 3],
  ['time', 3],
  ['location', 2],
  ['description', 2],
  ['showAs', 1],
  ['isPrivate', 1],
  ['longSubject', 0.3],
]

const GROUP_KEYS: Record<Group, Array<keyof MeetingPatch>> = {
  subject: ['subject'],
  timing: ['start', 'end', 'isAllDay'],
  location: ['location'],
  description: ['description'],
  showAs: ['showAs'],
  isPrivate: ['isPrivate'],
}

/** Both calendars as people see them: the item of a meeting on a side, its canonical state, edits recorded as truth. */
export class Desk {
  private revision = 0

  constructor(
    readonly outlook: FakeOutlook,
    readonly salesforce: FakeSalesforce,
    readonly truth: Truth,
    private readonly rng: Random,
    private readonly policy: Pick<SimOptions, 'deletePolicy' | 'resolveBaseline'> = { deletePolicy: 'update-wins', resolveBaseline: 'last' },
  ) {}

  itemOf(meeting: number, side: Side): string | undefined {
    return side === 'outlook' ? this.outlook.liveIdsOf(meeting)[0] : this.salesforce.liveIdsOf(meeting)[0]
  }

  current(side: Side, itemId: string): PartialCalendarItem | undefined {
    return side === 'outlook' ? this.outlook.currentItem(itemId) : this.salesforce.currentItem(itemId)
  }

  create(side: Side): number {
    const meeting = this.truth.newMeeting(side)
    const fields = newMeeting(this.rng, meeting)
    const itemId =
      side === 'outlook' ? this.outlook.humanCreate(meeting, fields, this.rng.pick(OUTLOOK_ZONES)) : this.salesforce.humanCreate(meeting, fields, this.rng.pick(HUMAN_USERS))
    const item = this.current(side, itemId)
    this.truth.recordHuman({ meeting, side, itemId, actor: 'human', kind: 'create', values: item ? groupValues(item) : {} })
    return meeting
  }

  nextRevision(): number {
    return ++this.revision
  }

  /** Applies a patch as a person on one side and records which groups it really changed. */
  edit(meeting: number, side: Side, patch: MeetingPatch, actor: 'human' | 'reviewer', concurrentWith?: number): HumanChange | undefined {
    const itemId = this.itemOf(meeting, side)
    if (!itemId) return undefined
    const before = this.current(side, itemId)
    if (!before) return undefined
    const user = actor === 'reviewer' ? REVIEWER_USER : this.rng.pick(HUMAN_USERS)
    const ok = side === 'outlook' ? this.outlook.humanUpdate(itemId, patch) : this.salesforce.humanUpdate(itemId, patch, user)
    if (!ok) return undefined
    const after = this.current(side, itemId)!
    const afterValues = groupValues(after)
    const values: HumanChange['values'] = {}
    for (const group of differingGroups(groupValues(before), afterValues)) values[group] = afterValues[group]
    // An edit of the other copy after a delete (a concurrent edit scheduled before it): under update-wins it wins if
    // it reaches the sidecar before the delete's sync removes this copy, else it goes with it. Either end is right.
    const deleted = this.truth.meetings.get(meeting)
    if (deleted?.deletedAt !== undefined && Object.keys(values).length > 0 && this.policy.deletePolicy === 'update-wins') deleted.mayRevive = true
    return this.truth.recordHuman({ meeting, side, itemId, actor, kind: 'update', values, concurrentWith })
  }

  touch(meeting: number, side: Side): boolean {
    const itemId = this.itemOf(meeting, side)
    if (!itemId) return false
    const ok = side === 'outlook' ? this.outlook.humanTouch(itemId) : this.salesforce.humanTouch(itemId, this.rng.pick(HUMAN_USERS))
    if (ok) this.truth.recordHuman({ meeting, side, itemId, actor: 'human', kind: 'touch', values: {} })
    return ok
  }

  delete(meeting: number, side: Side): boolean {
    const itemId = this.itemOf(meeting, side)
    if (!itemId) return false
    const contest = this.deleteContest(meeting, side, itemId)
    const ok = side === 'outlook' ? this.outlook.humanDelete(itemId) : this.salesforce.humanDelete(itemId, this.rng.pick(HUMAN_USERS))
    if (ok) this.truth.recordHuman({ meeting, side, itemId, actor: 'human', kind: 'delete', values: {}, contest })
    return ok
  }

  /**
   * Whether a delete of this copy contests a state of the other copy the sync has not carried across. The sidecar
   * sees that state as the other copy moved from the baseline (the last confirmed sync), and /resolve-conflict's
   * delete policy decides. A person's edit not yet synced must then win under update-wins (unless the baseline moves
   * before a resolution's last write, `--resolve-baseline each`). A sync write not yet confirmed moves a copy from
   * the baseline too, though a person may have seen it before deleting: either end is right then. Under delete-wins
   * the delete stands, and under review too (the reviewer deletes the other copy).
   */
  private deleteContest(meeting: number, side: Side, itemId: string): HumanChange['contest'] {
    if (this.policy.deletePolicy !== 'update-wins') return undefined
    const other = otherSide(side)
    const otherId = this.itemOf(meeting, other)
    const mine = this.current(side, itemId)
    const theirs = otherId && this.current(other, otherId)
    if (!mine || !theirs || !otherId) return undefined
    const theirValues = groupValues(theirs)
    const differing = differingGroups(groupValues(mine), theirValues)
    const pending = this.truth.pendingOn(meeting, other)
    const editWaiting = differing.some((group) => pending.some((change) => change.values[group] === theirValues[group]))
    if (editWaiting && this.policy.resolveBaseline === 'last') return 'must-survive'
    // The other copy's edit not synced yet, which a person on this side made too (the same value, also not synced):
    // when this side's edit is synced first the two meet as no conflict and the delete then stands; when the other
    // copy's edit reaches the sidecar first, the deleted side is read gone, its own edit unseen, and update-wins
    // undoes the delete.
    const mineValues = groupValues(mine)
    const minePending = this.truth.pendingOn(meeting, side)
    const sameEditWaiting = pending.some((change) =>
      Object.entries(change.values).some(
        ([group, value]) =>
          value === theirValues[group as Group] &&
          value === mineValues[group as Group] &&
          minePending.some((own) => own.values[group as Group] === value),
      ),
    )
    const unconfirmed = (writer: { syncWriteSeq?: number } | undefined) =>
      writer?.syncWriteSeq !== undefined && this.truth.writes.some((w) => w.seq === writer.syncWriteSeq && !w.confirmed)
    const lastWriter = (s: Side, id: string) => (s === 'outlook' ? this.outlook.lastWriterOf(id) : this.salesforce.lastWriterOf(id))
    if (editWaiting || sameEditWaiting || unconfirmed(lastWriter(side, itemId)) || unconfirmed(lastWriter(other, otherId))) return 'may-survive'
    return undefined
  }
}

/** People acting at random (a Poisson process at editRate), from one seeded stream. */
export class Humans {
  readonly actions = new Tally()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(
    private readonly desk: Desk,
    private readonly rng: Random,
    private readonly options: SimOptions,
  ) {}

  /** The meetings that exist at the start, half created in each calendar, over about a second. */
  async seed(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.desk.create(this.rng.chance(0.5) ? 'outlook' : 'salesforce')
      this.actions.add('create')
      await sleep(1_000 / count)
    }
  }

  async run(durationMs: number, stopped: () => boolean): Promise<void> {
    const end = Date.now() + durationMs
    while (Date.now() < end && !stopped()) {
      await sleep(Math.min(this.rng.exponential(1_000 / this.options.editRate), end - Date.now()))
      if (Date.now() >= end || stopped()) break
      this.act()
    }
  }

  /** Waits for concurrent edits still scheduled. */
  async settle(): Promise<void> {
    while (this.timers.size > 0) await sleep(50)
  }

  private liveMeetings(): number[] {
    return [...this.desk.truth.meetings.values()].filter((m) => m.deletedAt === undefined).map((m) => m.id)
  }

  private act(): void {
    const roll = this.rng.float()
    if (roll < this.options.deletes) return this.deleteOne()
    if (roll < this.options.deletes + 0.04) {
      this.desk.create(this.rng.chance(0.5) ? 'outlook' : 'salesforce')
      this.actions.add('create')
      return
    }
    const meetings = this.liveMeetings()
    if (meetings.length === 0) return
    const meeting = this.rng.pick(meetings)
    const sides = (['outlook', 'salesforce'] as const).filter((side) => this.desk.itemOf(meeting, side) !== undefined)
    if (sides.length === 0) return
    const side = this.rng.pick(sides)
    if (roll < this.options.deletes + 0.12) {
      if (this.desk.touch(meeting, side)) this.actions.add('touch (unsynced field)')
      return
    }
    const kind = this.pickKind(side)
    const change = this.editOnce(meeting, side, kind)
    if (!change) return
    this.actions.add('update')
    const other = otherSide(side)
    if (this.rng.chance(this.options.faults.concurrentEdits) && this.desk.itemOf(meeting, other) !== undefined) {
      // Someone edits the other copy before the sync carried this edit across: same field half of the time.
      const otherKind = this.rng.chance(0.5) ? (kind === 'longSubject' ? 'subject' : kind) : this.pickKind(other, kind)
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        if (this.editOnce(meeting, other, otherKind, change.seq)) this.actions.add('concurrent edit (other side)')
      }, this.rng.between(0, 700))
      this.timers.add(timer)
    }
  }

  private editOnce(meeting: number, side: Side, kind: EditKind, concurrentWith?: number): HumanChange | undefined {
    const itemId = this.desk.itemOf(meeting, side)
    const item = itemId && this.desk.current(side, itemId)
    if (!item) return undefined
    const patch = editMeeting(this.rng, completeFields(item), kind, side, meeting, this.desk.nextRevision())
    return this.desk.edit(meeting, side, patch, 'human', concurrentWith)
  }

  private pickKind(side: Side, not?: EditKind): EditKind {
    const choices = EDIT_WEIGHTS.filter(([kind]) => kind !== not && !(kind === 'longSubject' && side === 'salesforce'))
    const total = choices.reduce((sum, [, w]) => sum + w, 0)
    let roll = this.rng.float() * total
    for (const [kind, weight] of choices) {
      roll -= weight
      if (roll <= 0) return kind
    }
    return choices[0][0]
  }

  private deleteOne(): void {
    const meetings = this.liveMeetings()
    if (meetings.length <= 2) return
    const meeting = this.rng.pick(meetings)
    const sides = (['outlook', 'salesforce'] as const).filter((side) => this.desk.itemOf(meeting, side) !== undefined)
    if (sides.length === 0) return
    const side = this.rng.pick(sides)
    if (sides.length === 2 && this.rng.chance(this.options.faults.concurrentEdits)) {
      // Someone edits the other copy just before this one is deleted, before the sync carried the edit across.
      const other = otherSide(side)
      if (this.editOnce(meeting, other, this.pickKind(other))) this.actions.add('edit racing a delete (other side)')
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        if (this.desk.delete(meeting, side)) this.actions.add('delete')
      }, this.rng.between(0, 700))
      this.timers.add(timer)
      return
    }
    if (this.desk.delete(meeting, side)) this.actions.add('delete')
  }
}

/** Records what a review settled as the pair's baseline (POST /correlate/confirm with a baseline only). */
/**
 * Records what a review settled as the pair's baseline (POST /correlate/confirm with a baseline only), trying each
 * sidecar in turn. Before each attempt it asks `stillSettled`: once either copy has changed, a worker is syncing
 * that change and will confirm a newer baseline, which a late confirm of the settled one must not overwrite.
 */
export type RecordSettled = (request: ReviewRequest, baseline: PartialCalendarItem, stillSettled: () => boolean) => Promise<'recorded' | 'superseded'>

/**
 * The person behind `needs_review`: looks at both copies a second later and makes them agree, taking for each
 * differing field the value of whoever edited it last, by editing the other copy. Then, as a review tool would, it
 * records the settled item as the pair's baseline: without that, a later edit that sets a field back to the
 * pre-conflict baseline reads as "unchanged" and the other side's value is written over it.
 */
export class Reviewer {
  private readonly queue = new Map<string, { request: ReviewRequest; at: number }>()
  readonly stats = { requests: 0, settled: 0, nothingToDo: 0, baselineRecorded: 0, baselineSuperseded: 0, baselineNotRecorded: 0 }
  private working = false
  private recordSettled?: RecordSettled

  constructor(
    private readonly desk: Desk,
    private readonly delayMs = 1_000,
  ) {}

  /** Where settled baselines go; set once the sidecars are up. */
  connect(recordSettled: RecordSettled): void {
    this.recordSettled = recordSettled
  }

  enqueue(request: ReviewRequest): void {
    this.stats.requests++
    const key = `${request.outlookId}|${request.salesforceId}`
    if (!this.queue.has(key)) this.queue.set(key, { request, at: Date.now() })
  }

  get idle(): boolean {
    return this.queue.size === 0 && !this.working
  }

  async run(stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      await sleep(200)
      const now = Date.now()
      for (const [key, entry] of this.queue) {
        if (now - entry.at < this.delayMs) continue
        this.working = true
        this.queue.delete(key)
        try {
          const settled = this.settle(entry.request)
          if (settled && this.recordSettled) await this.record(entry.request, settled, this.recordSettled)
        } finally {
          this.working = false
        }
      }
    }
  }

  private async record(request: ReviewRequest, settled: PartialCalendarItem, recordSettled: RecordSettled): Promise<void> {
    const { desk } = this
    const holds = (item: PartialCalendarItem | undefined) => item !== undefined && differingGroups(groupValues(item), groupValues(settled)).length === 0
    const stillSettled = () => holds(desk.outlook.currentItem(request.outlookId)) && holds(desk.salesforce.currentItem(request.salesforceId))
    try {
      const outcome = await recordSettled(request, settled, stillSettled)
      if (outcome === 'recorded') this.stats.baselineRecorded++
      else this.stats.baselineSuperseded++
    } catch {
      this.stats.baselineNotRecorded++ // every attempt on every sidecar failed
    }
  }

  /** Makes the two copies agree; the settled item, or undefined when there was nothing to settle. */
  private settle(request: ReviewRequest): PartialCalendarItem | undefined {
    const { desk } = this
    const meeting = desk.truth.meetingOf('outlook', request.outlookId) ?? desk.truth.meetingOf('salesforce', request.salesforceId)
    const outlookItem = desk.outlook.currentItem(request.outlookId)
    const salesforceItem = desk.salesforce.currentItem(request.salesforceId)
    if (meeting !== undefined && (outlookItem === undefined) !== (salesforceItem === undefined)) {
      // A delete against an edit (deletePolicy review): the person lets the delete stand and deletes the other copy.
      if (desk.delete(meeting, outlookItem ? 'outlook' : 'salesforce')) this.stats.settled++
      else this.stats.nothingToDo++
      return undefined
    }
    if (meeting === undefined || !outlookItem || !salesforceItem) {
      this.stats.nothingToDo++
      return undefined
    }
    const differing = differingGroups(groupValues(outlookItem), groupValues(salesforceItem))
    if (differing.length === 0) {
      this.stats.nothingToDo++
      return undefined
    }
    const patches: Record<Side, MeetingPatch> = { outlook: {}, salesforce: {} }
    const winners = { outlook: completeFields(outlookItem), salesforce: completeFields(salesforceItem) }
    for (const group of differing) {
      const last = [...desk.truth.human].reverse().find((c) => c.meeting === meeting && c.values[group] !== undefined)
      const winner: Side = last?.side ?? 'outlook'
      const loser = otherSide(winner)
      for (const key of GROUP_KEYS[group]) (patches[loser] as Record<string, unknown>)[key] = winners[winner][key]
    }
    for (const side of ['outlook', 'salesforce'] as const) {
      if (Object.keys(patches[side]).length > 0) desk.edit(meeting, side, patches[side], 'reviewer')
    }
    this.stats.settled++
    // Read in the same turn as the edits: exactly what was settled, before anyone edits again.
    return desk.outlook.currentItem(request.outlookId)
  }
}
