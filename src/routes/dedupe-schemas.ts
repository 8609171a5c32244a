// zod schemas of the /dedupe family: validation, types and the OpenAPI document in one place.
import { z } from 'zod'
import {
  changeEventSchema,
  changeTypeSchema,
  fieldsSchema,
  fingerprintSchema,
  instantSchema,
  itemIdSchema,
  leaseMsSchema,
  notificationSchema,
  required,
  systemSchema,
  tenantSchema,
  versionSchema,
} from './common-schemas.js'

export const MAX_BATCH_EVENTS = 500

const tokenSchema = z
  .string({ error: required('a string') })
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .describe('The claim token from /dedupe.')

export const dedupeRequestSchema = z
  .object({
    tenant: tenantSchema.optional(),
    system: systemSchema.optional().describe('Explicit form: the system the item lives in. Required unless notification or changeEvent is sent.'),
    itemId: itemIdSchema.optional().describe('Explicit form: the item id. Required unless notification or changeEvent is sent.'),
    version: versionSchema.optional().describe('Explicit form: opaque change marker. Required unless notification or changeEvent is sent.'),
    modifiedAt: instantSchema
      .optional()
      .describe('Orders versions of one item (ISO-8601, or epoch ms as a whole number). Without it no ordering is possible: a new version after a commit is processed.'),
    changeType: changeTypeSchema.optional(),
    fields: fieldsSchema.optional(),
    fingerprint: fingerprintSchema.optional(),
    leaseMs: leaseMsSchema.optional(),
    notification: notificationSchema.optional(),
    changeEvent: changeEventSchema.optional(),
  })
  .describe(
    'A change to decide. Explicit form: system, itemId, version (+ modifiedAt, changeType). Native forms: { notification } (one Graph changeNotification) or { changeEvent } (a Salesforce change event); the sidecar derives the rest. fields or fingerprint (not both) enable `unchanged`.',
  )
  .meta({ id: 'DedupeRequest' })

export const dedupeKeySchema = z
  .object({
    tenant: z.string().describe('tenant'),
    system: z.string().describe('system'),
    itemId: z.string().describe('item id'),
    version: z.string().describe('the version decided; for a native Graph notification its changeKey, a deleted one\'s too. A delete is kept as deleted:<changeKey> (last, history and the item\'s record show that form), apart from an update with the same changeKey: a flow that sends a Graph delete again in the explicit form sends that form as its version.'),
  })
  .describe('What was decided.')

export const lastCommittedSchema = z
  .object({
    version: z.string().describe('the last committed version; sync-write when the last known state is one the sync wrote into the item (/correlate/confirm with written)'),
    modifiedAt: z.string().optional().describe('its modifiedAt (ISO-8601), when one was sent'),
    fingerprint: z.string().optional().describe('its fingerprint, when fields or a fingerprint were sent'),
    changeType: z.string().optional().describe('its changeType'),
    committedAt: z.string().describe('when it was committed (ISO-8601)'),
  })
  .describe('The last committed state of the item.')

export const dedupeDecisionSchema = z
  .enum(['process', 'duplicate', 'stale', 'unchanged', 'in_flight'])
  .describe(
    'process: write it, then commit (or release on failure). duplicate: this version was already committed: skip. stale: a newer version was committed, or the item was deleted: skip. unchanged: only unsynced fields moved: skip. in_flight: a live claim holds the item (another worker\'s; in a batch, maybe that of the item\'s undelete in the same batch): retry after retryAfterMs.',
  )

export const dedupeResponseSchema = z
  .object({
    decision: dedupeDecisionSchema,
    reason: z.string().describe('One sentence a person can act on.'),
    key: dedupeKeySchema,
    claim: z
      .object({
        token: z.string().describe('Send it to /dedupe/commit after the write, or /dedupe/release when the write failed.'),
        expiresAt: z.string().describe('When the claim lapses (ISO-8601); after that the next delivery gets process again.'),
      })
      .optional()
      .describe('With process only: your claim on the item.'),
    retryAfterMs: z.number().int().optional().describe('With in_flight only: when the live claim expires.'),
    last: lastCommittedSchema.optional(),
  })
  .describe('The decision. Always HTTP 200.')
  .meta({ id: 'DedupeResponse' })

export const commitRequestSchema = z
  .object({
    tenant: tenantSchema.optional(),
    system: systemSchema,
    itemId: itemIdSchema,
    token: tokenSchema,
    version: versionSchema.optional().describe('What was actually written, when it differs from the claimed version. Both then count as committed: a replay of either is a duplicate.'),
    modifiedAt: instantSchema.optional().describe('The modifiedAt to record, when it differs from the claimed one.'),
    fields: fieldsSchema.optional(),
    fingerprint: fingerprintSchema.optional(),
  })
  .describe('Commit a claim after the write succeeded.')
  .meta({ id: 'CommitRequest' })

export const commitResponseSchema = z
  .object({
    committed: z.boolean().describe('true: recorded (also when repeated with the same token).'),
    reason: z
      .enum(['lease_expired', 'unknown_token', 'store_unavailable'])
      .optional()
      .describe(
        'With committed false. lease_expired: the lease lapsed and another claim was granted since; nothing changed (that worker processes the item). unknown_token: this token never held a claim on the item, or it was released. store_unavailable: the token came from a fail-open answer (it starts with fail-open:), so no claim is in the store and there is nothing to commit; the event was processed without dedupe.',
      ),
  })
  .meta({ id: 'CommitResponse' })

export const releaseRequestSchema = z
  .object({
    tenant: tenantSchema.optional(),
    system: systemSchema,
    itemId: itemIdSchema,
    token: tokenSchema,
  })
  .describe('Release a claim after the write failed, so the next delivery processes the event.')
  .meta({ id: 'ReleaseRequest' })

export const releaseResponseSchema = z
  .object({ released: z.boolean().describe('false when the token no longer holds the claim (committed, released, or superseded).') })
  .meta({ id: 'ReleaseResponse' })

export const batchRequestSchema = z
  .object({
    tenant: tenantSchema.optional().describe('Default tenant for the events; an event\'s own tenant overrides it.'),
    events: z
      .array(dedupeRequestSchema)
      .max(MAX_BATCH_EVENTS)
      .describe(`Up to ${MAX_BATCH_EVENTS} events, each in any /dedupe form.`),
  })
  .meta({ id: 'DedupeBatchRequest' })

/** What the batch route validates before looking at each event: bad events are rejected one by one. */
export const batchEnvelopeSchema = z.object({
  tenant: tenantSchema.optional(),
  events: z
    .array(z.unknown(), { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array of events') })
    .max(MAX_BATCH_EVENTS, `must hold at most ${MAX_BATCH_EVENTS} events; split the batch`),
})

export const supersededSchema = z
  .object({
    decision: z.literal('superseded').describe('A newer event for the same item is in this batch: skip this one. It rides with the item\'s decided event: when that one\'s write fails and its claim is released, send this one again with it (the batch as it came), or a gap event\'s re-read it carried is lost.'),
    reason: z.string(),
    key: dedupeKeySchema,
  })
  .meta({ id: 'Superseded' })

export const problemSchema = z
  .object({
    type: z.string().describe('URI of the problem type'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string().describe('Stable machine code, e.g. invalid_input'),
    correlationId: z.string().optional(),
    retryable: z.boolean().describe('true for 408/429/500/503: retry later; false: fix the request'),
    errors: z
      .array(z.object({ path: z.string().describe('dotted path from the body root'), message: z.string() }))
      .optional()
      .describe('One entry per invalid field.'),
  })
  .describe('RFC 9457 problem details.')
  .meta({ id: 'Problem' })

/** The error answers every business route documents (404 only where a record is looked up). */
export const errorResponses = {
  400: problemSchema,
  401: problemSchema,
  413: problemSchema,
  415: problemSchema,
  429: problemSchema,
  503: problemSchema,
}

export const rejectedSchema = z
  .object({
    decision: z.literal('rejected').describe('This event is invalid (or a Graph validation/lifecycle message); the rest of the batch proceeded.'),
    error: problemSchema,
  })
  .meta({ id: 'Rejected' })

const batchResultSchema = z.union([dedupeResponseSchema, supersededSchema, rejectedSchema])

export const batchResponseSchema = z
  .object({
    results: z
      .array(z.union([batchResultSchema, z.array(batchResultSchema)]))
      .describe('One result per event, in order. A Salesforce change event with several recordIds gives an array (one result per id).'),
  })
  .meta({ id: 'DedupeBatchResponse' })

export const dedupeRecordSchema = z
  .object({
    key: z.object({ tenant: z.string(), system: z.string(), itemId: z.string() }),
    last: lastCommittedSchema.optional(),
    claim: z
      .object({ version: z.string(), expiresAt: z.string().describe('ISO-8601; in the past when the claim lapsed but was not superseded') })
      .optional()
      .describe('The claim that holds (or held, if lapsed) the item.'),
    meta: z.record(z.string(), z.string()).optional().describe('Facts kept from the last native payload sent for the item (whatever its decision): the Graph graphTenantId and subscriptionId; the Salesforce entityName, and gap (GAP_UPDATE, GAP_OVERFLOW, ...) when that change event was a gap event. Explicit-form calls leave them as they are.'),
    history: z
      .array(
        z.object({
          at: z.string().describe('ISO-8601'),
          decision: z
            .string()
            .describe(
              'process, duplicate, stale, unchanged, in_flight, superseded (an older event of the item in a /dedupe/batch, recorded with the decision of the event that superseded it, unless that one was a duplicate or in_flight; at most 19 a decision), committed, released, or written (a sync write into the item, recorded by /correlate/confirm)',
            ),
          version: z.string(),
          reason: z.string(),
        }),
      )
      .describe('The last 20 decisions, newest first.'),
  })
  .describe('Why was my event dropped? The item\'s record.')
  .meta({ id: 'DedupeRecord' })

export const deletedResponseSchema = z.object({ deleted: z.boolean().describe('false when nothing was stored for the item') }).meta({ id: 'Deleted' })
