// A fake Outlook mailbox behind Microsoft Graph: events in Graph's shape, notification bursts into a fake event hub.
import type { PartialCalendarItem } from '../src/domain/calendar-item.js'
import { readGraphEvent } from '../src/domain/graph-event.js'
import { graphDateTimeToInstant, instantToGraphDateTime } from '../src/domain/time-zones.js'
import type { Channel } from './channel.js'
import { FakeApiError, type WriteFaults } from './fake-api.js'
import { exchangeHtmlFromText, graphAllDayTime, graphLocalTime, outlookHtmlBody, type MeetingFields, type MeetingPatch } from './meeting-fields.js'
import type { Random } from './random.js'
import { Tally } from './stats.js'
import { groupValues, type Truth, type WriteContext } from './truth.js'

/** The named extended property our creates stamp with the Salesforce Event Id (as in mule-examples' config). */
export const SOURCE_ID_PROPERTY = 'String {6f1c2a9e-4b7d-4c3a-9e2f-5d8b1a7c3e60} Name SfEventId'

export interface GraphNotification {
  subscriptionId: string
  subscriptionExpirationDateTime: string
  changeType: string
  resource?: string
  resourceData?: Record<string, unknown>
  clientState: string
  tenantId?: string
}

/** One Event Hubs event body: a changeNotificationCollection. */
export interface GraphCollection {
  value: GraphNotification[]
}

type GraphResource = Record<string, unknown> & { id: string }

interface StoredEvent {
  resource: GraphResource
  deleted: boolean
  meeting?: number
  lastWriter: 'human' | 'sync'
  lastSyncWriteSeq?: number
  /** The zone the organiser's Outlook writes wall times in. */
  zone: string
}

export interface WriteResult<T> {
  value: T
  writeSeq: number
}

const clone = <T>(value: T): T => structuredClone(value)

export class FakeOutlook {
  readonly userId: string
  readonly tenantId: string
  readonly subscriptionId: string
  readonly clientState = 'c3-sync-7Qw2'
  readonly notifications = new Tally()
  private readonly events = new Map<string, StoredEvent>()
  private readonly byTransactionId = new Map<string, string>()

  constructor(
    private readonly rng: Random,
    private readonly hub: Channel<GraphCollection>,
    private readonly truth: Truth,
    private readonly faults: WriteFaults,
  ) {
    this.userId = rng.uuid()
    this.tenantId = rng.uuid()
    this.subscriptionId = rng.uuid()
  }

  // --- what people do in Outlook -------------------------------------------------------------------------------

  humanCreate(meeting: number, fields: MeetingFields, zone: string): string {
    const id = this.newId()
    const now = new Date()
    const resource: GraphResource = {
      id,
      createdDateTime: graphTimestamp(now, this.rng),
      iCalUId: `040000008200E00074C5B7101A82E008${this.rng.chars(40, '0123456789ABCDEF')}`,
      type: 'singleInstance',
      seriesMasterId: null,
      isCancelled: false,
      isOrganizer: true,
      originalStartTimeZone: zone,
      originalEndTimeZone: zone,
      categories: [],
      isReminderOn: true,
      reminderMinutesBeforeStart: 15,
    }
    applyHumanPatch(resource, fields, zone)
    this.events.set(id, { resource, deleted: false, meeting, lastWriter: 'human', zone })
    this.truth.bind('outlook', id, meeting)
    this.emitBurst(id, 'created')
    return id
  }

  humanUpdate(id: string, patch: MeetingPatch): boolean {
    const stored = this.live(id)
    if (!stored) return false
    applyHumanPatch(stored.resource, patch, stored.zone)
    stored.lastWriter = 'human'
    this.emitBurst(id, 'updated')
    return true
  }

  /** A change outside the synced fields (categories, reminder): notifications, nothing to sync. */
  humanTouch(id: string): boolean {
    const stored = this.live(id)
    if (!stored) return false
    stored.resource.categories = this.rng.chance(0.5) ? ['Customer'] : ['Internal', 'Follow-up']
    stored.resource.reminderMinutesBeforeStart = this.rng.pick([5, 10, 15, 30])
    this.emitBurst(id, 'updated')
    return true
  }

  humanDelete(id: string): boolean {
    const stored = this.live(id)
    if (!stored) return false
    stored.deleted = true
    stored.lastWriter = 'human'
    this.emitDeleted(id)
    return true
  }

  /** The meeting as its organiser sees it now (canonical), or undefined when deleted. */
  currentItem(id: string): PartialCalendarItem | undefined {
    const stored = this.live(id)
    return stored && readGraphEvent(stored.resource).item
  }

  // --- the Graph API the sync uses -------------------------------------------------------------------------------

  /** GET /users/{id}/events/{id} with Prefer: outlook.timezone="UTC"; null when it does not exist (404). */
  get(id: string): GraphResource | null {
    const stored = this.live(id)
    if (!stored) return null
    const out = clone(stored.resource)
    for (const key of ['start', 'end'] as const) {
      const value = out[key] as { dateTime: string; timeZone: string }
      if (!value) continue
      out[key] = out.isAllDay === true ? graphAllDayTime(value.dateTime.slice(0, 10), 'UTC') : instantToGraphDateTime(graphDateTimeToInstant(value, key).instant)
    }
    return out
  }

  /** POST /users/{id}/events. A transactionId seen before returns the event it created: no second copy. */
  create(body: Record<string, unknown>, ctx: WriteContext): WriteResult<GraphResource> {
    const landedThenTimeout = this.faults.beforeWrite('create')
    const transactionId = typeof body.transactionId === 'string' ? body.transactionId : undefined
    const existingId = transactionId ? this.byTransactionId.get(transactionId) : undefined
    const existing = existingId ? this.live(existingId) : undefined
    if (existing) {
      const write = this.truth.recordWrite({
        system: 'outlook',
        itemId: existing.resource.id,
        meeting: existing.meeting,
        op: 'create',
        noop: true,
        extraCopy: false,
        createKeyHit: true,
        ctx,
        after: groupValues(readGraphEvent(existing.resource).item),
      })
      if (landedThenTimeout) throw this.faults.landedTimeout('create', write.seq)
      return { value: this.get(existing.resource.id) as GraphResource, writeSeq: write.seq }
    }
    validateGraphWrite(body)
    const id = this.newId()
    const resource: GraphResource = {
      id,
      createdDateTime: graphTimestamp(new Date(), this.rng),
      type: 'singleInstance',
      seriesMasterId: null,
      isCancelled: false,
      isOrganizer: true,
      originalStartTimeZone: 'UTC',
      originalEndTimeZone: 'UTC',
      categories: [],
      isReminderOn: true,
      reminderMinutesBeforeStart: 15,
    }
    applySyncPatch(resource, body)
    if (transactionId) {
      resource.transactionId = transactionId
      this.byTransactionId.set(transactionId, id)
    }
    const stamp = readStamp(resource)
    const meeting = stamp ? this.truth.meetingOf('salesforce', stamp) : undefined
    const extraCopy = meeting !== undefined && this.liveIdsOf(meeting).length > 0
    this.events.set(id, { resource, deleted: false, meeting, lastWriter: 'sync', zone: 'UTC' })
    if (meeting !== undefined) this.truth.bind('outlook', id, meeting)
    const after = groupValues(readGraphEvent(resource).item)
    const write = this.truth.recordWrite({ system: 'outlook', itemId: id, meeting, op: 'create', noop: false, extraCopy, createKeyHit: false, ctx, after })
    this.events.get(id)!.lastSyncWriteSeq = write.seq
    this.truth.noteSynced(meeting, 'outlook', after)
    this.emitBurst(id, 'created')
    if (landedThenTimeout) throw this.faults.landedTimeout('create', write.seq)
    return { value: this.get(id) as GraphResource, writeSeq: write.seq }
  }

  /** PATCH /users/{id}/events/{id}; with ifMatch, 412 when the event changed since that etag was read. */
  update(id: string, patch: Record<string, unknown>, ctx: WriteContext, ifMatch?: string): WriteResult<GraphResource> {
    const stored = this.live(id)
    if (!stored) throw new FakeApiError('outlook', 'not_found', `event ${id} does not exist`)
    if (ifMatch !== undefined && ifMatch !== stored.resource['@odata.etag']) {
      throw new FakeApiError('outlook', 'precondition_failed', `event ${id} changed since ${ifMatch}`)
    }
    const landedThenTimeout = this.faults.beforeWrite('update')
    const before = groupValues(readGraphEvent(stored.resource).item)
    const next = clone(stored.resource)
    applySyncPatch(next, patch)
    validateGraphWrite(next)
    stored.resource = next
    const after = groupValues(readGraphEvent(next).item)
    const noop = JSON.stringify(before) === JSON.stringify(after)
    const write = this.truth.recordWrite({ system: 'outlook', itemId: id, meeting: stored.meeting, op: 'update', noop, extraCopy: false, createKeyHit: false, ctx, after })
    stored.lastWriter = 'sync'
    stored.lastSyncWriteSeq = write.seq
    this.truth.noteSynced(stored.meeting, 'outlook', after)
    this.emitBurst(id, 'updated')
    if (landedThenTimeout) throw this.faults.landedTimeout('update', write.seq)
    return { value: this.get(id) as GraphResource, writeSeq: write.seq }
  }

  /** DELETE /users/{id}/events/{id}; 404 when it is gone already. */
  delete(id: string, ctx: WriteContext): WriteResult<null> {
    const stored = this.live(id)
    if (!stored) throw new FakeApiError('outlook', 'not_found', `event ${id} does not exist`)
    const landedThenTimeout = this.faults.beforeWrite('delete')
    stored.deleted = true
    const write = this.truth.recordWrite({ system: 'outlook', itemId: id, meeting: stored.meeting, op: 'delete', noop: false, extraCopy: false, createKeyHit: false, ctx })
    stored.lastWriter = 'sync'
    stored.lastSyncWriteSeq = write.seq
    this.emitDeleted(id)
    if (landedThenTimeout) throw this.faults.landedTimeout('delete', write.seq)
    return { value: null, writeSeq: write.seq }
  }

  // --- for the workers' bookkeeping and the final checks ---------------------------------------------------------

  lastWriterOf(id: string): { writer: 'human' | 'sync'; syncWriteSeq?: number } | undefined {
    const stored = this.events.get(id)
    return stored && { writer: stored.lastWriter, syncWriteSeq: stored.lastSyncWriteSeq }
  }

  liveIdsOf(meeting: number): string[] {
    return [...this.events.values()].filter((e) => !e.deleted && e.meeting === meeting).map((e) => e.resource.id)
  }

  liveEvents(): Array<{ id: string; meeting?: number; item: PartialCalendarItem; stamp?: string }> {
    return [...this.events.values()]
      .filter((e) => !e.deleted)
      .map((e) => ({ id: e.resource.id, meeting: e.meeting, item: readGraphEvent(e.resource).item, stamp: readStamp(e.resource) }))
  }

  /** The reachability probe Graph writes into the hub when a subscription is created: the flow must drop it. */
  publishValidationMessage(): void {
    this.hub.publish({
      value: [
        {
          subscriptionId: 'NA',
          subscriptionExpirationDateTime: 'NA',
          clientState: 'NA',
          changeType: `Validation: Testing client application reachability for subscription Request-Id: ${this.rng.uuid()}`,
          resource: 'NA',
          resourceData: { '@odata.type': 'NA', '@odata.id': 'NA', id: 'NA' },
        },
      ],
    })
    this.notifications.add('validation')
  }

  private live(id: string): StoredEvent | undefined {
    const stored = this.events.get(id)
    return stored && !stored.deleted ? stored : undefined
  }

  private newId(): string {
    // Graph ids are long, case-sensitive base64: two ids may differ only in case.
    return `AAMkAGI2TG93AAA${this.rng.base64(40).replace(/\//g, '-')}AAA=`
  }

  private notification(id: string, changeType: string, etag: string): GraphNotification {
    const resource = `Users/${this.userId}/Events/${id}`
    return {
      subscriptionId: this.subscriptionId,
      subscriptionExpirationDateTime: '2026-03-12T08:00:00.0000000+00:00',
      changeType,
      resource,
      resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': resource, '@odata.etag': `W/"${etag}"`, id },
      clientState: this.clientState,
      tenantId: this.tenantId,
    }
  }

  /** Exchange writes one edit in several steps: 2-4 notifications, each with a new changeKey, within a second. */
  private emitBurst(id: string, first: 'created' | 'updated'): void {
    const stored = this.events.get(id)!
    const steps = this.rng.int(2, 4)
    let delay = 0
    let changeKey = ''
    for (let step = 0; step < steps; step++) {
      changeKey = `DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAA${this.rng.base64(6)}`
      const changeType = step === 0 ? first : 'updated'
      this.hub.publish({ value: [this.notification(id, changeType, changeKey)] }, delay)
      this.notifications.add(changeType)
      delay += this.rng.between(50, 300)
    }
    stored.resource.changeKey = changeKey
    stored.resource['@odata.etag'] = `W/"${changeKey}"`
    stored.resource.lastModifiedDateTime = graphTimestamp(new Date(), this.rng)
  }

  private emitDeleted(id: string): void {
    const changeKey = `DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAA${this.rng.base64(6)}`
    this.hub.publish({ value: [this.notification(id, 'deleted', changeKey)] })
    this.notifications.add('deleted')
  }
}

/** Graph timestamps carry seven fraction digits. */
function graphTimestamp(date: Date, rng: Random): string {
  return `${date.toISOString().slice(0, 23)}${rng.chars(4, '0123456789')}Z`
}

function readStamp(resource: Record<string, unknown>): string | undefined {
  const props = resource.singleValueExtendedProperties
  if (!Array.isArray(props)) return undefined
  const found = props.find((p) => p && typeof p === 'object' && (p as { id?: unknown }).id === SOURCE_ID_PROPERTY) as { value?: unknown } | undefined
  return typeof found?.value === 'string' ? found.value : undefined
}

/** A person's edit as Outlook stores it: HTML body, wall times in the organiser's zone. */
function applyHumanPatch(resource: Record<string, unknown>, patch: MeetingPatch, zone: string): void {
  if (patch.subject !== undefined) resource.subject = patch.subject
  if (patch.description !== undefined) resource.body = { contentType: 'html', content: outlookHtmlBody(patch.description) }
  if (patch.location !== undefined) resource.location = { displayName: patch.location, locationType: 'default' }
  if (patch.showAs !== undefined) resource.showAs = patch.showAs
  if (patch.isPrivate !== undefined) resource.sensitivity = patch.isPrivate ? 'private' : 'normal'
  if (patch.start !== undefined && patch.end !== undefined) {
    const allDay = patch.isAllDay ?? false
    resource.isAllDay = allDay
    resource.start = allDay ? graphAllDayTime(patch.start, zone) : graphLocalTime(patch.start, zone)
    resource.end = allDay ? graphAllDayTime(patch.end, zone) : graphLocalTime(patch.end, zone)
  }
}

/** A Graph write (POST or PATCH body): properties replace; a text body is stored as HTML, as Exchange does. */
function applySyncPatch(resource: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'transactionId') continue
    if (key === 'body' && value && typeof value === 'object') {
      const body = value as { contentType?: string; content?: string }
      resource.body = (body.contentType ?? 'text').toLowerCase() === 'text' ? { contentType: 'html', content: exchangeHtmlFromText(body.content ?? '') } : clone(body)
      continue
    }
    resource[key] = clone(value)
  }
}

/** Graph's own checks that a sync bug could trip: all-day needs midnight in one zone; end not before start. */
function validateGraphWrite(resource: Record<string, unknown>): void {
  const start = resource.start as { dateTime?: string; timeZone?: string } | undefined
  const end = resource.end as { dateTime?: string; timeZone?: string } | undefined
  if (!start || !end) return
  if (resource.isAllDay === true) {
    const midnight = (v?: string) => typeof v === 'string' && /T00:00:00(\.0+)?$/.test(v)
    if (!midnight(start.dateTime) || !midnight(end.dateTime) || start.timeZone !== end.timeZone) {
      throw new FakeApiError('outlook', 'rejected', 'ErrorPropertyValidationFailure: an all-day event needs start and end at midnight in one time zone')
    }
  }
  const s = graphDateTimeToInstant(start, 'start').instant
  const e = graphDateTimeToInstant(end, 'end').instant
  if (e < s) throw new FakeApiError('outlook', 'rejected', 'ErrorInvalidRequest: end is before start')
}

export function completeFields(item: PartialCalendarItem): MeetingFields {
  return {
    subject: item.subject ?? '',
    start: item.start ?? '',
    end: item.end ?? '',
    isAllDay: item.isAllDay ?? false,
    location: item.location ?? '',
    description: item.description ?? '',
    showAs: item.showAs ?? 'busy',
    isPrivate: item.isPrivate ?? false,
  }
}
