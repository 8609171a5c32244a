// The /correlate family: what to do with a change (create, update, delete, resolve, skip), confirm, look up, unlink.
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { isEchoBySource } from '../domain/correlate-echo.js'
import { deriveCreateKey } from '../domain/correlate-key.js'
import { describeCorrelateReasons, explainCorrelate } from '../domain/correlate-reasons.js'
import { correlateExplicitFormErrors, readConfirmRequest, readCorrelateRequest, type CorrelateChange } from '../domain/correlate-request.js'
import { otherSystem, targetMovedFromBaseline } from '../domain/correlate-rules.js'
import { notificationCollectionError } from '../domain/graph-notification.js'
import { DEFAULT_TENANT } from '../domain/keys.js'
import { HttpProblem } from '../errors.js'
import { refusalWith } from '../plugins/error-handler.js'
import type { CorrelateReason, DecideResult, LinkRecord } from '../stores/correlate-store.js'
import { isoOf, tenantQuerySchema } from './common-schemas.js'
import {
  confirmRequestSchema,
  confirmResponseSchema,
  correlateParamsSchema,
  correlateRequestSchema,
  correlateResponseSchema,
  linkSchema,
} from './correlate-schemas.js'
import { deletedResponseSchema, errorResponses, problemSchema } from './dedupe-schemas.js'
import { callStore } from './store-call.js'

type CorrelateResponse = z.infer<typeof correlateResponseSchema>
type LinkOut = z.infer<typeof linkSchema>


/** Reasons whose reply carries the link that decided them. */
const SHOWS_LINK = new Set<CorrelateReason>(['tombstoned', 'replaced', 'conflicting_link', 'series_mismatch'])

/** A confirm's conflicting_link whose target is another pair's item: the usual advice would have it deleted. */
const TARGET_ELSEWHERE =
  'The target is linked to another item: it belongs to another pair, so do not delete it; nothing was linked, and that pair hears of your write as a change. Fix the flow that wrote into it.'

export function linkOut(link: LinkRecord): LinkOut {
  const series = Object.keys(link.roles).length > 0 ? link.roles : undefined
  return {
    tenant: link.tenant,
    outlook: { itemId: link.outlook },
    salesforce: { itemId: link.salesforce },
    state: link.state,
    baseline: link.baseline,
    series,
    linkedAt: isoOf(link.linkedAt) as string,
    updatedAt: isoOf(link.updatedAt) as string,
  }
}

/** The store's answer, or one the route decides alone (child_event). */
type Outcome = Omit<DecideResult, 'reason'> & { reason: CorrelateReason }

function respond(change: CorrelateChange, result: Outcome): CorrelateResponse {
  let action: CorrelateResponse['action'] = result.action
  let reason: CorrelateReason = result.reason
  const baseline = result.link?.state === 'linked' ? result.link.baseline : undefined
  // Without targetFields on a pair this call linked, the flow read no counterpart (the item was unlinked when it
  // looked), and the counterpart may have changed since our create: /resolve-conflict compares both with the create's
  // state, where an update would overwrite that change.
  if (action === 'update' && baseline && (change.target ? targetMovedFromBaseline(baseline, change.target) : result.linkedNow === true)) {
    action = 'resolve'
    reason = 'both_changed'
  }
  // A delete event carries no fields; the link remembers what the item was (an occurrence delete may be a series rewrite).
  const role = change.series.role ?? result.link?.roles[change.system]
  // A delete against a counterpart edited since the last sync (or not read, on a pair this call linked): deleting it
  // would lose that edit unseen, so /resolve-conflict's deletePolicy decides (update-wins makes this side anew). Not
  // for a series or its occurrences (either side's role): a resolution's create makes a single event, so they are
  // deleted as before.
  const roles = [role, result.link?.roles.outlook, result.link?.roles.salesforce]
  const single = roles.every((r) => r === undefined || r === 'single')
  if (action === 'delete' && baseline && single && (change.target ? targetMovedFromBaseline(baseline, change.target) : result.linkedNow === true)) {
    action = 'resolve'
    reason = 'both_changed'
  }
  const { masterId } = change.series
  return {
    action,
    reason,
    detail: explainCorrelate(reason),
    target: result.target,
    reservation: result.reservation && { ...result.reservation, expiresAt: isoOf(result.reservation.expiresAt) as string },
    retryAfterMs: result.retryAfterMs,
    baseline,
    series: role ? { role, masterId } : undefined,
    link: result.link && SHOWS_LINK.has(reason) ? linkOut(result.link) : undefined,
  }
}

export const correlateRoutes: FastifyPluginAsyncZod = async (app) => {
  const store = app.store.correlate
  const { config } = app

  app.post(
    '/correlate',
    {
      // A Graph notification collection posted as it came would only be told `system` is missing.
      preValidation: (request, _reply, done) => done(notificationCollectionError(request.body, '', 'one-each')),
      schema: {
        tags: ['correlate'],
        summary: 'What to do with this change: create, update, delete, resolve or skip',
        description: [
          'Call it before writing a change of one system into the other; it names the counterpart and recognises our own echoes.',
          'Rules: a Salesforce child event is skip / child_event. A deleted pair\'s ids are skip / tombstoned, except an undelete (a Salesforce UNDELETE, the record restored), which is skip / replaced when a resolution made the item anew while it was deleted (a confirm with replaces) and that pair is still linked (the meeting lives on in that copy, so this is a second one for a person to delete), else create / new_item: its own tombstone ends, and neither our last write into it nor its counterpartHint counts (its redeliveries and later changes wait for that create or repeat it, as for any new item). A create after the item\'s pair was deleted hands out a createKey of its own (the derived key, "-", and the time of the delete), so the new copy never carries the deleted copy\'s Graph transactionId.',
          'skip / echo of a linked item: with a state (fields, event, record or fingerprint) the state alone decides: echo when its fingerprint equals the latest write into this item by /correlate/confirm (within ECHO_WINDOW, as often as it repeats) or the stored baseline (nothing new since the last sync). A state equal to the write our latest one replaced, within leaseMs after it was replaced, is skip / earlier_write: the flow most likely read the item before our latest write landed, so writing it back would undo that write; read the item again and call /correlate again with reread: true (then a state equal to it is a person setting the item back, an update), or release the claim and redeliver after retryAfterMs. Past that it is a real change too. Any other state is a real change, even from changedBy / changeOrigin of the sync or a created with a counterpartHint (the item was read after our write and a person\'s). Without a state: changedBy is in SALESFORCE_INTEGRATION_USER_IDS, or changeOrigin\'s client= equals SALESFORCE_CLIENT_ID, or a created whose counterpartHint names the counterpart. This refines the design\'s rule, under which those signals were an echo whatever the state.',
          'Linked: update / linked, or resolve / both_changed when targetFields differ from the baseline. A delete is delete / linked (delete the counterpart), or resolve / both_changed when targetFields differ from the baseline: the counterpart was edited since the last sync, so /resolve-conflict with this side deleted: true settles it by its deletePolicy (update-wins, the default, makes this side anew with the edit; send replaces with that create\'s confirm). Send targetFields with a delete to have that check: without them a delete deletes, except on a pair this call linked by a counterpartHint (the flow found it unlinked and read no counterpart): that is resolve / both_changed, as an update there is. A series master, occurrence or exception (series.role, or a role the link knows for either side) is always delete / linked: a resolution would make it anew as a single event.',
          'Unlinked: a counterpartHint naming an item we created, by its id or by the createKey it was created with, links the pair (conflicting_link when that item is linked elsewhere, tombstoned when its pair was deleted; an unknown createKey counts as no hint). What we wrote into the copy (the state the create was asked with, kept DEDUPE_TTL from the create as its createKey is, or until the pair is linked; after an unlink, DELETE /correlate/{system}/{itemId}, the pair\'s baseline) becomes the baseline and what we wrote: a state equal to it is skip / echo, a different one is update / linked (the copy changed since, a person\'s edit; resolve / both_changed when targetFields moved too, or when none were sent: the flow found the item unlinked, so it read no counterpart, which may have changed since the create). So a copy a person edited after the create\'s worker died before its confirm, or after an unlink, is not taken for our echo. Only without that state (the create was asked without one, or longer ago than DEDUPE_TTL, or the memory store\'s bound pushed it out) is the item\'s state taken as ours: skip / echo, stored as baseline and echo, so a later edit of the copy is an update. A delete of the copy is resolve / both_changed when what we wrote is known (the counterpart was not read: it may have been edited since our create), else delete / linked. Other unlinked items: changedBy / changeOrigin of the sync is skip / echo (there is no state of ours to compare with); a live reservation gives skip / create_in_flight (retry after retryAfterMs), except to a create asked again with the claimToken that took it while at least half its leaseMs is left (its answer was lost), which gets that reservation again; a delete is skip / no_link_for_delete; an occurrence is skip / series_occurrence; else create with a reservation. A reservation not confirmed by expiresAt lapses and the next delivery gets create again.',
          'Series: a series master links to a series record, an occurrence to the occurrence with the same original start (confirm each pair); a series never links to a single event (series_mismatch). A linked Graph master\'s update may stand for occurrence edits or deletions: re-read its instances. A delete with series.role occurrence may come from a Salesforce critical series change (all occurrences recreated): when the series record changed in the same transaction, resync the series instead of deleting.',
          'A store outage is always 503 (no fail-open here: without the links there is no safe answer).',
          `Reasons: ${describeCorrelateReasons()}`,
        ].join(' '),
        body: correlateRequestSchema,
        response: { 200: correlateResponseSchema, ...errorResponses },
      },
      attachValidation: true,
    },
    async (request, reply) => {
      // beside the schema's findings, the explicit form's missing fields
      if (request.validationError) throw refusalWith(request.validationError, correlateExplicitFormErrors(request.body))
      const change = readCorrelateRequest(request.body, { leaseMs: config.defaultLeaseMs })
      if (change.series.child) {
        app.metrics.decisions.inc({ endpoint: 'correlate', decision: 'skip' })
        return respond(change, { action: 'skip', reason: 'child_event', target: { system: otherSystem(change.system), itemId: null } })
      }
      const result = await callStore(app, reply, 'correlate', () =>
        store.decide({
          tenant: change.tenant,
          system: change.system,
          itemId: change.itemId,
          changeType: change.changeType,
          fingerprint: change.fingerprint,
          state: change.state,
          echoBySource: isEchoBySource(change, config),
          counterpartHint: change.counterpartHint,
          role: change.series.role,
          token: randomUUID(),
          createKey: deriveCreateKey(change.tenant, change.system, change.itemId),
          leaseMs: change.leaseMs,
          reread: change.reread,
          claimToken: change.claimToken,
          createKeyTtlMs: config.dedupeTtlMs,
          echoWindowMs: config.echoWindowMs,
          now: Date.now(),
        }),
      )
      const out = respond(change, result)
      app.metrics.decisions.inc({ endpoint: 'correlate', decision: out.action })
      return out
    },
  )

  app.post(
    '/correlate/confirm',
    {
      schema: {
        tags: ['correlate'],
        summary: 'Record a write that succeeded: link, echo ledger, baseline, tombstone',
        description:
          'Call it after every successful write that /correlate asked for. It links source and target both ways (either may be the source: a confirm with the two swapped updates the same link), stores the baseline when given (kept otherwise), drops the reservation, and makes the fingerprint of written the target\'s echo-ledger entry for ECHO_WINDOW (replacing any earlier one: only the latest write counts as our echo; the one it replaced answers earlier_write for a lease). With written (and not deleted) it also records the write in the target\'s /dedupe record, whatever the link answer, since the write landed (but for a target linked to another item, whose pair must hear it was overwritten) (history decision written, last.version sync-write): the target\'s next /dedupe compares with what was written, so its echo is unchanged and a person setting it back to the earlier state is process. A store outage here is 503: repeat the confirm. It links even when the reservation lapsed, unless source or target is already linked to another item: then linked false / conflicting_link and no link changes (delete the extra copy you made); the write still becomes the target\'s echo-ledger entry, unless the target is linked to another item, so the extra copy\'s own change event is skip / echo. The same holds for a refusal as tombstoned. deleted true tombstones the pair: linked false with state tombstoned; a later confirm of a tombstoned item answers linked false / tombstoned and never revives it. After a /resolve-conflict create (the side that was deleted made anew), send replaces with the deleted item: source is linked to the new target in its place and the deleted item is tombstoned, so its own delete event is skipped instead of deleting source. Repeating a confirm changes nothing, so retries are safe.',
        body: confirmRequestSchema,
        response: { 200: confirmResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const confirm = readConfirmRequest(request.body)
      const result = await callStore(app, reply, 'correlate_confirm', () =>
        store.confirm({
          tenant: confirm.tenant,
          source: confirm.source,
          target: confirm.target,
          writtenFingerprint: confirm.writtenFingerprint,
          baseline: confirm.baseline,
          reservationToken: confirm.reservationToken,
          deleted: confirm.deleted,
          replaces: confirm.replaces,
          now: Date.now(),
          echoWindowMs: config.echoWindowMs,
          tombstoneTtlMs: config.dedupeTtlMs,
        }),
      )
      const written = confirm.writtenFingerprint
      // (not into an item linked to another: that pair must hear, through /dedupe and /correlate, it was overwritten)
      const elsewhere = !result.linked && result.targetLinkedElsewhere === true
      if (written !== undefined && !confirm.deleted && !elsewhere) {
        // The target now holds what was written, so its next /dedupe must compare with that, not with the state
        // committed before the write: a person setting it back to that state would be `unchanged`, and lost. A
        // second store call, not atomic with the confirm, and safe so: it moves only the item's fingerprint (never
        // its versions, ordering or claim), and the write's own echo carries exactly this fingerprint. If it
        // fails the answer is 503 and the flow repeats the confirm (idempotent): never a 200 with the write
        // unrecorded. Left open: a change of the target committed between the write and this call is covered
        // by the written fingerprint; only a later return to exactly the written state would be `unchanged`.
        await callStore(app, reply, 'correlate_confirm', () =>
          app.store.dedupe.recordWritten({
            key: { tenant: confirm.tenant, system: confirm.target.system, itemId: confirm.target.itemId },
            fingerprint: written,
            now: Date.now(),
            ttlMs: config.dedupeTtlMs,
          }),
        )
      }
      const reason = result.linked ? undefined : result.reason
      app.metrics.decisions.inc({ endpoint: 'correlate_confirm', decision: result.linked ? 'linked' : (reason ?? 'tombstoned') })
      return {
        linked: result.linked,
        reason,
        // the usual advice (delete the extra copy) would delete another pair's item here
        detail: elsewhere ? TARGET_ELSEWHERE : reason ? explainCorrelate(reason) : undefined,
        link: linkOut(result.link),
      }
    },
  )

  app.get(
    '/correlate/:system/:itemId',
    {
      schema: {
        tags: ['correlate'],
        summary: 'The item\'s link: its counterpart, state and baseline',
        description:
          'Either id finds the pair. state tombstoned: the pair was deleted (kept DEDUPE_TTL so late changes are skipped). 404 when the item is not linked (a live reservation is no link).',
        params: correlateParamsSchema,
        querystring: tenantQuerySchema,
        response: { 200: linkSchema, 404: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = request.query.tenant ?? DEFAULT_TENANT
      const ref = request.params
      const link = await callStore(app, reply, 'correlate_get', () => store.getLink(tenant, ref, Date.now()))
      if (!link) throw new HttpProblem('not_found', `no link for ${ref.system} item ${ref.itemId} in tenant ${tenant}`)
      return linkOut(link)
    },
  )

  app.delete(
    '/correlate/:system/:itemId',
    {
      schema: {
        tags: ['correlate'],
        summary: 'Unlink the pair both ways (an operator\'s reset)',
        description:
          'Forgets the link or tombstone of the item and its counterpart, their reservations and echo ledgers. A linked pair\'s baseline, when it has one, is kept (DEDUPE_TTL) as what both copies hold: a copy coming back by its counterpartHint is compared with it, so a person\'s edit of it since is update / linked (or resolve / both_changed), not our echo. The item then counts as unlinked: its next change gets create, with the item\'s own createKey as its last copy was created with, so a copy this item made that still exists is not made twice (Graph makes no second event for a transactionId it knows, and an upsert on the Salesforce external id updates the record). A copy made from the other item (or by /resolve-conflict) is not found that way: when that item\'s counterpart changes first, a second copy is made. So delete one side before unlinking, or let the sync delete it (a confirm with deleted true gives the next copy a key of its own). deleted false when nothing was linked.',
        params: correlateParamsSchema,
        querystring: tenantQuerySchema,
        response: { 200: deletedResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = request.query.tenant ?? DEFAULT_TENANT
      return callStore(app, reply, 'correlate_delete', () => store.unlink(tenant, request.params, Date.now(), config.dedupeTtlMs))
    },
  )
}
