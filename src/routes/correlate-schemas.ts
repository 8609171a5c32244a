// zod schemas of the /correlate family: validation, types and the OpenAPI document in one place.
import { z } from 'zod'
import { CREATE_KEY_PATTERN, CREATE_KEY_RULE } from '../domain/correlate-key.js'
import { describeCorrelateReasons } from '../domain/correlate-reasons.js'
import {
  changeEventSchema,
  fieldsSchema,
  fingerprintSchema,
  itemIdSchema,
  leaseMsSchema,
  notificationSchema,
  required,
  tenantSchema,
} from './common-schemas.js'

export const correlateSystemSchema = z
  .enum(['outlook', 'salesforce'], { error: 'must be "outlook" or "salesforce"' })
  .describe('The system the item lives in: "outlook" (Microsoft Graph) or "salesforce".')

export const itemRefSchema = z
  .strictObject({ system: correlateSystemSchema, itemId: itemIdSchema })
  .describe('One item: its system and its id there.')

const counterpartHintSchema = z
  .object({
    system: correlateSystemSchema.optional().describe('With itemId: the system of the source item, i.e. the other one.'),
    itemId: itemIdSchema.optional().describe('With system: the source item\'s id our create stamped on this item.'),
    createKey: z
      .string({ error: 'must be a string' })
      .regex(CREATE_KEY_PATTERN, CREATE_KEY_RULE)
      .optional()
      .describe(
        'Instead of system and itemId: the reservation.createKey our create was made with, as the item reports it (the Graph event\'s transactionId, the Salesforce external-id field such as Calendar_Sync_Key__c). The sidecar remembers for DEDUPE_TTL which source item each createKey was handed out for; an unknown one counts as no hint.',
      ),
  })
  .describe(
    'What this item says about the create that made it, when it says anything: either { system, itemId } (the source id our create stamped on it: an Outlook single-value extended property, a Salesforce custom field) or { createKey }, not both. An unlinked item naming an item we created is our own create coming back: the pair is linked, with the state the create was asked with as baseline; skip / echo when the item\'s state equals that state (or no state is sent), update / linked when a person edited the copy since. The same rules as for the named item follow (conflicting_link, tombstoned, series_mismatch). On a linked item a created with this hint is an echo only without a state; with one, the state decides as for any change. A { system, itemId } hint is trusted as our stamp also when the sidecar holds nothing about the named item (its state lost with a restarted memory store, or older than DEDUPE_TTL): the pair is linked, so the copy is not created a second time; an item carrying a stamp a person copied onto it is linked the same way. An unknown createKey, which only the sidecar hands out, counts as no hint.',
  )

const graphEventSchema = z
  .record(z.string(), z.unknown(), { error: 'must be a Graph event object' })
  .describe(
    'A Graph event resource (as GET /events/{id} returns it). Stands in for fields: read into the canonical item, so it fingerprints like the same meeting read from Salesforce. Its type / seriesMasterId also tell the series role.',
  )

const salesforceRecordSchema = z
  .record(z.string(), z.unknown(), { error: 'must be a Salesforce Event record object' })
  .describe(
    'A Salesforce Event record (REST field names). Stands in for fields: read into the canonical item. Its IsChild, GroupEventType, IsRecurrence, IsRecurrence2, IsRecurrence2Exception, Recurrence2PatternText and RecurrenceActivityId tell the series role.',
  )

export const seriesRoleSchema = z
  .enum(['single', 'series_master', 'occurrence', 'exception'], { error: 'must be single, series_master, occurrence or exception' })
  .describe(
    'How the item sits in a recurring series. series_master: a Graph seriesMaster or a Salesforce series record; occurrence / exception: one instance of a series; single: no series.',
  )

const baselineSchema = z
  .record(z.string(), z.unknown(), { error: 'must be an object of the synced fields' })
  .describe(
    'The synced fields both sides agree on after this write, best as the canonical calendar item (subject, start, end, isAllDay, location, description, showAs, isPrivate, attendees). Stored exactly as given; /correlate compares targetFields with it, and a change whose state fingerprints like it is skip / echo (nothing new); /resolve-conflict uses it as the base.',
  )

export const correlateRequestSchema = z
  .object({
    tenant: tenantSchema.optional(),
    system: correlateSystemSchema.optional().describe('Explicit form: the system of the changed item. Required unless notification or changeEvent is sent.'),
    itemId: itemIdSchema.optional().describe('Explicit form: the changed item. Required unless notification or changeEvent is sent.'),
    changeType: z
      .enum(['created', 'updated', 'deleted', 'undeleted'], { error: 'must be "created", "updated", "deleted" or "undeleted"' })
      .optional()
      .describe('Explicit form: what happened. Required unless notification or changeEvent is sent. "undeleted" (a Salesforce UNDELETE: the record restored from the recycle bin) counts as "updated", except after its pair was deleted: then it is create / new_item, as for a new item (the restored item\'s tombstone ends; its old counterpart\'s stays).'),
    fields: fieldsSchema
      .optional()
      .describe(
        'The synced fields of the changed item as they are now, best the canonical calendar item; fingerprinted like /dedupe. With a state (fields, event, record or fingerprint) the state decides whether a change of a linked item is our echo: only the latest write into the item (the echo ledger) or the stored baseline is; changedBy / changeOrigin decide only without a state. With create, the fields (or the item read from event / record) are kept as what the create writes: the baseline when the copy comes back with a counterpartHint before the confirm. Send one of fields, event, record or fingerprint.',
      ),
    fingerprint: fingerprintSchema
      .optional()
      .describe('Your own hash of the synced fields, compared as given with written fingerprints (a baseline is hashed as fields are, so it matches only fingerprints the sidecar computed).'),
    event: graphEventSchema.optional(),
    record: salesforceRecordSchema.optional(),
    changedBy: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .optional()
      .describe(
        'Salesforce commitUser or LastModifiedById (15 or 18 characters). A change by one of SALESFORCE_INTEGRATION_USER_IDS is our echo when no state (fields, event, record, fingerprint) is sent, or the item is unlinked; with a state, the state decides for a linked item (a person may have changed it after our write). Taken from the change event header with the native form. Salesforce items only: on an Outlook item it is a 400.',
      ),
    changeOrigin: z
      .string({ error: 'must be a string' })
      .max(1024, 'must be at most 1024 characters')
      .optional()
      .describe(
        'Salesforce changeOrigin, e.g. "com/salesforce/api/rest/62.0;client=c3-sync". When its client= value equals SALESFORCE_CLIENT_ID exactly the change is our echo, under the same condition as changedBy (no state sent, or an unlinked item). Taken from the change event header with the native form. Salesforce items only: on an Outlook item it is a 400.',
      ),
    counterpartHint: counterpartHintSchema.optional(),
    targetFields: fieldsSchema
      .optional()
      .describe(
        'The counterpart\'s synced fields now, when the flow has read them. A linked update whose targetFields differ from the baseline (on the fields both know) is resolve / both_changed. Without them, an update on a pair this call links (our create\'s copy, edited since, coming back before the create\'s confirm) is resolve / both_changed too: the counterpart may have changed since the create. A flow that gets update for a counterpart it did not read (linked after its lookup) should have the change redelivered and read it then.',
      ),
    targetEvent: graphEventSchema.optional().describe('Instead of targetFields when the counterpart is in Outlook: its Graph event resource.'),
    targetRecord: salesforceRecordSchema
      .optional()
      .describe('Instead of targetFields when the counterpart is in Salesforce: its Event record.'),
    seriesRole: seriesRoleSchema.optional().describe('Overrides the series role read from event / record / changeEvent; send it when you send canonical fields.'),
    isChild: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe('Overrides IsChild read from record / changeEvent: a Salesforce invitee\'s child event, skipped with child_event. Salesforce only: true with system outlook is a 400.'),
    leaseMs: leaseMsSchema.optional().describe('How long a create reservation holds, 1000-3600000 ms. Default DEFAULT_LEASE_MS (60 s).'),
    reread: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe('true when the state was read again after an earlier_write answer: read after our latest write was confirmed, a state equal to our earlier write is a person setting the item back, an update.'),
    claimToken: z
      .string({ error: required('a string') })
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .optional()
      .describe(
        'The /dedupe claim token this change is processed under. The create reservation remembers it: a create asked again with the same claimToken (its answer was lost) while the reservation has at least half the request\'s leaseMs left gets that reservation again (create / new_item, the same reservation token, expiresAt and createKey) instead of create_in_flight, and what the create will write is taken from this request. A delete, a series occurrence or exception, another or no claimToken, or less lease left: create_in_flight, as before.',
      ),
    notification: notificationSchema.optional().describe('Native form: one Graph changeNotification; system "outlook", itemId = resourceData.id, changeType as sent.'),
    changeEvent: changeEventSchema
      .optional()
      .describe(
        'Native form: a Salesforce change event (CometD envelope, wrapped or decoded payload); itemId = the one id in recordIds, changedBy = commitUser, changeOrigin from the header, IsChild and series fields from the payload. Several recordIds: call once per id with the explicit form. entityName must be Event (another object\'s change is a 400).',
      ),
  })
  .describe(
    'A change in one system to correlate with the other. Explicit form: system, itemId, changeType. Native forms: { notification } or { changeEvent }.',
  )
  .meta({ id: 'CorrelateRequest' })

const isoSchema = (what: string) => z.string().describe(`${what} (ISO-8601)`)

export const linkSchema = z
  .object({
    tenant: z.string().describe('tenant'),
    outlook: z.object({ itemId: z.string().describe('the Outlook event id') }).describe('The Outlook side.'),
    salesforce: z.object({ itemId: z.string().describe('the Salesforce Event id') }).describe('The Salesforce side.'),
    state: z
      .enum(['linked', 'tombstoned'])
      .describe('linked: changes flow between the two. tombstoned: the pair was deleted; late changes of either id are skipped, except an undelete, which creates the item anew.'),
    baseline: z.record(z.string(), z.unknown()).optional().describe('The synced fields both sides agreed on at the last confirm.'),
    series: z
      .object({ outlook: seriesRoleSchema.optional(), salesforce: seriesRoleSchema.optional() })
      .optional()
      .describe('The series role each side was last seen with, when known.'),
    linkedAt: isoSchema('when the pair was linked'),
    updatedAt: isoSchema('the last confirm that changed it'),
  })
  .describe('A link: one Outlook item and one Salesforce item that are the same meeting.')
  .meta({ id: 'CorrelateLink' })

const ACTION_GUIDE =
  'create: create the counterpart in target.system (use reservation.createKey as Graph transactionId or Salesforce external-id upsert key, stamp the source id on it), then /correlate/confirm. update: write the change to target.itemId, then /correlate/confirm. delete: delete target.itemId, then /correlate/confirm with deleted true. resolve: call /resolve-conflict, write both sides, then /correlate/confirm. skip: write nothing (with create_in_flight or earlier_write: redeliver after retryAfterMs, reading the source again).'

export const correlateResponseSchema = z
  .object({
    action: z.enum(['create', 'update', 'delete', 'resolve', 'skip']).describe(ACTION_GUIDE),
    reason: z
      .enum([
        'new_item',
        'linked',
        'both_changed',
        'echo',
        'create_in_flight',
        'earlier_write',
        'no_link_for_delete',
        'tombstoned',
        'replaced',
        'conflicting_link',
        'series_occurrence',
        'series_mismatch',
        'child_event',
      ])
      .describe(describeCorrelateReasons()),
    detail: z.string().describe('One sentence a person can act on (the reason, spelled out).'),
    target: z
      .object({
        system: correlateSystemSchema.describe('The system to write to: always the other one.'),
        itemId: z.string().nullable().describe('The counterpart id; null when there is none yet.'),
      })
      .describe('Where the write goes.'),
    reservation: z
      .object({
        token: z.string().describe('Send it as reservationToken to /correlate/confirm.'),
        expiresAt: isoSchema('When the reservation lapses; the next delivery then gets create again'),
        createKey: z
          .string()
          .describe(
            'Stable per copy of the source item: the Graph transactionId or the Salesforce external-id upsert key, so a create retried after a crash (or after its reservation lapsed) never makes a second copy. "css-" and 32 hex digits; once a pair of the item was deleted (a confirm with deleted true), the next copy gets the key with "-" and the time of that delete (epoch ms) appended (a delete not followed by a create within 30 days, or DEDUPE_TTL if longer, is forgotten), so a re-created item (an undelete) never reuses a deleted copy\'s transactionId, which Graph may remember. When the new item\'s changes come back, send it as counterpartHint.createKey if the item\'s source stamp cannot be read.',
          ),
      })
      .optional()
      .describe('With create only: stops a second, concurrent create of the same item.'),
    retryAfterMs: z.number().int().optional().describe('With create_in_flight: when the live reservation lapses. With earlier_write: when a state equal to our earlier write counts as a change.'),
    baseline: z.record(z.string(), z.unknown()).optional().describe('The fields both sides agreed on at the last sync, when linked.'),
    series: z
      .object({ role: seriesRoleSchema, masterId: z.string().optional().describe('the series master id the source named') })
      .optional()
      .describe('The series role read from the request, when known.'),
    link: linkSchema.optional().describe('With tombstoned, conflicting_link and series_mismatch: the link that decided it.'),
  })
  .describe('What to do with the change. Always HTTP 200.')
  .meta({ id: 'CorrelateResponse' })

export const confirmRequestSchema = z
  .strictObject({
    tenant: tenantSchema.optional(),
    source: itemRefSchema.describe('The item whose change you synced.'),
    target: itemRefSchema.describe('The item you wrote (created, updated or deleted), in the other system.'),
    written: z
      .strictObject({
        fields: fieldsSchema.optional().describe('The synced fields you wrote into target.'),
        fingerprint: fingerprintSchema.optional(),
        event: graphEventSchema.optional().describe('The Graph event as written (target in Outlook).'),
        record: salesforceRecordSchema.optional().describe('The Salesforce record as written (target in Salesforce).'),
      })
      .optional()
      .describe(
        'What you wrote into target (one of fields, fingerprint, event, record; {} is a 400): the echo ledger. It replaces the target\'s earlier entry: for ECHO_WINDOW a change of target with this fingerprint is skip / echo, as often as it repeats; the write it replaced is skip / earlier_write for a lease (read again, with reread), then a real change.',
      ),
    baseline: baselineSchema.optional(),
    reservationToken: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .optional()
      .describe('The reservation token from create. A confirm links even after the reservation lapsed.'),
    deleted: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe('true after deleting target: tombstones the pair, so late changes of either id are skipped, and marks both items with the time of the delete, so a copy made anew of either (after an undelete) gets a createKey of its own. Repeating it, even after an undelete restored one of the items, changes nothing.'),
    replaces: itemRefSchema
      .optional()
      .describe(
        'With a /resolve-conflict create: the item target replaces, in target\'s system (the one the resolution found deleted). When source is still linked to it, that item is tombstoned (its late changes and its delete are skipped, so the delete does not reach source) and marked with the time, as a delete confirm marks it (restored, its next copy gets a createKey of its own), and source is linked to target, where the confirm would otherwise answer conflicting_link. A tombstoned target is refused first, as ever. When source is linked to another item, conflicting_link as ever; when it is not linked to it (already relinked: a repeat), nothing more.',
      ),
  })
  .describe('Record a write that succeeded. Source and target may be either way round: a link is one pair.')
  .meta({ id: 'CorrelateConfirmRequest' })

export const confirmResponseSchema = z
  .object({
    linked: z.boolean().describe('true: the pair is linked. false: tombstoned (deleted true) or refused (reason).'),
    reason: z
      .enum(['conflicting_link', 'tombstoned'])
      .optional()
      .describe(
        'conflicting_link: source or target is already linked to another item; no link changed. Delete the extra copy you made. tombstoned: the pair (or one of the items) was deleted meanwhile; no link changed: delete what you just wrote if it must not outlive the pair (DELETE /correlate first to resync on purpose). Either way the write is recorded as our echo (written), so the copy\'s own change event is skip / echo until you delete it; not when the target is linked to another item, whose pair must hear it was overwritten.',
      ),
    detail: z.string().optional().describe('With reason: what to do.'),
    link: linkSchema.describe('The pair as stored now (with conflicting_link: the existing link).'),
  })
  .meta({ id: 'CorrelateConfirmResponse' })

export const correlateParamsSchema = z.object({ system: correlateSystemSchema, itemId: itemIdSchema })
