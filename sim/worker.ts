// A Mule-like worker: takes Graph notifications and CDC events and follows mule-examples' flows against the sidecar.
import { normalizeCalendarItem, type PartialCalendarItem } from '../src/domain/calendar-item.js'
import { readGraphEvent, writeGraphPatch } from '../src/domain/graph-event.js'
import { readSalesforceRecord, writeSalesforcePatch } from '../src/domain/salesforce-event.js'
import type { Channel, Delivery, Mailroom } from './channel.js'
import { FakeApiError } from './fake-api.js'
import { SOURCE_ID_PROPERTY, type FakeOutlook, type GraphCollection, type GraphNotification } from './fake-outlook.js'
import { INTEGRATION_USER, type CdcMessage, type FakeSalesforce } from './fake-salesforce.js'
import type { FlowStats } from './flow-stats.js'
import type { SimOptions } from './options.js'
import type { Random } from './random.js'
import { SidecarRejected, SidecarUnavailable, type Link, type SidecarClient, type SidecarMetrics } from './sidecar-client.js'
import { sleep } from './stats.js'
import { GROUPS, differingGroups, groupValues, type Side, type Truth, type WriteContext } from './truth.js'

/** The flow gave up on this delivery for now; the source redelivers it after a delay. */
class Retry extends Error {
  constructor(
    readonly reason: string,
    readonly delayMs?: number,
  ) {
    super(reason)
  }
}

/** The worker died: no release, no commit, no ack. The message comes back after the worker restarts. */
class Crash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`crash ${point}`)
  }
}

type CrashPoint = 'after_claim' | 'after_write' | 'before_commit'
const CRASH_POINTS: CrashPoint[] = ['after_claim', 'after_write', 'before_commit']

interface OutlookSide {
  system: 'outlook'
  itemId: string
  deleted: boolean
  fields?: PartialCalendarItem
  modifiedAt?: string
  etag?: string
  /** The changeKey of the state read: the version /dedupe decides. */
  changeKey?: string
  /** The Salesforce id our create stamped on the event. */
  stamp?: string
}

interface SalesforceSide {
  system: 'salesforce'
  itemId: string
  deleted: boolean
  isChild: boolean
  fields?: PartialCalendarItem
  modifiedAt?: string
  /** The Outlook id our create stamped on the Event. */
  stamp?: string
}

type AnySide = OutlookSide | SalesforceSide

interface Dedupe {
  decision: string
  reason?: string
  key: { tenant: string; system: string; itemId: string; version: string }
  claim?: { token: string; expiresAt: string }
  retryAfterMs?: number
}

interface Correlation {
  action: 'create' | 'update' | 'delete' | 'resolve' | 'skip'
  reason: string
  target: { system: Side; itemId: string | null }
  series?: { role: string }
  reservation?: { token: string; expiresAt: string; createKey: string }
  retryAfterMs?: number
  baseline?: Record<string, unknown>
}

interface Confirmed {
  linked: boolean
  reason?: string
  link?: Link
}

interface Resolution {
  outcome: 'in_sync' | 'resolved' | 'needs_review'
  merged: Record<string, unknown> | null
  writes: { outlook?: { op: string; patch?: Record<string, unknown> }; salesforce?: { op: string; patch?: Record<string, unknown> } }
  conflicts: Array<{ field: string; winner: string | null; rule: string; outlook?: unknown; salesforce?: unknown }>
}

/** One change being worked on: the delivery, its claim, and what the writes must say about themselves. */
interface Change {
  delivery: Delivery<unknown>
  system: Side
  itemId: string
  cid: string
  crashAt?: CrashPoint
  wrote: boolean
  /** /correlate answered skip/echo. */
  echo?: boolean
  sourceLastWriter?: 'human' | 'sync'
  sourceWriteUnconfirmed?: boolean
  /** the /dedupe claim's token, sent with /correlate as claimToken (as mule-examples does) */
  claimToken?: string
  /** when the claim's lease ends (the /dedupe answer's expiresAt), in ms */
  leaseEndsAt?: number
  /** the worker is held up before its first write until the lease has lapsed (--worker-stalls) */
  stallBeforeWrite?: boolean
}

export interface ReviewRequest {
  outlookId: string
  salesforceId: string
  conflicts: Resolution['conflicts']
}

export interface WorkerDeps {
  index: number
  options: SimOptions
  mailroom: Mailroom
  graphHub: Channel<GraphCollection>
  cdc: Channel<CdcMessage>
  outlook: FakeOutlook
  salesforce: FakeSalesforce
  sidecar: SidecarClient
  metrics: SidecarMetrics
  truth: Truth
  stats: FlowStats
  rng: Random
  review: (request: ReviewRequest) => void
  stopped: () => boolean
}

const IN_FLIGHT_POLL_MS = 250
const CALENDAR_RETRIES = 3
/** how far past its lease a stalled worker (--worker-stalls) wakes up */
const STALL_PAST_LEASE_MS: [number, number] = [200, 1_500]
const CALENDAR_RETRY_MS = 100

export class Worker {
  private readonly d: WorkerDeps
  private readonly leaseMs: number
  private readonly restartMs: [number, number] = [800, 1_600]

  constructor(deps: WorkerDeps) {
    this.d = deps
    this.leaseMs = deps.options.leaseMs
  }

  async run(): Promise<void> {
    while (!this.d.stopped()) {
      const delivery = await this.d.mailroom.take(200)
      if (!delivery) continue
      this.d.stats.busy++
      try {
        await this.handle(delivery)
      } finally {
        this.d.stats.busy--
      }
    }
  }

  private channelOf(delivery: Delivery<unknown>): Channel<unknown> {
    return (delivery.channel === this.d.graphHub.name ? this.d.graphHub : this.d.cdc) as Channel<unknown>
  }

  private async handle(delivery: Delivery<unknown>): Promise<void> {
    const channel = this.channelOf(delivery)
    const { stats } = this.d
    try {
      if (delivery.channel === this.d.graphHub.name) await this.fromOutlook(delivery as Delivery<GraphCollection>)
      else await this.fromSalesforce(delivery as Delivery<CdcMessage>)
      channel.ack(delivery)
    } catch (error) {
      if (error instanceof Crash) {
        stats.crashes.add(error.point)
        stats.outcomes.add(`worker crashed (${error.point})`)
        const restart = this.d.rng.between(...this.restartMs)
        channel.nack(delivery, restart, 'worker_crash')
        await sleep(restart)
        return
      }
      if (error instanceof Retry) {
        stats.outcomes.add(`redelivered: ${error.reason}`)
        const backoff = Math.min(3_000, 200 * 2 ** Math.min(delivery.attempt - 1, 4))
        channel.nack(delivery, error.delayMs !== undefined ? Math.min(Math.max(error.delayMs, 100), 3_000) : backoff, error.reason)
        return
      }
      if (error instanceof SidecarUnavailable) {
        stats.outcomes.add('redelivered: sidecar unavailable')
        channel.nack(delivery, 500, 'sidecar_unavailable')
        return
      }
      if (error instanceof SidecarRejected) {
        // A 4xx cannot get better by retrying; the problem list has the request and the answer.
        stats.outcomes.add(`dropped: sidecar answered ${error.status} on ${error.endpoint}`)
        channel.ack(delivery)
        return
      }
      if (error instanceof FakeApiError) {
        if (error.kind === 'rejected') {
          stats.outcomes.add(`dropped: ${error.system} rejected the write`)
          stats.error(error.message)
          this.d.metrics.addProblem({ endpoint: `${error.system} write`, request: undefined, status: 400, response: error.message, expected: 'a write the calendar accepts (the patch came from the sidecar or the flow)' })
          channel.ack(delivery)
          return
        }
        const reason = error.kind === 'not_found' ? 'target_gone' : error.kind === 'precondition_failed' ? 'target_changed' : 'write_failed'
        stats.outcomes.add(`redelivered: ${reason}`)
        channel.nack(delivery, Math.min(3_000, 200 * 2 ** Math.min(delivery.attempt - 1, 4)), reason)
        return
      }
      stats.outcomes.add('redelivered: unexpected error')
      stats.error(error instanceof Error ? (error.stack ?? error.message) : String(error))
      channel.nack(delivery, 1_000, 'unexpected_error')
    }
  }

  // --- Outlook -> Salesforce -----------------------------------------------------------------------------------------

  private async fromOutlook(delivery: Delivery<GraphCollection>): Promise<void> {
    for (const notification of delivery.body.value) {
      // Validation messages say nothing about an item; the pre-filter would have dropped them.
      if (notification.subscriptionId === 'NA' || String(notification.changeType).startsWith('Validation:')) {
        this.d.stats.dropped.add('Graph validation message')
        continue
      }
      if (notification.clientState !== this.d.outlook.clientState) {
        this.d.stats.dropped.add('wrong clientState')
        continue
      }
      await this.outlookChange(delivery, notification)
    }
  }

  private async outlookChange(delivery: Delivery<unknown>, notification: GraphNotification): Promise<void> {
    const itemId = String(notification.resourceData?.id)
    const isDelete = notification.changeType === 'deleted'
    const source = await this.readOutlook(itemId)
    if (!isDelete && source.deleted) {
      // Gone since the notification: its own `deleted` notification follows.
      this.finish('gone before it was read')
      return
    }
    const change = this.newChange(delivery, 'outlook', itemId)
    // As mule-examples does: /dedupe decides the state just read (its changeKey and lastModifiedDateTime), not the
    // notification. Graph notifications carry no modification time, so only the read state can be ordered: a read
    // that went stale while /dedupe was retried (a sidecar restarting) is then `stale` once a newer state was
    // committed, instead of being processed over it. A delete has no state to read: the notification decides.
    const dedupeBody: Record<string, unknown> =
      source.deleted || !source.changeKey
        ? { notification, leaseMs: this.leaseMs }
        : { system: 'outlook', itemId, version: source.changeKey, modifiedAt: source.modifiedAt, changeType: notification.changeType, leaseMs: this.leaseMs }
    if (source.fields) dedupeBody.fields = source.fields
    const reread = () => this.readOutlook(itemId)
    await this.holdingClaim(change, dedupeBody, source, isDelete, reread, (source) =>
      this.passes(change, source, isDelete, reread, async (source, again) => {
        const link = await this.d.sidecar.getLink('outlook', itemId, `${change.cid}:lookup`)
        // Read for a delete too: an edit of the counterpart not yet synced makes it resolve, not a delete of that edit.
        const target = link?.state === 'linked' ? await this.readSalesforce(link.salesforce.itemId) : undefined
        const body: Record<string, unknown> = { system: 'outlook', itemId, changeType: notification.changeType, leaseMs: this.leaseMs }
        if (source.fields) body.fields = source.fields
        if (source.stamp) body.counterpartHint = { system: 'salesforce', itemId: source.stamp }
        if (target?.fields) body.targetFields = target.fields
        if (again === 'reread') body.reread = true
        if (change.claimToken) body.claimToken = change.claimToken
        return { correlation: await this.correlate(change, body), target }
      }),
    )
  }

  // --- Salesforce -> Outlook -----------------------------------------------------------------------------------------

  private async fromSalesforce(delivery: Delivery<CdcMessage>): Promise<void> {
    const message = delivery.body as Record<string, any>
    const payload = message.data?.payload ?? message.payload ?? message
    const header = payload.ChangeEventHeader
    const recordId = String(header.recordIds[0])
    const isDelete = header.changeType === 'DELETE' || header.changeType === 'GAP_DELETE'
    const source = await this.readSalesforce(recordId)
    if (!isDelete && source.deleted) {
      this.finish('gone before it was read')
      return
    }
    if (source.isChild) {
      // An invitee's copy of a meeting: the organiser's Event is the one that syncs.
      this.d.stats.dropped.add('Salesforce child event (IsChild)')
      return
    }
    const change = this.newChange(delivery, 'salesforce', recordId)
    const dedupeBody: Record<string, unknown> = { changeEvent: message, leaseMs: this.leaseMs }
    if (source.fields) dedupeBody.fields = source.fields
    const reread = () => this.readSalesforce(recordId)
    await this.holdingClaim(change, dedupeBody, source, isDelete, reread, (source) =>
      this.passes(change, source, isDelete, reread, async (source, again) => {
        const link = await this.d.sidecar.getLink('salesforce', recordId, `${change.cid}:lookup`)
        const target = link?.state === 'linked' ? await this.readOutlook(link.outlook.itemId) : undefined
        const body: Record<string, unknown> = { changeEvent: message, leaseMs: this.leaseMs }
        if (source.fields) body.fields = source.fields
        if (source.stamp) body.counterpartHint = { system: 'outlook', itemId: source.stamp }
        if (target?.fields) body.targetFields = target.fields
        if (again === 'reread') body.reread = true
        if (change.claimToken) body.claimToken = change.claimToken
        return { correlation: await this.correlate(change, body, header.commitUser === INTEGRATION_USER), target }
      }),
    )
  }

  /**
   * Lookup, counterpart read and /correlate, then the action, as the Mule flows do. An answer that needs a second
   * pass is given one, in place: an update, delete or resolve naming a counterpart that was not read (the pair was
   * linked, or relinked, after the lookup); earlier_write, whose source is read again and sent with reread. An update whose
   * counterpart is gone settles by the delete policy through /resolve-conflict, as that counterpart's own delete would
   * (a series is left to that delete). Returns the source as processed.
   */
  private async passes(
    change: Change,
    first: AnySide,
    isDelete: boolean,
    reread: () => Promise<AnySide>,
    ask: (source: AnySide, again?: 'lookup' | 'reread') => Promise<{ correlation: Correlation; target: AnySide | undefined }>,
  ): Promise<AnySide> {
    let source = first
    let again: 'lookup' | 'reread' | undefined
    for (let pass = 1; ; pass++) {
      const { correlation, target } = await ask(source, again)
      const named = correlation.action === 'update' || correlation.action === 'delete' || (correlation.action === 'resolve' && target !== undefined)
      again =
        named && target?.itemId !== correlation.target.itemId
          ? 'lookup'
          : correlation.action === 'skip' && correlation.reason === 'earlier_write'
            ? 'reread'
            : undefined
      if (!again) {
        if (correlation.action === 'update' && target?.deleted) {
          const role = correlation.series?.role
          if (role === undefined || role === 'single') await this.resolve(change, { ...correlation, action: 'resolve', reason: 'both_changed' }, source, target)
          else this.d.stats.note(change.system, change.itemId, 'the linked series copy is gone: its delete deletes this one')
          return source
        }
        await this.act(change, correlation, source, target)
        return source
      }
      if (pass === 2) throw new Retry(again === 'lookup' ? 'linked_after_lookup' : 'earlier_write', correlation.retryAfterMs)
      if (again === 'reread') {
        source = await reread()
        if (source.deleted && !isDelete) {
          // Outlook: released and redelivered (a 503 to the pre-filter); Salesforce, whose listener cannot redeliver
          // one event: logged and committed. Either way its own delete follows.
          if (source.system === 'outlook') throw new Retry('gone_after_wait')
          this.d.stats.note(change.system, change.itemId, 'deleted since it was read: its DELETE event follows')
          return source
        }
      }
    }
  }

  // --- shared steps ----------------------------------------------------------------------------------------------

  private newChange(delivery: Delivery<unknown>, system: Side, itemId: string): Change {
    const lastWriter = system === 'outlook' ? this.d.outlook.lastWriterOf(itemId) : this.d.salesforce.lastWriterOf(itemId)
    const unconfirmed =
      lastWriter?.writer === 'sync' && lastWriter.syncWriteSeq !== undefined && this.d.truth.writes.find((w) => w.seq === lastWriter.syncWriteSeq)?.confirmed === false
    return {
      delivery,
      system,
      itemId,
      cid: `sim-w${this.d.index}-d${delivery.id}`,
      wrote: false,
      sourceLastWriter: lastWriter?.writer,
      sourceWriteUnconfirmed: unconfirmed,
    }
  }

  private finish(outcome: string): void {
    this.d.stats.outcomes.add(outcome)
    this.d.stats.changesProcessed++
  }

  /**
   * /dedupe, then the work while holding the claim, then /dedupe/commit; /dedupe/release when the work fails.
   * After waiting out `in_flight` the source is read again: the state read before the wait may be seconds old, and
   * writing it would undo what the other worker just synced.
   */
  private async holdingClaim(
    change: Change,
    dedupeBody: Record<string, unknown>,
    firstRead: AnySide,
    isDelete: boolean,
    reread: () => Promise<AnySide>,
    work: (source: AnySide) => Promise<AnySide | void>,
  ): Promise<void> {
    const { sidecar, stats } = this.d
    let dedupe = await sidecar.post<Dedupe>('/dedupe', dedupeBody, `${change.cid}:dedupe`)
    stats.dedupe.add(dedupe.decision)
    // Sources that cannot redeliver one event on demand wait out `in_flight` in place (mule-examples' retryInFlight).
    const maxWaits = Math.ceil((this.leaseMs * 1.5) / IN_FLIGHT_POLL_MS)
    let waited = 0
    for (; dedupe.decision === 'in_flight' && waited < maxWaits && !this.d.stopped(); waited++) {
      await sleep(IN_FLIGHT_POLL_MS)
      dedupe = await sidecar.post<Dedupe>('/dedupe', dedupeBody, `${change.cid}:dedupe`)
      stats.dedupe.add(dedupe.decision)
    }
    stats.note(change.system, change.itemId, `dedupe ${dedupe.decision} (${dedupe.key?.version ?? '?'})`)
    if (dedupe.decision === 'in_flight') throw new Retry('in_flight', dedupe.retryAfterMs)
    if (dedupe.decision !== 'process') {
      this.finish(`skipped by /dedupe: ${dedupe.decision}`)
      return
    }
    if (!dedupe.claim?.token) {
      this.d.metrics.addProblem({ endpoint: 'POST /dedupe', request: dedupeBody, status: 200, response: dedupe, expected: 'a claim with decision process' })
      throw new Retry('no_claim')
    }
    const claimedAt = Date.now()
    change.claimToken = dedupe.claim.token
    change.leaseEndsAt = Date.parse(dedupe.claim.expiresAt)
    change.crashAt = this.d.rng.chance(this.d.options.faults.workerCrashes) ? this.d.rng.pick(CRASH_POINTS) : undefined
    change.stallBeforeWrite = this.d.rng.chance(this.d.options.faults.workerStalls)
    const release = async () => {
      try {
        const released = await sidecar.post<{ released: boolean }>('/dedupe/release', { system: dedupe.key.system, itemId: dedupe.key.itemId, token: dedupe.claim!.token }, `${change.cid}:release`)
        stats.release.add(String(released.released))
      } catch {
        stats.release.add('failed (the claim lapses)')
      }
    }
    let source = firstRead
    try {
      this.crashPoint(change, 'after_claim')
      if (waited > 0 && this.d.options.rereadAfterWait) {
        source = await reread()
        if (source.deleted && !isDelete) throw new Retry('gone_after_wait')
      }
      source = (await work(source)) ?? source
      this.crashPoint(change, 'before_commit', true)
    } catch (error) {
      if (!(error instanceof Crash)) await release()
      throw error
    }
    if (change.echo && this.d.options.echoClaim === 'release') {
      // Our echo: record nothing, so the state read now (which may hold a later edit) is not marked as synced.
      await release()
      this.finish('echo: claim released')
      return
    }
    const commitBody: Record<string, unknown> = { system: dedupe.key.system, itemId: dedupe.key.itemId, token: dedupe.claim.token }
    if (source.fields) commitBody.fields = source.fields
    // The state processed may be a re-read, newer than the one claimed: commit what was processed, so a read of a
    // state between the two that arrives late is `stale`, not a new version.
    if (source.system === 'outlook' && source.changeKey) {
      commitBody.version = source.changeKey
      if (source.modifiedAt) commitBody.modifiedAt = source.modifiedAt
    }
    const committed = await sidecar.post<{ committed: boolean; reason?: string }>('/dedupe/commit', commitBody, `${change.cid}:commit`)
    stats.commit.add(committed.committed ? 'committed' : `not committed: ${committed.reason}`)
    if (!committed.committed) {
      const held = Date.now() - claimedAt
      if (committed.reason !== 'lease_expired' || held < this.leaseMs) {
        this.d.metrics.addProblem({
          endpoint: 'POST /dedupe/commit',
          request: commitBody,
          status: 200,
          response: committed,
          expected: `committed: true (the claim was ${held} ms old, the lease ${this.leaseMs} ms, and it was neither released nor committed before)`,
        })
      }
    }
    this.finish('synced')
  }

  private crashPoint(change: Change, point: CrashPoint, last = false): void {
    if (change.crashAt === undefined) return
    // A change that writes nothing has no "after write" moment: it dies before the commit instead.
    if (change.crashAt === point || (last && change.crashAt === 'after_write')) {
      this.d.stats.note(change.system, change.itemId, `worker crashed ${point}`)
      throw new Crash(point)
    }
  }

  private async correlate(change: Change, body: Record<string, unknown>, byIntegration?: boolean): Promise<Correlation> {
    const correlation = await this.d.sidecar.post<Correlation>('/correlate', body, `${change.cid}:correlate`)
    this.d.stats.correlate.add(`${correlation.action}/${correlation.reason}`)
    const author = byIntegration === undefined ? '' : byIntegration ? ' (by the integration user)' : ' (by a person)'
    this.d.stats.note(change.system, change.itemId, `correlate ${correlation.action}/${correlation.reason}${author}`)
    return correlation
  }

  private async act(change: Change, correlation: Correlation, source: AnySide, target: AnySide | undefined): Promise<void> {
    switch (correlation.action) {
      case 'create':
        return this.createCounterpart(change, correlation, source)
      case 'update':
        // Linked after the lookup (the create's confirm landed in between): the counterpart was not read, and its
        // own change since the create would be overwritten. The redelivery reads it.
        if (!target) throw new Retry('linked_after_lookup')
        return this.updateCounterpart(change, correlation, source, target)
      case 'delete':
        // Linked after the lookup, as for an update: an edit of the counterpart not yet synced would be deleted unseen.
        if (!target) throw new Retry('linked_after_lookup')
        return this.deleteCounterpart(change, correlation, source)
      case 'resolve':
        return this.resolve(change, correlation, source, target)
      case 'skip':
        change.echo = correlation.reason === 'echo'
        // Another worker is creating the counterpart right now: try again later instead of committing it as done.
        if (correlation.reason === 'create_in_flight') throw new Retry('create_in_flight', correlation.retryAfterMs)
        // our earlier write, read before our latest one landed: redeliver, read again
        if (correlation.reason === 'earlier_write') throw new Retry('earlier_write', correlation.retryAfterMs)
        return
    }
  }

  private writeContext(change: Change, flow: WriteContext['flow'], reason: string, retryAfterLanded: boolean): WriteContext {
    return {
      worker: this.d.index,
      deliveryId: change.delivery.id,
      redeliveryCause: change.delivery.cause,
      flow,
      reason,
      retryAfterLanded,
      sourceLastWriter: change.sourceLastWriter,
      sourceWriteUnconfirmed: change.sourceWriteUnconfirmed,
    }
  }

  /**
   * One calendar API call with the connector's retries: transient failures again, a few times, then the flow fails.
   * The error that ends the retries says whether an earlier attempt's answer was lost (afterLostAnswer).
   */
  private async calendar<T>(change: Change, op: string, call: (retryAfterLanded: boolean) => T, ownCopy = false): Promise<T> {
    // the last attempt whose answer was lost after its write landed
    let lost: FakeApiError | undefined
    for (let attempt = 0; ; attempt++) {
      let stalled = false
      if (change.stallBeforeWrite) {
        // a long GC pause, a host suspended, a call retried through an outage: until the lease has lapsed
        change.stallBeforeWrite = false
        stalled = true
        this.d.stats.note(change.system, change.itemId, `${op}: worker held up until its lease lapsed`)
        await sleep(Math.max(0, (change.leaseEndsAt ?? Date.now()) - Date.now()) + this.d.rng.between(...STALL_PAST_LEASE_MS))
      }
      // not for the delete of our own extra copy: it is unlinked, no other worker writes it, and it must go
      try {
        if (!ownCopy) this.checkLease(change, op)
      } catch (error) {
        if (stalled) this.d.stats.stalls.add('write not started')
        throw error
      }
      // a stalled worker that gets here writes after its lease lapsed: what the run reports
      if (stalled) this.d.stats.stalls.add('wrote anyway (no lease check)')
      await sleep(this.d.rng.between(2, 12)) // the request's way to the calendar
      try {
        const result = call(lost !== undefined)
        await sleep(this.d.rng.between(2, 12)) // and the answer's way back
        return result
      } catch (error) {
        if (!(error instanceof FakeApiError) || !error.transient || attempt >= CALENDAR_RETRIES) {
          if (error instanceof FakeApiError) {
            this.d.stats.note(change.system, change.itemId, `${op}: ${error.kind}`)
            if (lost && error !== lost) error.afterLostAnswer = { writeSeq: lost.writeSeq }
          }
          throw error
        }
        if (error.kind === 'landed_timeout') lost = error
        this.d.stats.calendarRetries.add(`${error.system} ${error.kind}`)
        await sleep(CALENDAR_RETRY_MS)
      }
    }
  }

  /**
   * A write starts only while at least a quarter of the claim's lease is left, as mule-examples' writes do. Once the
   * lease lapses another worker may be granted the item and sync a newer state; ours, read when we claimed, written
   * after theirs would undo it, and their commit would have recorded the newer state as synced (a later event of it
   * is then `unchanged`, and the change is lost). A worker held up past that (a sidecar restarting while it retried)
   * writes nothing: its claim is released and the change redelivered, read afresh.
   */
  private checkLease(change: Change, op: string): void {
    if (change.leaseEndsAt === undefined || !this.d.options.leaseCheck) return
    const left = change.leaseEndsAt - Date.now()
    if (left >= this.leaseMs / 4) return
    this.d.stats.note(change.system, change.itemId, `${op}: not started, ${left} ms of the lease left`)
    throw new Retry('lease_running_out')
  }

  /**
   * A conditional update (If-Match, If-Unmodified-Since) refused with 412: when an attempt's answer was lost, its own
   * write may be what moved the etag or LastModifiedDate, and the retry is refused by it. So on any 412 the flow reads
   * the target: when it holds `confirms` (all the confirm will record as written and as baseline, not only what the
   * update sent), the write's effect is there and it is confirmed as any other; else the 412 stands (the claim is
   * released, the change redelivered). Without this a landed write stayed unconfirmed and its echo later counted as a
   * person's change.
   */
  private async updateOrLanded(change: Change, system: Side, itemId: string, confirms: PartialCalendarItem, update: () => Promise<{ writeSeq: number }>): Promise<{ writeSeq?: number }> {
    try {
      return await update()
    } catch (error) {
      if (!(error instanceof FakeApiError) || error.kind !== 'precondition_failed') throw error
      const now = system === 'outlook' ? await this.readOutlook(itemId) : await this.readSalesforce(itemId)
      const holds = !now.deleted && now.fields !== undefined && differingGroups(groupValues(now.fields), groupValues({ ...now.fields, ...confirms })).length === 0
      const after = error.afterLostAnswer ? 'after a lost answer' : 'at once'
      this.d.stats.calendarRetries.add(`${system} 412 ${after}, read back: ${holds ? 'holds the write' : 'refused'}`)
      this.d.stats.note(change.system, change.itemId, `update: 412 ${after}; the target ${holds ? 'holds' : 'does not hold'} the write`)
      if (!holds) throw error
      // bookkeeping: the write that landed, when it was ours
      return { writeSeq: error.afterLostAnswer?.writeSeq }
    }
  }

  private async readOutlook(itemId: string): Promise<OutlookSide> {
    await sleep(this.d.rng.between(2, 10))
    const event = this.d.outlook.get(itemId)
    if (!event) return { system: 'outlook', itemId, deleted: true }
    const props = Array.isArray(event.singleValueExtendedProperties) ? (event.singleValueExtendedProperties as Array<{ id: string; value: string }>) : []
    return {
      system: 'outlook',
      itemId,
      deleted: false,
      fields: readGraphEvent(event).item,
      modifiedAt: event.lastModifiedDateTime as string,
      etag: event['@odata.etag'] as string,
      changeKey: typeof event.changeKey === 'string' ? event.changeKey : undefined,
      stamp: props.find((p) => p.id === SOURCE_ID_PROPERTY)?.value,
    }
  }

  private async readSalesforce(recordId: string): Promise<SalesforceSide> {
    await sleep(this.d.rng.between(2, 10))
    const record = this.d.salesforce.query(recordId)
    if (!record || record.IsDeleted === true) return { system: 'salesforce', itemId: recordId, deleted: true, isChild: record?.IsChild === true }
    return {
      system: 'salesforce',
      itemId: recordId,
      deleted: false,
      isChild: record.IsChild === true,
      fields: readSalesforceRecord(record),
      modifiedAt: record.LastModifiedDate as string,
      stamp: (record.Outlook_Event_Id__c as string | null) ?? undefined,
    }
  }

  /** Writes `fields` into the other system as a new item, stamped with the source id, keyed by the createKey. */
  private async createCounterpart(change: Change, correlation: Correlation, source: AnySide): Promise<void> {
    const fields = source.fields ?? {}
    const createKey = correlation.reservation?.createKey
    if (!createKey) {
      this.d.metrics.addProblem({ endpoint: 'POST /correlate', request: { system: source.system, itemId: source.itemId }, status: 200, response: correlation, expected: 'a reservation with createKey on create' })
      throw new Retry('no_reservation')
    }
    let targetId: string
    let writeSeq: number
    if (source.system === 'salesforce') {
      const body = { ...writeGraphPatch(fields), transactionId: createKey, singleValueExtendedProperties: [{ id: SOURCE_ID_PROPERTY, value: source.itemId }] }
      const created = await this.calendar(change, 'create', (landed) => this.d.outlook.create(body, this.writeContext(change, 'create', correlation.reason, landed)))
      targetId = created.value.id
      writeSeq = created.writeSeq
      // Graph answers a transactionId it knows with the event that create made, as it is: a create repeated after its
      // reservation lapsed (the worker died before the confirm) finds a copy of an older state. Bring it up to date,
      // as Salesforce's upsert does, before confirming what it holds.
      if (differingGroups(groupValues(readGraphEvent(created.value).item), groupValues(fields)).length > 0) {
        const id = targetId
        const updated = await this.calendar(change, 'update', (landed) => this.d.outlook.update(id, { ...writeGraphPatch(fields) }, this.writeContext(change, 'create', 'created_before', landed)))
        writeSeq = updated.writeSeq
      }
    } else {
      const record = { ...writeSalesforcePatch(fields), Outlook_Event_Id__c: source.itemId }
      const created = await this.calendar(change, 'create', (landed) => this.d.salesforce.upsertByKey(createKey, record, this.writeContext(change, 'create', correlation.reason, landed)))
      targetId = created.value.id
      writeSeq = created.writeSeq
    }
    change.wrote = true
    this.crashPoint(change, 'after_write')
    const targetSystem: Side = source.system === 'outlook' ? 'salesforce' : 'outlook'
    const confirmed = await this.confirm(change, {
      source: { system: source.system, itemId: source.itemId },
      target: { system: targetSystem, itemId: targetId },
      written: { fields },
      baseline: fields,
      reservationToken: correlation.reservation?.token,
    })
    this.d.truth.markConfirmed(writeSeq)
    // Another copy won the link: ours is extra and goes (mule-examples does the same).
    if (!confirmed.linked && confirmed.reason === 'conflicting_link') await this.deleteOurCopy(change, targetSystem, targetId, 'conflicting_link')
  }

  /** The linked counterpart gets the source's change: the fields moved since the baseline (patch) or all (full). */
  private async updateCounterpart(change: Change, correlation: Correlation, source: AnySide, target: AnySide | undefined): Promise<void> {
    const fields = source.fields ?? {}
    const targetId = correlation.target.itemId
    if (!targetId) {
      this.d.metrics.addProblem({ endpoint: 'POST /correlate', request: { system: source.system, itemId: source.itemId }, status: 200, response: correlation, expected: 'target.itemId with update' })
      throw new Retry('no_target')
    }
    const patchFields = this.d.options.writeMode === 'full' ? fields : changedSince(fields, correlation.baseline)
    if (Object.keys(patchFields).length === 0) {
      this.d.stats.note(change.system, change.itemId, 'update: nothing moved since the baseline, no write')
      return
    }
    const conditional = this.d.options.conditionalWrites && target && !target.deleted && target.itemId === targetId
    let writeSeq: number | undefined
    if (correlation.target.system === 'outlook') {
      const ifMatch = conditional ? (target as OutlookSide).etag : undefined
      const written = await this.updateOrLanded(change, 'outlook', targetId, fields, () =>
        this.calendar(change, 'update', (landed) => this.d.outlook.update(targetId, { ...writeGraphPatch(patchFields) }, this.writeContext(change, 'update', correlation.reason, landed), ifMatch)),
      )
      writeSeq = written.writeSeq
    } else {
      const since = conditional ? (target as SalesforceSide).modifiedAt : undefined
      const written = await this.updateOrLanded(change, 'salesforce', targetId, fields, () =>
        this.calendar(change, 'update', (landed) =>
          this.d.salesforce.update(targetId, { ...writeSalesforcePatch(patchFields) }, this.writeContext(change, 'update', correlation.reason, landed), since),
        ),
      )
      writeSeq = written.writeSeq
    }
    change.wrote = true
    this.crashPoint(change, 'after_write')
    await this.confirm(change, {
      source: { system: source.system, itemId: source.itemId },
      target: { system: correlation.target.system, itemId: targetId },
      written: { fields },
      baseline: fields,
    })
    this.d.truth.markConfirmed(writeSeq)
  }

  private async deleteCounterpart(change: Change, correlation: Correlation, source: AnySide): Promise<void> {
    const targetId = correlation.target.itemId
    if (!targetId) throw new Retry('no_target')
    let writeSeq: number | undefined
    try {
      const deleted = await this.calendar(change, 'delete', (landed) =>
        correlation.target.system === 'outlook'
          ? this.d.outlook.delete(targetId, this.writeContext(change, 'delete', correlation.reason, landed))
          : this.d.salesforce.delete(targetId, this.writeContext(change, 'delete', correlation.reason, landed)),
      )
      writeSeq = deleted.writeSeq
    } catch (error) {
      // Deleting what is already gone is an answer, not a failure.
      if (!(error instanceof FakeApiError && error.kind === 'not_found')) throw error
    }
    change.wrote = true
    this.crashPoint(change, 'after_write')
    await this.confirm(change, { source: { system: source.system, itemId: source.itemId }, target: { system: correlation.target.system, itemId: targetId }, deleted: true })
    this.d.truth.markConfirmed(writeSeq)
  }

  /** Both sides changed since the last sync: /resolve-conflict, then each side's write and its confirm. */
  private async resolve(change: Change, correlation: Correlation, source: AnySide, target: AnySide | undefined): Promise<void> {
    let other = target
    if (!other && correlation.target.itemId) {
      other = correlation.target.system === 'outlook' ? await this.readOutlook(correlation.target.itemId) : await this.readSalesforce(correlation.target.itemId)
    }
    if (!other) throw new Retry('no_target')
    const outlook = (source.system === 'outlook' ? source : other) as OutlookSide
    const salesforce = (source.system === 'salesforce' ? source : other) as SalesforceSide
    const side = (s: AnySide) => {
      const out: Record<string, unknown> = { itemId: s.itemId }
      if (s.fields) out.fields = s.fields
      if (s.modifiedAt) out.modifiedAt = s.modifiedAt
      if (s.deleted) out.deleted = true
      return out
    }
    const request: Record<string, unknown> = { policy: this.d.options.policy, deletePolicy: this.d.options.deletePolicy, outlook: side(outlook), salesforce: side(salesforce) }
    // The baseline /correlate judged the reads by, not the one stored when /resolve-conflict runs: a confirm of another
    // worker's write landing in between would make a side read before that write look changed. (This one errs for a
    // side read between that write and its confirm, a narrower window; see mule-examples/README.md.)
    if (correlation.baseline) request.base = correlation.baseline
    const resolution = await this.d.sidecar.post<Resolution>('/resolve-conflict', request, `${change.cid}:resolve`)
    const { stats, truth } = this.d
    stats.resolve.add(resolution.outcome)
    for (const conflict of resolution.conflicts ?? []) stats.conflictRules.add(conflict.rule)
    stats.note(change.system, change.itemId, `resolve ${resolution.outcome} (${(resolution.conflicts ?? []).map((c) => `${c.field}:${c.winner ?? 'none'}`).join(', ')})`)
    truth.recordResolution({
      meeting: truth.meetingOf('outlook', outlook.itemId) ?? truth.meetingOf('salesforce', salesforce.itemId),
      outcome: resolution.outcome,
      conflicts: (resolution.conflicts ?? []).map((c) => ({ field: c.field, winner: c.winner ?? 'none', rule: c.rule })),
      base: correlation.baseline && groupValues(correlation.baseline as PartialCalendarItem),
      sides: {
        outlook: outlook.deleted || !outlook.fields ? undefined : groupValues(outlook.fields),
        salesforce: salesforce.deleted || !salesforce.fields ? undefined : groupValues(salesforce.fields),
      },
      merged: resolution.merged ? groupValues(resolution.merged as PartialCalendarItem) : undefined,
    })

    if (resolution.outcome === 'needs_review') {
      this.d.review({ outlookId: outlook.itemId, salesforceId: salesforce.itemId, conflicts: resolution.conflicts ?? [] })
      return
    }
    const merged = resolution.merged
    if (resolution.outcome === 'in_sync') {
      const other: Side = source.system === 'outlook' ? 'salesforce' : 'outlook'
      await this.confirm(change, {
        source: { system: source.system, itemId: source.itemId },
        target: { system: other, itemId: other === 'outlook' ? outlook.itemId : salesforce.itemId },
        baseline: merged ?? undefined,
        deleted: merged === null ? true : undefined,
      })
      return
    }
    const conditional = this.d.options.conditionalWrites
    const outlookWrite = resolution.writes?.outlook
    const salesforceWrite = resolution.writes?.salesforce
    // The counterpart is written first and the source's own item last. Were the source written first and the other
    // write then failed, the redelivered change would read our write in the source, an echo, and the other side would
    // never get it; this way the redelivery finds the counterpart moved from the baseline and resolves again.
    // With `last`, the baseline moves only when every write of the resolution has landed, with the last one's confirm.
    const sides: Side[] = source.system === 'outlook' ? ['salesforce', 'outlook'] : ['outlook', 'salesforce']
    const last = sides.filter((side) => (side === 'outlook' ? outlookWrite : salesforceWrite) !== undefined).at(-1)
    const baselineWith = (side: Side) => (this.d.options.resolveBaseline === 'each' || side === last ? (merged ?? undefined) : undefined)
    const writeOutlook = async () => {
      if (!outlookWrite) return
      let outlookId = outlook.itemId
      let writeSeq: number | undefined
      if (outlookWrite.op === 'update') {
        const written = await this.updateOrLanded(change, 'outlook', outlook.itemId, normalizeCalendarItem(merged ?? {}, 'merged'), () =>
          this.calendar(change, 'resolve update', (landed) =>
            this.d.outlook.update(outlook.itemId, outlookWrite.patch ?? {}, this.writeContext(change, 'resolve', 'both_changed', landed), conditional ? outlook.etag : undefined),
          ),
        )
        writeSeq = written.writeSeq
      } else if (outlookWrite.op === 'create') {
        const body = { ...(outlookWrite.patch ?? {}), transactionId: `resolve-${salesforce.itemId}`, singleValueExtendedProperties: [{ id: SOURCE_ID_PROPERTY, value: salesforce.itemId }] }
        const created = await this.calendar(change, 'resolve create', (landed) => this.d.outlook.create(body, this.writeContext(change, 'resolve', 'update_wins', landed)))
        outlookId = created.value.id
        writeSeq = created.writeSeq
      } else {
        const deleted = await this.calendar(change, 'resolve delete', (landed) => this.d.outlook.delete(outlook.itemId, this.writeContext(change, 'resolve', 'delete_wins', landed)))
        writeSeq = deleted.writeSeq
      }
      change.wrote = true
      this.crashPoint(change, 'after_write')
      const confirmed = await this.confirm(change, {
        source: { system: 'salesforce', itemId: salesforce.itemId },
        target: { system: 'outlook', itemId: outlookId },
        written: merged ? { fields: merged } : undefined,
        baseline: baselineWith('outlook'),
        deleted: outlookWrite.op === 'delete' ? true : undefined,
        // a create replaces the Outlook event that was deleted: the pair is linked anew
        replaces: outlookWrite.op === 'create' && outlook.itemId && outlook.itemId !== outlookId ? { system: 'outlook', itemId: outlook.itemId } : undefined,
      })
      this.d.truth.markConfirmed(writeSeq)
      if (outlookWrite.op === 'create' && !confirmed.linked && confirmed.reason) await this.deleteOurCopy(change, 'outlook', outlookId, 'refused_resolution_create')
    }
    const writeSalesforce = async () => {
      if (!salesforceWrite) return
      let salesforceId = salesforce.itemId
      let writeSeq: number | undefined
      if (salesforceWrite.op === 'update') {
        const written = await this.updateOrLanded(change, 'salesforce', salesforce.itemId, normalizeCalendarItem(merged ?? {}, 'merged'), () =>
          this.calendar(change, 'resolve update', (landed) =>
            this.d.salesforce.update(salesforce.itemId, salesforceWrite.patch ?? {}, this.writeContext(change, 'resolve', 'both_changed', landed), conditional ? salesforce.modifiedAt : undefined),
          ),
        )
        writeSeq = written.writeSeq
      } else if (salesforceWrite.op === 'create') {
        const record = { ...(salesforceWrite.patch ?? {}), Outlook_Event_Id__c: outlook.itemId }
        const created = await this.calendar(change, 'resolve create', (landed) => this.d.salesforce.upsertByKey(`resolve:${outlook.itemId}`, record, this.writeContext(change, 'resolve', 'update_wins', landed)))
        salesforceId = created.value.id
        writeSeq = created.writeSeq
      } else {
        const deleted = await this.calendar(change, 'resolve delete', (landed) => this.d.salesforce.delete(salesforce.itemId, this.writeContext(change, 'resolve', 'delete_wins', landed)))
        writeSeq = deleted.writeSeq
      }
      change.wrote = true
      this.crashPoint(change, 'after_write')
      const confirmed = await this.confirm(change, {
        source: { system: 'outlook', itemId: outlook.itemId },
        target: { system: 'salesforce', itemId: salesforceId },
        written: merged ? { fields: merged } : undefined,
        baseline: baselineWith('salesforce'),
        deleted: salesforceWrite.op === 'delete' ? true : undefined,
        // a create replaces the Salesforce Event that was deleted: the pair is linked anew
        replaces: salesforceWrite.op === 'create' && salesforce.itemId && salesforce.itemId !== salesforceId ? { system: 'salesforce', itemId: salesforce.itemId } : undefined,
      })
      this.d.truth.markConfirmed(writeSeq)
      if (salesforceWrite.op === 'create' && !confirmed.linked && confirmed.reason) await this.deleteOurCopy(change, 'salesforce', salesforceId, 'refused_resolution_create')
    }
    for (const side of sides) await (side === 'outlook' ? writeOutlook() : writeSalesforce())
  }

  /** A copy we just made whose confirm was refused: it would stay unlinked for good (already gone is fine). */
  private async deleteOurCopy(change: Change, system: Side, itemId: string, reason: string): Promise<void> {
    await this.calendar(change, 'delete extra copy', (landed) =>
      system === 'outlook'
        ? this.d.outlook.delete(itemId, this.writeContext(change, 'cleanup', reason, landed))
        : this.d.salesforce.delete(itemId, this.writeContext(change, 'cleanup', reason, landed)),
      true,
    ).catch((error) => {
      if (!(error instanceof FakeApiError && error.kind === 'not_found')) throw error
    })
  }

  private async confirm(change: Change, body: Record<string, unknown>): Promise<Confirmed> {
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key]
    const confirmed = await this.d.sidecar.post<Confirmed>('/correlate/confirm', body, `${change.cid}:confirm`)
    const label = confirmed.linked ? 'linked' : (confirmed.reason ?? confirmed.link?.state ?? 'not linked')
    this.d.stats.confirm.add(label)
    this.d.stats.note(change.system, change.itemId, `confirm ${label}`)
    return confirmed
  }
}

/** The canonical fields whose group moved since the baseline; everything when there is no baseline. */
function changedSince(fields: PartialCalendarItem, baseline: Record<string, unknown> | undefined): PartialCalendarItem {
  if (!baseline) return fields
  let base: PartialCalendarItem
  try {
    base = normalizeCalendarItem(baseline, 'baseline')
  } catch {
    return fields
  }
  const now = groupValues(fields)
  const before = groupValues(base)
  const out: PartialCalendarItem = {}
  for (const group of GROUPS) {
    if (now[group] === before[group]) continue
    const keys = group === 'timing' ? (['start', 'end', 'isAllDay'] as const) : ([group] as const)
    for (const key of keys) if (key in fields) (out as Record<string, unknown>)[key] = fields[key]
  }
  return out
}
