// A fake Salesforce org: Event records over REST field names, and Change Data Capture events for every commit.
import type { PartialCalendarItem } from '../src/domain/calendar-item.js'
import { readSalesforceRecord } from '../src/domain/salesforce-event.js'
import type { Channel } from './channel.js'
import { FakeApiError, type WriteFaults } from './fake-api.js'
import type { WriteResult } from './fake-outlook.js'
import type { MeetingFields, MeetingPatch } from './meeting-fields.js'
import type { Random } from './random.js'
import { Tally } from './stats.js'
import { groupValues, type Truth, type WriteContext } from './truth.js'

export const INTEGRATION_USER = '0055g00000INTEGAAQ'
export const CLIENT_ID = 'c3-sync'
export const HUMAN_USERS = ['0055g0000012345AAA', '0055g00000HUMN2AAB', '0055g00000HUMN3AAC']
export const REVIEWER_USER = '0055g00000REVWRAAD'
const INVITEE_USER = '0055g00000INVTEAAE'
const SCHEMA_ID = 'pR3kVb0qT1x9yLmNo2CdEf'
const DAY_MS = 86_400_000

export type CdcMessage = Record<string, unknown>

interface StoredRecord {
  Id: string
  Subject: string | null
  IsAllDayEvent: boolean
  /** Timed: the start instant; all-day: midnight UTC of the first day. */
  start: number
  DurationInMinutes: number
  Location: string | null
  Description: string | null
  ShowAs: 'Busy' | 'OutOfOffice' | 'Free'
  IsPrivate: boolean
  IsChild: boolean
  IsDeleted: boolean
  IsReminderSet: boolean
  OwnerId: string
  CreatedDate: number
  CreatedById: string
  LastModifiedDate: number
  LastModifiedById: string
  Outlook_Event_Id__c: string | null
  Calendar_Sync_Key__c: string | null
  children: string[]
  meeting?: number
  lastWriter: 'human' | 'sync'
  lastSyncWriteSeq?: number
}

/** The fields a change event can carry for an Event (no StartDateTime / EndDateTime, as documented). */
const CDC_FIELDS = [
  'Subject',
  'Location',
  'Description',
  'IsAllDayEvent',
  'ActivityDateTime',
  'ActivityDate',
  'DurationInMinutes',
  'ShowAs',
  'IsPrivate',
  'IsReminderSet',
  'OwnerId',
  'IsChild',
  'Outlook_Event_Id__c',
  'Calendar_Sync_Key__c',
] as const

const SHOW_AS_TO_SF: Record<string, StoredRecord['ShowAs']> = { busy: 'Busy', tentative: 'Busy', unknown: 'Busy', oof: 'OutOfOffice', free: 'Free', workingElsewhere: 'Free' }

/** REST renders date-times with +0000 and milliseconds; LastModifiedDate has whole seconds. */
const restDateTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000')
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000
const clone = <T>(value: T): T => structuredClone(value)

export class FakeSalesforce {
  readonly cdcEvents = new Tally()
  private readonly records = new Map<string, StoredRecord>()
  private replayId = 48_213_000
  private commitNumber = 1_180_442_000_000

  constructor(
    private readonly rng: Random,
    private readonly cdc: Channel<CdcMessage>,
    private readonly truth: Truth,
    private readonly faults: WriteFaults,
  ) {}

  // --- what people do in Salesforce ---------------------------------------------------------------------------

  /** A person creates an Event; a third of them invite a colleague, whose child Event shares the transaction. */
  humanCreate(meeting: number, fields: MeetingFields, user: string): string {
    const record = this.newRecord(user)
    applyCanonical(record, fields)
    record.meeting = meeting
    this.records.set(record.Id, record)
    this.truth.bind('salesforce', record.Id, meeting)
    const tx = this.transaction(user, false)
    tx.emit('CREATE', record, undefined)
    if (this.rng.chance(1 / 3)) {
      const child = this.newRecord(user)
      applyCanonical(child, fields)
      child.IsChild = true
      child.OwnerId = INVITEE_USER
      this.records.set(child.Id, child)
      record.children.push(child.Id)
      tx.emit('CREATE', child, undefined)
    }
    return record.Id
  }

  humanUpdate(id: string, patch: MeetingPatch, user: string): boolean {
    const record = this.live(id)
    if (!record) return false
    this.commitChange(record, user, false, (r) => applyCanonical(r, patch))
    return true
  }

  /** A change outside the synced fields (the reminder): a CDC event, nothing to sync. */
  humanTouch(id: string, user: string): boolean {
    const record = this.live(id)
    if (!record) return false
    this.commitChange(record, user, false, (r) => (r.IsReminderSet = !r.IsReminderSet))
    return true
  }

  humanDelete(id: string, user: string): boolean {
    const record = this.live(id)
    if (!record) return false
    this.commitDelete(record, user, false)
    return true
  }

  currentItem(id: string): PartialCalendarItem | undefined {
    const record = this.live(id)
    return record && readSalesforceRecord(restView(record))
  }

  // --- the REST API the sync uses ---------------------------------------------------------------------------------

  /** SELECT ... FROM Event WHERE Id = :id through query-all: deleted rows too (IsDeleted true); null when unknown. */
  query(id: string): Record<string, unknown> | null {
    const record = this.records.get(id)
    return record ? restView(record) : null
  }

  /** Upsert on Calendar_Sync_Key__c: a key seen before updates the Event it created, so a retried create makes no copy. */
  upsertByKey(key: string, fields: Record<string, unknown>, ctx: WriteContext): WriteResult<{ id: string; created: boolean }> {
    const landedThenTimeout = this.faults.beforeWrite('upsert')
    const existing = [...this.records.values()].find((r) => !r.IsDeleted && r.Calendar_Sync_Key__c === key)
    if (existing) {
      const before = groupValues(readSalesforceRecord(restView(existing)))
      const next = clone(existing)
      applyRest(next, fields)
      validateRecord(next)
      const after = groupValues(readSalesforceRecord(restView(next)))
      const noop = JSON.stringify(before) === JSON.stringify(after)
      const write = this.truth.recordWrite({ system: 'salesforce', itemId: existing.Id, meeting: existing.meeting, op: 'create', noop, extraCopy: false, createKeyHit: true, ctx, after })
      this.commitChange(existing, INTEGRATION_USER, true, (r) => applyRest(r, fields), write.seq)
      this.truth.noteSynced(existing.meeting, 'salesforce', after)
      if (landedThenTimeout) throw this.faults.landedTimeout('upsert', write.seq)
      return { value: { id: existing.Id, created: false }, writeSeq: write.seq }
    }
    const record = this.newRecord(INTEGRATION_USER)
    applyRest(record, { ...fields, Calendar_Sync_Key__c: key })
    validateRecord(record)
    const stamp = record.Outlook_Event_Id__c
    const meeting = stamp ? this.truth.meetingOf('outlook', stamp) : undefined
    const extraCopy = meeting !== undefined && this.liveIdsOf(meeting).length > 0
    record.meeting = meeting
    record.lastWriter = 'sync'
    this.records.set(record.Id, record)
    if (meeting !== undefined) this.truth.bind('salesforce', record.Id, meeting)
    const after = groupValues(readSalesforceRecord(restView(record)))
    const write = this.truth.recordWrite({ system: 'salesforce', itemId: record.Id, meeting, op: 'create', noop: false, extraCopy, createKeyHit: false, ctx, after })
    record.lastSyncWriteSeq = write.seq
    this.truth.noteSynced(meeting, 'salesforce', after)
    this.transaction(INTEGRATION_USER, true).emit('CREATE', record, undefined)
    if (landedThenTimeout) throw this.faults.landedTimeout('upsert', write.seq)
    return { value: { id: record.Id, created: true }, writeSeq: write.seq }
  }

  /** Upsert on Id (an update); with ifUnmodifiedSince, 412 when LastModifiedDate is later (whole seconds). */
  update(id: string, fields: Record<string, unknown>, ctx: WriteContext, ifUnmodifiedSince?: string): WriteResult<null> {
    const record = this.records.get(id)
    if (!record || record.IsDeleted) throw new FakeApiError('salesforce', 'not_found', `ENTITY_IS_DELETED or NOT_FOUND: ${id}`)
    if (ifUnmodifiedSince !== undefined && record.LastModifiedDate > wholeSecond(Date.parse(ifUnmodifiedSince.replace('+0000', 'Z')))) {
      throw new FakeApiError('salesforce', 'precondition_failed', `${id} was modified after ${ifUnmodifiedSince}`)
    }
    const landedThenTimeout = this.faults.beforeWrite('update')
    const before = groupValues(readSalesforceRecord(restView(record)))
    const next = clone(record)
    applyRest(next, fields)
    validateRecord(next)
    const after = groupValues(readSalesforceRecord(restView(next)))
    const noop = JSON.stringify(before) === JSON.stringify(after)
    const write = this.truth.recordWrite({ system: 'salesforce', itemId: id, meeting: record.meeting, op: 'update', noop, extraCopy: false, createKeyHit: false, ctx, after })
    this.commitChange(record, INTEGRATION_USER, true, (r) => applyRest(r, fields), write.seq)
    this.truth.noteSynced(record.meeting, 'salesforce', after)
    if (landedThenTimeout) throw this.faults.landedTimeout('update', write.seq)
    return { value: null, writeSeq: write.seq }
  }

  delete(id: string, ctx: WriteContext): WriteResult<null> {
    const record = this.records.get(id)
    if (!record || record.IsDeleted) throw new FakeApiError('salesforce', 'not_found', `ENTITY_IS_DELETED: ${id}`)
    const landedThenTimeout = this.faults.beforeWrite('delete')
    const write = this.truth.recordWrite({ system: 'salesforce', itemId: id, meeting: record.meeting, op: 'delete', noop: false, extraCopy: false, createKeyHit: false, ctx })
    record.lastSyncWriteSeq = write.seq
    this.commitDelete(record, INTEGRATION_USER, true)
    if (landedThenTimeout) throw this.faults.landedTimeout('delete', write.seq)
    return { value: null, writeSeq: write.seq }
  }

  // --- for the workers' bookkeeping and the final checks ---------------------------------------------------------

  lastWriterOf(id: string): { writer: 'human' | 'sync'; syncWriteSeq?: number } | undefined {
    const record = this.records.get(id)
    return record && { writer: record.lastWriter, syncWriteSeq: record.lastSyncWriteSeq }
  }

  liveIdsOf(meeting: number): string[] {
    return [...this.records.values()].filter((r) => !r.IsDeleted && !r.IsChild && r.meeting === meeting).map((r) => r.Id)
  }

  liveRecords(): Array<{ id: string; meeting?: number; item: PartialCalendarItem; stamp?: string }> {
    return [...this.records.values()]
      .filter((r) => !r.IsDeleted && !r.IsChild)
      .map((r) => ({ id: r.Id, meeting: r.meeting, item: readSalesforceRecord(restView(r)), stamp: r.Outlook_Event_Id__c ?? undefined }))
  }

  private live(id: string): StoredRecord | undefined {
    const record = this.records.get(id)
    return record && !record.IsDeleted && !record.IsChild ? record : undefined
  }

  private newRecord(user: string): StoredRecord {
    const now = Date.now()
    return {
      Id: `00U5g00000${this.rng.upperAlnum(5)}EAQ`,
      Subject: null,
      IsAllDayEvent: false,
      start: wholeSecond(now),
      DurationInMinutes: 60,
      Location: null,
      Description: null,
      ShowAs: 'Busy',
      IsPrivate: false,
      IsChild: false,
      IsDeleted: false,
      IsReminderSet: false,
      OwnerId: user === INTEGRATION_USER ? HUMAN_USERS[0] : user,
      CreatedDate: wholeSecond(now),
      CreatedById: user,
      LastModifiedDate: wholeSecond(now),
      LastModifiedById: user,
      Outlook_Event_Id__c: null,
      Calendar_Sync_Key__c: null,
      children: [],
      lastWriter: user === INTEGRATION_USER ? 'sync' : 'human',
    }
  }

  /** One committed transaction: the record, then its invitees' child Events, as sequence 1, 2, ... */
  private commitChange(record: StoredRecord, user: string, bySync: boolean, change: (r: StoredRecord) => void, writeSeq?: number): void {
    const tx = this.transaction(user, bySync)
    const before = cdcView(record)
    change(record)
    validateRecord(record)
    touch(record, user)
    record.lastWriter = bySync ? 'sync' : 'human'
    if (writeSeq !== undefined) record.lastSyncWriteSeq = writeSeq
    tx.emit('UPDATE', record, before)
    for (const childId of record.children) {
      const child = this.records.get(childId)
      if (!child || child.IsDeleted) continue
      const childBefore = cdcView(child)
      copySynced(record, child)
      touch(child, user)
      tx.emit('UPDATE', child, childBefore)
    }
  }

  private commitDelete(record: StoredRecord, user: string, bySync: boolean): void {
    const tx = this.transaction(user, bySync)
    record.IsDeleted = true
    touch(record, user)
    record.lastWriter = bySync ? 'sync' : 'human'
    tx.emit('DELETE', record, undefined)
    for (const childId of record.children) {
      const child = this.records.get(childId)
      if (!child || child.IsDeleted) continue
      child.IsDeleted = true
      touch(child, user)
      tx.emit('DELETE', child, undefined)
    }
  }

  private transaction(user: string, bySync: boolean) {
    const transactionKey = this.rng.uuid()
    let sequenceNumber = 0
    const commitTimestamp = Date.now()
    const commitNumber = this.commitNumber++
    const changeOrigin = bySync ? `com/salesforce/api/rest/62.0;client=${CLIENT_ID}` : 'com/salesforce/api/soap/62.0;client=SfdcInternalAPI/'
    return {
      emit: (changeType: 'CREATE' | 'UPDATE' | 'DELETE', record: StoredRecord, before: Record<string, unknown> | undefined) => {
        sequenceNumber++
        const header: Record<string, unknown> = {
          entityName: 'Event',
          recordIds: [record.Id],
          changeType,
          changeOrigin,
          transactionKey,
          sequenceNumber,
          commitTimestamp,
          commitNumber,
          commitUser: user,
        }
        const payload: Record<string, unknown> = { ChangeEventHeader: header }
        const after = cdcView(record)
        if (changeType === 'CREATE') {
          for (const [key, value] of Object.entries(after)) if (value !== null) payload[key] = value
          payload.CreatedDate = new Date(record.CreatedDate).toISOString()
          payload.CreatedById = record.CreatedById
          header.changedFields = []
        } else if (changeType === 'UPDATE') {
          const changed = Object.keys(after).filter((key) => JSON.stringify(after[key]) !== JSON.stringify(before?.[key]))
          for (const key of changed) payload[key] = after[key]
          header.changedFields = [...changed, 'LastModifiedDate', 'LastModifiedById']
        }
        if (changeType !== 'DELETE') {
          payload.LastModifiedDate = new Date(record.LastModifiedDate).toISOString()
          payload.LastModifiedById = record.LastModifiedById
        }
        this.cdcEvents.add(changeType)
        const replayId = this.replayId++
        // The Mule replay channel listener hands over the wrapped form; a CometD client the bare envelope.
        const message = this.rng.chance(0.7)
          ? { data: { schema: SCHEMA_ID, payload, event: { replayId } }, channel: '/data/EventChangeEvent' }
          : { schema: SCHEMA_ID, payload, event: { replayId } }
        this.cdc.publish(message)
      },
    }
  }
}

function touch(record: StoredRecord, user: string): void {
  record.LastModifiedDate = Math.max(record.LastModifiedDate, wholeSecond(Date.now()))
  record.LastModifiedById = user
}

function copySynced(from: StoredRecord, to: StoredRecord): void {
  for (const key of ['Subject', 'IsAllDayEvent', 'start', 'DurationInMinutes', 'Location', 'Description', 'ShowAs', 'IsPrivate'] as const) {
    ;(to as unknown as Record<string, unknown>)[key] = from[key]
  }
}

/** The row as the REST API / SOQL returns it. */
export function restView(record: StoredRecord): Record<string, unknown> {
  const allDay = record.IsAllDayEvent
  const end = allDay ? record.start + (Math.max(1, Math.ceil(record.DurationInMinutes / 1440)) - 1) * DAY_MS : record.start + record.DurationInMinutes * 60_000
  return {
    attributes: { type: 'Event', url: `/services/data/v62.0/sobjects/Event/${record.Id}` },
    Id: record.Id,
    Subject: record.Subject,
    StartDateTime: restDateTime(record.start),
    EndDateTime: restDateTime(end),
    ActivityDateTime: allDay ? null : restDateTime(record.start),
    ActivityDate: isoDate(record.start),
    DurationInMinutes: record.DurationInMinutes,
    IsAllDayEvent: allDay,
    Location: record.Location,
    Description: record.Description,
    ShowAs: record.ShowAs,
    IsPrivate: record.IsPrivate,
    IsChild: record.IsChild,
    IsDeleted: record.IsDeleted,
    LastModifiedDate: restDateTime(record.LastModifiedDate),
    LastModifiedById: record.LastModifiedById,
    OwnerId: record.OwnerId,
    Owner: { Email: 'organizer@example.com' },
    Outlook_Event_Id__c: record.Outlook_Event_Id__c,
    Calendar_Sync_Key__c: record.Calendar_Sync_Key__c,
  }
}

/** The record as a CometD change event carries it: ISO strings ending in Z, dates as dates. */
function cdcView(record: StoredRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const allDay = record.IsAllDayEvent
  const values: Record<(typeof CDC_FIELDS)[number], unknown> = {
    Subject: record.Subject,
    Location: record.Location,
    Description: record.Description,
    IsAllDayEvent: allDay,
    ActivityDateTime: allDay ? null : new Date(record.start).toISOString(),
    ActivityDate: isoDate(record.start),
    DurationInMinutes: record.DurationInMinutes,
    ShowAs: record.ShowAs,
    IsPrivate: record.IsPrivate,
    IsReminderSet: record.IsReminderSet,
    OwnerId: record.OwnerId,
    IsChild: record.IsChild,
    Outlook_Event_Id__c: record.Outlook_Event_Id__c,
    Calendar_Sync_Key__c: record.Calendar_Sync_Key__c,
  }
  for (const key of CDC_FIELDS) out[key] = values[key]
  return out
}

/** A person's edit in Lightning: canonical values in Salesforce's fields. */
function applyCanonical(record: StoredRecord, patch: MeetingPatch): void {
  if (patch.subject !== undefined) record.Subject = patch.subject === '' ? null : patch.subject.slice(0, 255)
  if (patch.location !== undefined) record.Location = patch.location === '' ? null : patch.location
  if (patch.description !== undefined) record.Description = patch.description === '' ? null : patch.description
  if (patch.showAs !== undefined) record.ShowAs = SHOW_AS_TO_SF[patch.showAs]
  if (patch.isPrivate !== undefined) record.IsPrivate = patch.isPrivate
  if (patch.start !== undefined && patch.end !== undefined) {
    if (patch.isAllDay) {
      const start = Date.parse(`${patch.start}T00:00:00Z`)
      record.IsAllDayEvent = true
      record.start = start
      record.DurationInMinutes = Math.round((Date.parse(`${patch.end}T00:00:00Z`) - start) / 60_000)
    } else {
      record.IsAllDayEvent = false
      record.start = Date.parse(patch.start)
      record.DurationInMinutes = Math.round((Date.parse(patch.end) - record.start) / 60_000)
    }
  }
}

const parseSfTime = (value: unknown): number => Date.parse(String(value).replace(/\+0000$/, 'Z'))

/** A REST write (upsert / update body) applied as Salesforce does: the start, end and all-day fields kept consistent. */
function applyRest(record: StoredRecord, fields: Record<string, unknown>): void {
  for (const key of ['Subject', 'Location', 'Description'] as const) {
    if (key in fields) {
      const value = fields[key]
      if (value !== null && typeof value !== 'string') throw new FakeApiError('salesforce', 'rejected', `INVALID_FIELD: ${key} must be text`)
      record[key] = value === '' ? null : (value as string | null)
    }
  }
  if ('ShowAs' in fields) {
    if (!['Busy', 'OutOfOffice', 'Free'].includes(fields.ShowAs as string)) {
      throw new FakeApiError('salesforce', 'rejected', `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: ShowAs "${String(fields.ShowAs)}"`)
    }
    record.ShowAs = fields.ShowAs as StoredRecord['ShowAs']
  }
  if ('IsPrivate' in fields) record.IsPrivate = fields.IsPrivate === true
  for (const key of ['Outlook_Event_Id__c', 'Calendar_Sync_Key__c'] as const) if (key in fields) record[key] = (fields[key] as string | null) ?? null

  const wasAllDay = record.IsAllDayEvent
  const allDay = typeof fields.IsAllDayEvent === 'boolean' ? fields.IsAllDayEvent : wasAllDay
  const touchesTiming = ['IsAllDayEvent', 'StartDateTime', 'EndDateTime', 'ActivityDate', 'ActivityDateTime', 'DurationInMinutes'].some((k) => k in fields)
  if (!touchesTiming) return
  if (allDay) {
    const day = fields.ActivityDate ?? (fields.StartDateTime ? String(fields.StartDateTime).slice(0, 10) : isoDate(record.start))
    const start = Date.parse(`${String(day).slice(0, 10)}T00:00:00Z`)
    let minutes = typeof fields.DurationInMinutes === 'number' ? fields.DurationInMinutes : undefined
    if (minutes === undefined && fields.EndDateTime) minutes = (Math.round((parseSfTime(fields.EndDateTime) - start) / DAY_MS) + 1) * 1440
    record.IsAllDayEvent = true
    record.start = start
    record.DurationInMinutes = minutes ?? (wasAllDay ? record.DurationInMinutes : 1440)
  } else {
    const start = fields.StartDateTime ?? fields.ActivityDateTime
    const startMs = start !== undefined ? parseSfTime(start) : record.start
    let minutes = record.DurationInMinutes
    if (fields.EndDateTime !== undefined) minutes = Math.round((parseSfTime(fields.EndDateTime) - startMs) / 60_000)
    else if (typeof fields.DurationInMinutes === 'number') minutes = fields.DurationInMinutes
    record.IsAllDayEvent = false
    record.start = startMs
    record.DurationInMinutes = minutes
  }
}

function validateRecord(record: StoredRecord): void {
  if (record.Subject !== null && record.Subject.length > 255) throw new FakeApiError('salesforce', 'rejected', 'STRING_TOO_LONG: Subject')
  if (record.Location !== null && record.Location.length > 255) throw new FakeApiError('salesforce', 'rejected', 'STRING_TOO_LONG: Location')
  if (!Number.isFinite(record.start)) throw new FakeApiError('salesforce', 'rejected', 'INVALID_FIELD: StartDateTime')
  if (record.DurationInMinutes < 0 || record.DurationInMinutes > 14 * 1440) {
    throw new FakeApiError('salesforce', 'rejected', `FIELD_INTEGRITY_EXCEPTION: DurationInMinutes ${record.DurationInMinutes}`)
  }
}
