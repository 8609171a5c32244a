// /dedupe, /dedupe/commit, /dedupe/release, /dedupe/batch and the item record: thin handlers over domain + store.
import { InvalidFieldError } from '../domain/invalid-field.js'
import { randomUUID } from 'node:crypto'
import { validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { coveredVersions, gapBelow, newestFirstByItem, PastDuplicates, supersededVersions, undeleteFirst } from '../domain/batch-collapse.js'
import { explicitFormErrors, fingerprintOf, readDedupeRequest, type DedupeEvent } from '../domain/dedupe-event.js'
import { notificationCollectionError } from '../domain/graph-notification.js'
import { AFTER_UNDELETE_REASON, explainDedupe, HELD_WITH_NEWER_REASON, SUPERSEDED_REASON } from '../domain/dedupe-reasons.js'
import { SUPERSEDED_HISTORY_LIMIT } from '../domain/dedupe-rules.js'
import { DEFAULT_TENANT } from '../domain/keys.js'
import { readInstant } from '../domain/salesforce-change-event.js'
import { HttpProblem, toProblem } from '../errors.js'
import { findBadValue } from '../plugins/body-guard.js'
import { asProblem, oneEntryPerField, plainZodMessage, refusalWith } from '../plugins/error-handler.js'
import type { ClaimInput, ClaimResult, LastCommitted } from '../stores/dedupe-store.js'
import { giveBackClaims } from '../stores/give-back.js'
import { isoOf, itemParamsSchema, tenantQuerySchema } from './common-schemas.js'
import {
  batchEnvelopeSchema,
  batchRequestSchema,
  batchResponseSchema,
  commitRequestSchema,
  commitResponseSchema,
  dedupeRecordSchema,
  dedupeRequestSchema,
  dedupeResponseSchema,
  deletedResponseSchema,
  errorResponses,
  problemSchema,
  releaseRequestSchema,
  releaseResponseSchema,
} from './dedupe-schemas.js'
import { callStore } from './store-call.js'

type DedupeResponse = z.infer<typeof dedupeResponseSchema>


function lastOut(last: LastCommitted | undefined) {
  if (!last) return undefined
  return {
    version: last.version,
    modifiedAt: isoOf(last.modifiedAt),
    fingerprint: last.fingerprint,
    changeType: last.changeType,
    committedAt: isoOf(last.committedAt) as string,
  }
}

/** The store's claim input for a decided event (exported for bench/batch-stages.ts). */
export function toClaimInput(event: DedupeEvent, now: number, ttlMs: number, covers?: string[], superseded?: string[]): ClaimInput {
  return {
    key: event.key,
    version: event.version,
    modifiedAt: event.modifiedAt,
    changeType: event.changeType,
    fingerprint: event.fingerprint,
    gap: event.gap,
    overflow: event.overflow,
    leaseMs: event.leaseMs,
    now,
    ttlMs,
    meta: event.meta,
    covers,
    superseded,
  }
}

// Written out: on Node 20 `{ ...event.key, version }` costs ~0.4 us a time (bench/object-spread.mjs).
function versionedKey(event: DedupeEvent): DedupeResponse['key'] {
  const { key } = event
  return { tenant: key.tenant, system: key.system, itemId: key.itemId, version: event.reportedVersion ?? event.version }
}

/** The answer to one decided event, as /dedupe and each batch result give it (exported for bench/batch-stages.ts). */
export function respond(event: DedupeEvent, result: ClaimResult): DedupeResponse {
  return {
    decision: result.decision,
    reason: explainDedupe(result.reason),
    key: versionedKey(event),
    claim: result.claim ? { token: result.claim.token, expiresAt: isoOf(result.claim.expiresAt) as string } : undefined,
    retryAfterMs: result.retryAfterMs,
    last: lastOut(result.last),
  }
}

const FAIL_OPEN_PREFIX = 'fail-open:'

/**
 * An event that takes the re-read of a gap event below it is answered as a gap event. Like one, it keeps no
 * fingerprint: the state written after the re-read is not its fields, so they must not be what a later event is
 * found `unchanged` against (a commit may still send the written fields).
 */
function carryGap(event: DedupeEvent): void {
  event.gap = true
  event.fingerprint = undefined
}

/** Fail-open: process without shared state; the token commits nothing. */
function failOpenClaim(event: DedupeEvent, now: number): ClaimResult {
  // a gap or overflow event still says what to do: re-read the record, or resync the object
  const reason = event.overflow ? 'gap_overflow' : event.gap ? 'gap_event' : 'new_version'
  return { decision: 'process', reason, claim: { token: `${FAIL_OPEN_PREFIX}${randomUUID()}`, expiresAt: now + event.leaseMs } }
}

export const dedupeRoutes: FastifyPluginAsyncZod = async (app) => {
  const store = app.store.dedupe
  /** The claims a failed batch granted go back (giveBackClaims); fail-open tokens hold nothing. */
  const giveBack = (slots: Array<{ event: DedupeEvent; result?: { decision: string; claim?: { token: string } } }>) => {
    const now = Date.now()
    giveBackClaims(
      store,
      slots.flatMap(({ event, result }) => {
        const token = result?.decision === 'process' ? result.claim?.token : undefined
        return token && !token.startsWith(FAIL_OPEN_PREFIX) ? [{ key: event.key, token, now }] : []
      }),
    )
  }
  const defaults = (allowFanOut: boolean) => ({ leaseMs: app.config.defaultLeaseMs, allowFanOut })

  app.post(
    '/dedupe',
    {
      // A Graph notification collection posted as it came would only be told `system` is missing.
      preValidation: (request, _reply, done) => done(notificationCollectionError(request.body)),
      attachValidation: true,
      schema: {
        tags: ['dedupe'],
        summary: 'Is this change new? Claim it if so',
        description:
          'Rules, in order: duplicate (this version was committed), stale (older modifiedAt than the committed one, except for a Salesforce gap event, which is not ordered with the others and asks for a re-read; or the item was deleted), in_flight (another live claim holds the item), unchanged (same fingerprint as committed, and no lapsed claim awaits its commit or release; never for a delete or undelete, nor while the last committed change is one; the version is recorded), process (you get a claim). On process: write to the other system, then POST /dedupe/commit with the token; if the write fails, POST /dedupe/release. A claim not committed by expiresAt lapses and the next delivery gets process again, so a worker that dies loses nothing. Salesforce GAP_* events are never unchanged (re-read the record); GAP_OVERFLOW has itemId overflow:<entityName> (resync the object).',
        body: dedupeRequestSchema,
        response: { 200: dedupeResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      // beside the schema's findings, the explicit form's missing fields and unreadable modifiedAt
      if (request.validationError) throw refusalWith(request.validationError, explicitFormErrors(request.body))
      const [event] = readDedupeRequest(request.body, defaults(false))
      const now = Date.now()
      const result = await callStore(app, reply, 'dedupe', () => store.claim(toClaimInput(event, now, app.config.dedupeTtlMs)), () => failOpenClaim(event, now))
      app.metrics.decisions.inc({ endpoint: 'dedupe', decision: result.decision })
      return respond(event, result)
    },
  )

  app.post(
    '/dedupe/commit',
    {
      schema: {
        tags: ['dedupe'],
        summary: 'Commit a claim after the write succeeded',
        description:
          'Records version, modifiedAt, fingerprint and changeType of the claim (version, modifiedAt and fingerprint overridden by what you send). The recorded modifiedAt is the newer of the one committed before and the one this commit records, so a commit without one, or with an older one, never lets an older event through as process later (after an undated delete none is kept: every later event is stale). A token whose lease lapsed still commits when no other claim was granted since; once another claim was granted it answers committed false / lease_expired and changes nothing. Repeating a successful commit answers committed true again, so retries are safe. When the store is unavailable the answer is 503 with Retry-After under either STORE_OUTAGE_POLICY: a commit is never answered without the store (only a fail-open: token, which holds nothing, answers committed false / store_unavailable).',
        body: commitRequestSchema,
        response: { 200: commitResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body
      const fingerprint = fingerprintOf(body)
      const modifiedAt = readInstant(body.modifiedAt, 'modifiedAt')
      const key = { tenant: body.tenant ?? DEFAULT_TENANT, system: body.system, itemId: body.itemId }
      // A claim granted fail-open never reached the store, so there is nothing to commit.
      if (body.token.startsWith(FAIL_OPEN_PREFIX)) {
        app.metrics.decisions.inc({ endpoint: 'dedupe_commit', decision: 'store_unavailable' })
        return { committed: false as const, reason: 'store_unavailable' as const }
      }
      // A store-issued token is never answered fail-open: the commit must reach the store, so an outage is a 503
      // the caller retries, under either policy. A 200 would end the flow's retries and let the claim lapse into a
      // second write of the same change.
      const result = await callStore(app, reply, 'dedupe_commit', () =>
        store.commit({ key, token: body.token, version: body.version, modifiedAt, fingerprint, now: Date.now(), ttlMs: app.config.dedupeTtlMs }),
      )
      app.metrics.decisions.inc({ endpoint: 'dedupe_commit', decision: result.committed ? 'committed' : result.reason })
      return result
    },
  )

  app.post(
    '/dedupe/release',
    {
      schema: {
        tags: ['dedupe'],
        summary: 'Release a claim after the write failed',
        description:
          'Ends the claim so the next delivery of the event gets process. A token holds its claim until it is committed, released or another claim is granted; released false means it no longer held it. When the store is unavailable the answer is 503 with Retry-After under either STORE_OUTAGE_POLICY; a fail-open: token holds nothing and answers released false.',
        body: releaseRequestSchema,
        response: { 200: releaseResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body
      const key = { tenant: body.tenant ?? DEFAULT_TENANT, system: body.system, itemId: body.itemId }
      // A fail-open token held nothing in the store. A store-issued one is released in the store or not at all: an
      // outage is a 503 under either policy (released false would claim the token no longer held the item).
      if (body.token.startsWith(FAIL_OPEN_PREFIX)) {
        app.metrics.decisions.inc({ endpoint: 'dedupe_release', decision: 'not_held' })
        return { released: false }
      }
      const result = await callStore(app, reply, 'dedupe_release', () => store.release({ key, token: body.token, now: Date.now() }))
      app.metrics.decisions.inc({ endpoint: 'dedupe_release', decision: result.released ? 'released' : 'not_held' })
      return result
    },
  )

  app.post(
    '/dedupe/batch',
    {
      bodyLimit: app.config.batchBodyLimitBytes,
      config: { bodyGuard: 'per-event' },
      // A Graph collection posted as the body is told how to send it, rather than only that events is missing.
      preValidation: (request, _reply, done) => {
        const body = request.body
        const wrapped = typeof body === 'object' && body !== null && 'events' in body
        done(wrapped ? undefined : notificationCollectionError(body, '', 'events'))
      },
      // Only the envelope is validated up front: an invalid event is rejected on its own and the rest proceeds.
      validatorCompiler: (route) => validatorCompiler({ ...route, schema: batchEnvelopeSchema }),
      schema: {
        tags: ['dedupe'],
        summary: 'Decide up to 500 events in one call',
        description:
          'One result per event, same order, each as /dedupe would answer. Several events for one item collapse: only the newest (later modifiedAt where both have one, else later position; an event without modifiedAt ranks as the newest dated event before it) is decided; the others get superseded. When the newest is a duplicate (a Graph resend placed after a newer change), the next event of that item is decided instead, until one is not a duplicate, skipping versions already answered and dated events no newer than a dated duplicate (so a redelivered Salesforce batch writes nothing twice). A newest event stale by its modifiedAt is looked past for the gap events below it (never stale by modifiedAt), each then decided as it would be alone. A Salesforce gap event superseded by a newer update or create hands it its re-read: that event is then answered as a gap event (re-read the record). When the decided event is in_flight, the events it superseded are in_flight too (same retryAfterMs): nothing of the item was handled, so send them all again. An undelete is not superseded by newer changes of its item (a change of a deleted pair is synced only once the pair is restored): the newest undelete with no delete above it is decided with the events below it (its claim covers the gap events among them), and the changes above it are claimed after it, so they get in_flight while its claim holds the item (write and commit the restore, then send them again together with the undelete, the batch as it came), or their own decision when it needs no write. Under fail-open both get process: write the undelete first. A process claim covers the older events of its item in the batch (up to 10, nearest first; not dated events older than a dated claim unless they are gap events, nor a delete, undelete or gap event below a claim of another kind, but for gap events below an undelete): its commit records their versions as committed, so the batch delivered again answers them duplicate, undated Graph notifications included. A released claim, or a lapsed one another claim replaced, covers nothing; beyond the 10 nearest, a redelivered batch may decide an older event once more. An invalid event, or a Graph validation/lifecycle notification, gets rejected with problem details and the rest proceeds. A Salesforce change event with several recordIds fans out: results[i] is then an array, one result per listed id, in order (an id listed twice: the first is superseded by the second). A per-event tenant overrides the batch tenant. A 503 gives back the claims the batch granted before the failure (best effort), so its retry finds the items free. Body limit BATCH_BODY_LIMIT_BYTES (default 8 MiB).',
        body: batchRequestSchema,
        response: { 200: batchResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body as unknown as z.infer<typeof batchEnvelopeSchema>
      const now = Date.now()
      // covers: the versions of the item's older events in the batch that a claim for this one supersedes; superseded:
      // those its decision leaves superseded, for the item's history
      // claimed: the store's answer, kept beside the response for its reason code
      type Slot = { event: DedupeEvent; covers?: string[]; superseded?: string[]; claimed?: ClaimResult; result?: ReturnType<typeof respond> | { decision: 'superseded'; reason: string; key: DedupeResponse['key'] } }
      const perEvent: Array<{ rejected?: unknown; slots: Slot[]; fanOut: boolean }> = body.events.map((raw, i) => {
        try {
          const bad = request.bodyNeedsCheck ? findBadValue(raw) : undefined
          if (bad) throw new InvalidFieldError(`events.${i}${bad.path ? '.' + bad.path : ''}`, bad.message)
          const collection = notificationCollectionError(raw, `events.${i}.`)
          if (collection) throw collection
          const parsed = dedupeRequestSchema.safeParse(raw)
          if (!parsed.success) {
            // every invalid field of the event, as /dedupe names them (refusedBody)
            const issues = parsed.error.issues.map((issue) => ({
              path: `events.${i}${issue.path.length ? '.' + issue.path.join('.') : ''}`,
              message: issue.path.length === 0 ? 'must be an object: one event in any /dedupe form' : plainZodMessage(issue.message),
              wrongType: issue.code === 'invalid_type',
            }))
            const fields = oneEntryPerField(issues)
            const named = new Set(fields.map((field) => field.path))
            throw InvalidFieldError.of([...fields, ...explicitFormErrors(raw, `events.${i}.`).filter((field) => !named.has(field.path))])
          }
          const events = readDedupeRequest(parsed.data, { tenant: body.tenant, ...defaults(true) }, `events.${i}.`)
          return { slots: events.map((event) => ({ event })), fanOut: events.length > 1 }
        } catch (error) {
          const problem = asProblem(error)
          if (problem.status >= 500) throw error
          return { rejected: toProblem(problem, '/dedupe/batch', request.id), slots: [], fanOut: false }
        }
      })

      const slots = perEvent.flatMap((entry) => entry.slots)
      const claimAll = (claiming: Slot[]) =>
        callStore(
          app,
          reply,
          'dedupe_batch',
          () => store.claimMany(claiming.map((slot) => toClaimInput(slot.event, now, app.config.dedupeTtlMs, slot.covers, slot.superseded))),
          () => claiming.map((slot) => failOpenClaim(slot.event, now)),
        )
      // Each item's newest event is decided; the others are superseded by it, and its claim's commit covers them, so
      // a batch delivered again after that commit finds them duplicates. An undelete below newer changes is decided
      // too, claimed before them (undeleteFirst).
      const events = slots.map((slot) => slot.event)
      const { groups, splits } = undeleteFirst(events, newestFirstByItem(events))
      const toClaim: Slot[] = []
      for (const group of groups) {
        const [newest, ...older] = group
        toClaim.push(slots[newest])
        if (older.length === 0) continue
        // a gap event superseded by a newer change leaves its re-read to that change (which then covers it)
        if (gapBelow(events, group, 0)) carryGap(slots[newest].event)
        slots[newest].covers = coveredVersions(events, group, 0)
        slots[newest].superseded = supersededVersions(events, group, 0, SUPERSEDED_HISTORY_LIMIT)
        for (const pos of older) slots[pos].result = { decision: 'superseded', reason: SUPERSEDED_REASON, key: versionedKey(slots[pos].event) }
      }
      const results = await claimAll(toClaim)
      toClaim.forEach((slot, i) => {
        slot.claimed = results[i]
        slot.result = respond(slot.event, results[i])
      })
      // A duplicate newest event must not hide a newer change behind it (PastDuplicates): the item's next event is
      // decided, one round of store calls for all such items, until one is not a duplicate or none is left. Its claim
      // covers the events below it. A newest event stale by its modifiedAt is looked past for the gap events below
      // it, which are never stale by modifiedAt: alone, each would be decided. If a round fails, the caller hears only
      // the failure: the claims granted before it are given back at once (best effort; left to lapse at their lease
      // when the store cannot take the release either), so the retried batch finds the items processable.
      let searching = groups
        .filter((group) => group.length > 1 && (slots[group[0]].claimed?.decision === 'duplicate' || slots[group[0]].claimed?.reason === 'older_than_committed'))
        .map((group) => new PastDuplicates(events, group, slots[group[0]].claimed?.decision === 'stale'))
        .filter((search) => search.candidate() !== undefined)
      try {
        while (searching.length > 0) {
          const claiming = searching.map((search) => {
            const slot = slots[search.candidate() as number]
            if (search.gapBelow()) carryGap(slot.event)
            slot.covers = search.covered()
            slot.superseded = search.superseded(SUPERSEDED_HISTORY_LIMIT)
            return slot
          })
          const answers = await claimAll(claiming)
          claiming.forEach((slot, i) => {
            slot.claimed = answers[i]
            slot.result = respond(slot.event, answers[i])
          })
          searching = searching.filter((search, i) => {
            if (answers[i].decision !== 'duplicate') return false
            search.duplicate()
            return search.candidate() !== undefined
          })
        }
      } catch (error) {
        giveBack(slots)
        throw error
      }
      // An item whose decided event is in_flight had none of its events handled: the ones it superseded are in_flight
      // too, so a caller that sends the in_flight events again sends them all, and a gap event's re-read is not dropped
      // as superseded by an event that was never written.
      for (const group of groups) {
        if (group.length === 1) continue
        const held = group.map((pos) => slots[pos].result).find((result): result is DedupeResponse => result?.decision === 'in_flight')
        if (held === undefined) continue
        for (const pos of group) {
          if (slots[pos].result?.decision !== 'superseded') continue
          slots[pos].result = { decision: 'in_flight', reason: HELD_WITH_NEWER_REASON, key: versionedKey(slots[pos].event), claim: undefined, retryAfterMs: held.retryAfterMs, last: held.last }
        }
      }
      // The changes above an undelete this batch processes wait for it (undeleteFirst), and say so. An undated one
      // found the item deleted (stale, item_deleted: the restore is not committed yet); it waits too.
      for (const { undelete, newer } of splits) {
        const restore = undelete[0]
        if (slots[restore].result?.decision !== 'process') continue
        for (const pos of newer) {
          const result = slots[pos].result
          if (result?.decision === 'in_flight') result.reason = AFTER_UNDELETE_REASON
          else if (result?.decision === 'stale' && slots[pos].claimed?.reason === 'item_deleted') {
            slots[pos].result = { ...result, decision: 'in_flight', reason: AFTER_UNDELETE_REASON, retryAfterMs: slots[restore].event.leaseMs }
          }
        }
      }
      // Counted once per decision, not once per event: label lookups are the metrics' cost.
      const counts = new Map<string, number>()
      const count = (decision: string) => counts.set(decision, (counts.get(decision) ?? 0) + 1)
      for (const slot of slots) count(slot.result?.decision ?? 'unknown')

      const response = {
        results: perEvent.map((entry) => {
          if (entry.rejected) {
            count('rejected')
            return { decision: 'rejected' as const, error: entry.rejected as z.infer<typeof problemSchema> }
          }
          const out = entry.slots.map((slot) => slot.result as NonNullable<Slot['result']>)
          return entry.fanOut ? out : out[0]
        }),
      }
      for (const [decision, n] of counts) app.metrics.decisions.inc({ endpoint: 'dedupe_batch', decision }, n)
      return response
    },
  )

  app.get(
    '/dedupe/:system/:itemId',
    {
      schema: {
        tags: ['dedupe'],
        summary: 'The item\'s record: why was my event dropped?',
        description: 'The last committed state, the current claim and the last 20 decisions with their reasons, newest first. 404 when the sidecar knows nothing of the item.',
        params: itemParamsSchema,
        querystring: tenantQuerySchema,
        response: { 200: dedupeRecordSchema, 404: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = { tenant: request.query.tenant ?? DEFAULT_TENANT, ...request.params }
      const record = await callStore(app, reply, 'dedupe_get', () => store.get(key, Date.now()))
      if (!record) {
        throw new HttpProblem('not_found', `no dedupe record for ${key.system} item ${key.itemId} in tenant ${key.tenant}`)
      }
      return {
        key: record.key,
        last: lastOut(record.last),
        claim: record.claim ? { version: record.claim.version, expiresAt: isoOf(record.claim.expiresAt) as string } : undefined,
        meta: record.meta && Object.keys(record.meta).length > 0 ? record.meta : undefined,
        history: record.history.map((h) => ({
          at: isoOf(h.at) as string,
          decision: h.decision,
          version: h.version,
          reason: h.reason === 'superseded' ? SUPERSEDED_REASON : h.reason === 'committed' || h.reason === 'released' || h.reason === 'written' ? h.reason : explainDedupe(h.reason),
        })),
      }
    },
  )

  app.delete(
    '/dedupe/:system/:itemId',
    {
      schema: {
        tags: ['dedupe'],
        summary: 'Forget the item (force a reprocess)',
        description: 'Deletes the record, its versions, claim and history. The next delivery of any version gets process. For operators.',
        params: itemParamsSchema,
        querystring: tenantQuerySchema,
        response: { 200: deletedResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = { tenant: request.query.tenant ?? DEFAULT_TENANT, ...request.params }
      return callStore(app, reply, 'dedupe_delete', () => store.forget(key))
    },
  )
}
