// /resolve-conflict: both sides changed; merge against the base (given, or stored by /correlate/confirm).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { LOSSY_MAPPINGS } from '../domain/salesforce-event.js'
import { resolveConflict, type ResolveConflictInput } from '../domain/resolve-conflict.js'
import { DEFAULT_TENANT } from '../domain/keys.js'
import { CONFLICT_POLICIES, DELETE_POLICIES } from '../domain/merge.js'
import { HttpProblem } from '../errors.js'
import type { LinkRecord } from '../stores/correlate-store.js'
import { instantSchema, tenantSchema } from './common-schemas.js'
import { errorResponses } from './dedupe-schemas.js'
import { callStore } from './store-call.js'

const canonicalSchema = z
  .record(z.string(), z.unknown())
  .describe(
    'Canonical calendar item (partial allowed): subject, start, end (timed: UTC instants like 2026-03-02T17:00:00.000Z; all-day: dates like 2026-03-05 with an exclusive end), isAllDay, location (display name), description (plain text), showAs (free, tentative, busy, oof, workingElsewhere, unknown), isPrivate, attendees (emails).',
  )

const sideBase = {
  itemId: z.string().min(1).max(1024).optional().describe('The item id in this system; names the linked pair whose stored baseline is the base when base is omitted.'),
  modifiedAt: instantSchema
    .optional()
    .describe('When this side last changed; defaults to the native lastModifiedDateTime / LastModifiedDate. Decides last-modified-wins (compared to the second: Salesforce keeps whole seconds).'),
  deleted: z.boolean().optional().describe('This side deleted the item.'),
  fields: canonicalSchema.optional().describe('This side as canonical fields (instead of the native resource).'),
}

const requestSchema = z
  .strictObject({
    tenant: tenantSchema.optional(),
    policy: z
      .enum(CONFLICT_POLICIES)
      .optional()
      .describe(
        'How a field changed on both sides is settled. three-way-merge (default): by fieldOwners where the field has an owner, else the later modifiedAt. last-modified-wins: the later modifiedAt. outlook-wins / salesforce-wins: that side. field-ownership: the owner, always (a change on the other side is reverted); an unowned conflict needs review. Equal or missing modifiedAt where it decides: needs_review. A field changed on one side only flows under every policy.',
      ),
    fieldOwners: z
      .record(z.string(), z.enum(['outlook', 'salesforce']))
      .optional()
      .describe('Owner per canonical field, e.g. { "start": "outlook", "description": "salesforce" }.'),
    deletePolicy: z
      .enum(DELETE_POLICIES)
      .optional()
      .describe('A delete against an update: update-wins (default: the deleted side gets op create with the whole item), delete-wins (the other side gets op delete), review (needs_review).'),
    outlook: z
      .strictObject({ ...sideBase, event: z.record(z.string(), z.unknown()).optional().describe('The Graph event resource as read (start/end with Windows or IANA zones, HTML or text body).') })
      .describe('The Outlook side now: event or fields (or deleted: true).'),
    salesforce: z
      .strictObject({ ...sideBase, record: z.record(z.string(), z.unknown()).optional().describe('The Salesforce Event record as read (REST field names).') })
      .describe('The Salesforce side now: record or fields (or deleted: true).'),
    base: canonicalSchema
      .nullable()
      .optional()
      .describe(
        'The state both sides agreed on at the last sync. Omitted: the baseline stored by /correlate/confirm for the pair, found by outlook.itemId (or outlook.event.id), else salesforce.itemId (or salesforce.record.Id), in this tenant. null, or no stored baseline: every differing field is a conflict. Sent or not, when both ids are given and one of them is linked, both must be that pair\'s (else 400 naming the wrong one).',
      ),
  })
  .describe('Both sides changed the same meeting since the last sync.')
  .meta({ id: 'ResolveConflictRequest' })

const writeShape = (system: string) => ({
  op: z.enum(['update', 'create', 'delete']).describe('update: apply patch (a Salesforce update of attendees alone has none); create: the item was deleted here and the update won: create it from patch; delete: delete it here.'),
  patch: z.record(z.string(), z.unknown()).optional().describe(`Only the fields this side must change, in ${system}'s shape.`),
})
const writeSchema = (system: string) => z.object(writeShape(system)).describe(`What ${system} must get.`)
const salesforceWriteSchema = (system: string) =>
  z
    .object({
      ...writeShape(system),
      attendees: z
        .array(z.string())
        .optional()
        .describe(
          'Only when the invitees must change (attendees were sent, from either side, or the stored baseline holds them): the lower-case emails, sorted, the Salesforce copy must list after the write, the whole list. A Salesforce Event cannot hold them, so patch never does: add and delete its invitee EventRelation rows (IsInvitee true; leave the WhoId/WhatId relations alone) to match, after the create for op create. An update of attendees alone has no patch. An EventRelation names a User, Contact or Lead, so an invitee Salesforce does not know cannot be added: read the rows back and confirm the state reached as the baseline, or leave attendees out.',
        ),
    })
    .describe(`What ${system} must get.`)

const responseSchema = z
  .object({
    outcome: z
      .enum(['in_sync', 'resolved', 'needs_review'])
      .describe('in_sync: both sides already hold the same item (writes {}). resolved: apply writes. needs_review: write nothing; a person decides (merged is the base or null).'),
    merged: canonicalSchema.nullable().describe('The canonical item both sides hold after the writes (null when a delete won, or needs_review without a base). Confirm it as the new baseline with /correlate/confirm.'),
    writes: z
      .object({
        outlook: writeSchema('Graph (event properties; start/end as { dateTime, timeZone: "UTC" }; body as text)').optional(),
        salesforce: salesforceWriteSchema('Salesforce Event (StartDateTime/EndDateTime; all-day: IsAllDayEvent, ActivityDate, DurationInMinutes = 1440 x days)').optional(),
      })
      .describe('Per side; a side with nothing to write has no key.'),
    conflicts: z
      .array(
        z.object({
          field: z.string().describe('the canonical field, or "deleted" for a delete against an update'),
          base: z.unknown().describe('its value in the base'),
          outlook: z.unknown().describe('its value in Outlook'),
          salesforce: z.unknown().describe('its value in Salesforce'),
          winner: z.string().describe('outlook, salesforce, or none (needs review)'),
          rule: z.string().describe('the rule that settled it'),
        }),
      )
      .describe('Every field changed on both sides (to different values), with the rule that settled it.'),
    baseSource: z.enum(['request', 'stored', 'none']).describe('Where the base came from.'),
    warnings: z.array(z.string()).optional().describe('Caveats of reading, e.g. a custom Outlook time zone read as UTC.'),
  })
  .meta({ id: 'ResolveConflictResponse' })

const idOf = (side: { itemId?: string; event?: Record<string, unknown>; record?: Record<string, unknown> }, nativeKey: 'event' | 'record', idKey: 'id' | 'Id') => {
  if (side.itemId) return side.itemId
  const native = side[nativeKey]
  const id = native?.[idKey]
  return typeof id === 'string' && id.length > 0 ? id : undefined
}

const lossyTable = LOSSY_MAPPINGS.map((m) => `${m.field}: Outlook ${m.outlook} <-> Salesforce ${m.salesforce} (${m.rule})`).join('; ')

export const resolveConflictRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/resolve-conflict',
    {
      schema: {
        tags: ['resolve-conflict'],
        summary: 'Both sides changed: what does each side get?',
        description: `Three-way merge of the two sides against the base, field by field, settled by the policy. Timing (start, end, isAllDay) moves as one unit. Compared as Salesforce can hold them (lossy mappings: ${lossyTable}). Every outcome is HTTP 200; 400 names the wrong field; 503 with Retry-After when the stored base must be read and the store is unavailable (either STORE_OUTAGE_POLICY).`,
        body: requestSchema,
        response: { 200: responseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body
      const tenant = body.tenant ?? DEFAULT_TENANT
      let base = body.base
      let baseSource: 'request' | 'stored' | 'none' = body.base ? 'request' : 'none'
      const outlookId = idOf(body.outlook, 'event', 'id')
      const salesforceId = idOf(body.salesforce, 'record', 'Id')
      // The pair is looked up even when a base is sent: a resolution must not name an item that is no longer the pair's.
      if (body.base === undefined || (outlookId && salesforceId)) {
        const now = Date.now()
        let link: LinkRecord | null = null
        if (outlookId) link = await callStore(app, reply, 'resolve_conflict', () => app.store.correlate.getLink(tenant, { system: 'outlook', itemId: outlookId }, now))
        const foundByOutlook = link !== null
        if (!link && salesforceId) {
          link = await callStore(app, reply, 'resolve_conflict', () => app.store.correlate.getLink(tenant, { system: 'salesforce', itemId: salesforceId }, now))
        }
        if (link && outlookId && salesforceId && (link.outlook !== outlookId || link.salesforce.slice(0, 15) !== salesforceId.slice(0, 15))) {
          // the side whose link was not the one found names the wrong item: the other side's counterpart is another
          const [wrong, wrongId, other, otherId, counterpart] = foundByOutlook
            ? (['salesforce', salesforceId, 'outlook', outlookId, link.salesforce] as const)
            : (['outlook', outlookId, 'salesforce', salesforceId, link.outlook] as const)
          throw new HttpProblem('invalid_input', `${wrong}.itemId: ${wrongId} is not linked to ${other} item ${otherId} (its counterpart is ${counterpart})`, {
            errors: [{ path: `${wrong}.itemId`, message: `is not the counterpart of ${other} item ${otherId}` }],
          })
        }
        if (body.base === undefined && link?.baseline) {
          base = link.baseline
          baseSource = 'stored'
        }
      }
      const result = resolveConflict({ ...(body as ResolveConflictInput), base: base ?? null })
      app.metrics.decisions.inc({ endpoint: 'resolve_conflict', decision: result.outcome })
      // The domain's patch interfaces are narrower than the documented records.
      return { ...result, baseSource } as unknown as z.infer<typeof responseSchema>
    },
  )
}
