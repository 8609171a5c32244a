// The shared CorrelateStore on Redis: every step is one Lua script over one tenant's keys, which share a hash slot.
//
// Why one slot per tenant (not per item): a confirm and a hint-link touch both items of a pair atomically, and
// the pair's ids are unrelated strings. One tenant is one sync pair whose Salesforce side delivers at most 50,000
// CDC events a day (the largest allocation), far below what one Redis node serves, so pinning a tenant to one
// node costs nothing; tenants still spread over the cluster.
// Lifetimes: links carry no TTL (a meeting may be edited years after it was linked; losing a link means a second
// copy), tombstones live tombstoneTtlMs (DEDUPE_TTL), reservations their lease plus a grace, ledger entries
// ECHO_WINDOW plus a grace, createKey -> source entries createKeyTtlMs (DEDUPE_TTL) from the last grant, what a create
// wrote as long or until the pair is linked with a baseline (an unlink writes that baseline there for as long),
// delete marks max(DEDUPE_TTL, DELETE_MARK_MIN_TTL_MS), and for good once a copy's createKey was made from one.
import { derivedCreateKey } from '../../domain/correlate-key.js'
import { fingerprintBaseline, otherSystem } from '../../domain/correlate-rules.js'
import {
  DELETE_MARK_MIN_TTL_MS,
  RESERVATION_GRACE_MS,
  type ConfirmInput,
  type ConfirmResult,
  type CorrelateStore,
  type CorrelateSystem,
  type DecideInput,
  type DecideResult,
  type ItemRef,
  type LinkRecord,
  type SeriesRole,
} from '../correlate-store.js'
import { guard, type RedisClient } from './connection.js'
import { CONFIRM_LUA, DECIDE_LUA, UNLINK_LUA } from './correlate-scripts.js'

/** Extra life for ledger keys beyond the window: only garbage collection; the scripts judge time by `now`. */
const LEDGER_GRACE_MS = 60_000

/** The tenant's key prefix; the hash tag keeps all of a tenant's correlate keys in one slot. */
export function correlatePrefix(tenant: string): string {
  return `css:{c:${encodeURIComponent(tenant)}}:`
}

export function correlateKeys(tenant: string, ref: ItemRef) {
  const prefix = correlatePrefix(tenant)
  const id = encodeURIComponent(ref.itemId)
  return {
    link: `${prefix}link:${ref.system}:${id}`,
    reservation: `${prefix}res:${ref.system}:${id}`,
    ledger: `${prefix}echo:${ref.system}:${id}`,
    deleteMark: `${prefix}del:${ref.system}:${id}`,
    createState: `${prefix}made:${ref.system}:${id}`,
  }
}

/** Where the item a createKey was handed out for is remembered: in the tenant's slot, so decide reads it atomically. */
export function createKeyKey(tenant: string, createKey: string): string {
  return `${correlatePrefix(tenant)}ck:${encodeURIComponent(createKey)}`
}

type Arg = string | number

interface CorrelateCommands {
  cssCorrelateDecide(...args: Arg[]): Promise<string>
  cssCorrelateConfirm(...args: Arg[]): Promise<string>
  cssCorrelateUnlink(...args: Arg[]): Promise<number>
}

function defineCorrelateCommands(client: RedisClient): CorrelateCommands {
  const commands = client as unknown as CorrelateCommands
  if (typeof commands.cssCorrelateDecide !== 'function') {
    client.defineCommand('cssCorrelateDecide', { numberOfKeys: 10, lua: DECIDE_LUA })
    client.defineCommand('cssCorrelateConfirm', { numberOfKeys: 11, lua: CONFIRM_LUA })
    client.defineCommand('cssCorrelateUnlink', { numberOfKeys: 4, lua: UNLINK_LUA })
  }
  return commands
}

/** A side as the scripts store it (HGETALL field names). */
type RawSide = Partial<Record<'cp' | 'cpe' | 'st' | 'base' | 'bfp' | 'role' | 'cprole' | 'at' | 'up' | 'exp', string>>
interface RawLink {
  sys: CorrelateSystem
  id: string
  s: RawSide
}

function toLink(tenant: string, raw: RawLink): LinkRecord {
  const { sys, id, s } = raw
  const other = otherSystem(sys)
  const roles: LinkRecord['roles'] = {}
  if (s.role) roles[sys] = s.role as SeriesRole
  if (s.cprole) roles[other] = s.cprole as SeriesRole
  return {
    tenant,
    outlook: sys === 'outlook' ? id : (s.cp as string),
    salesforce: sys === 'salesforce' ? id : (s.cp as string),
    state: s.st === 'tombstoned' ? 'tombstoned' : 'linked',
    baseline: s.base ? (JSON.parse(s.base) as Record<string, unknown>) : undefined,
    roles,
    linkedAt: Number(s.at),
    updatedAt: Number(s.up),
  }
}

export class RedisCorrelateStore implements CorrelateStore {
  private readonly commands: CorrelateCommands

  constructor(private readonly client: RedisClient) {
    this.commands = defineCorrelateCommands(client)
  }

  async decide(input: DecideInput): Promise<DecideResult> {
    const other = otherSystem(input.system)
    const self = correlateKeys(input.tenant, input)
    const given = input.counterpartHint
    // A createKey is resolved inside the script, so reading the mapping and acting on it is one atomic step.
    const byKey = given && 'createKey' in given ? given.createKey : undefined
    const hint = given && !('createKey' in given) && given.system === other ? given : undefined
    const hinted = hint ? correlateKeys(input.tenant, hint) : self
    const ownKey = createKeyKey(input.tenant, input.createKey)
    const expiresAt = input.now + input.leaseMs
    const text = await guard(() =>
      this.commands.cssCorrelateDecide(
        self.link,
        self.reservation,
        self.ledger,
        hinted.link,
        hinted.reservation,
        ownKey,
        byKey === undefined ? ownKey : createKeyKey(input.tenant, derivedCreateKey(byKey)),
        self.deleteMark,
        self.createState,
        hinted.createState,
        correlatePrefix(input.tenant),
        input.system,
        other,
        input.itemId,
        encodeURIComponent(input.itemId),
        input.changeType,
        input.fingerprint ?? '',
        input.echoBySource ? '1' : '',
        hint?.itemId ?? '',
        hint ? encodeURIComponent(hint.itemId) : '',
        input.role ?? '',
        input.token,
        input.createKey,
        String(input.now),
        String(expiresAt),
        String(expiresAt + RESERVATION_GRACE_MS),
        String(input.leaseMs + RESERVATION_GRACE_MS),
        byKey === undefined ? '' : '1',
        String(input.now + input.createKeyTtlMs),
        String(input.createKeyTtlMs),
        input.state === undefined ? '' : JSON.stringify(input.state),
        String(input.now + input.echoWindowMs),
        String(input.echoWindowMs + LEDGER_GRACE_MS),
        input.reread ? '1' : '',
        input.claimToken ?? '',
      ),
    )
    const reply = JSON.parse(text) as { a: DecideResult['action']; r: DecideResult['reason']; t: string; retry?: number; link?: RawLink; k?: string; tok?: string; exp?: number; n?: 1 }
    const result: DecideResult = {
      action: reply.a,
      reason: reply.r,
      target: { system: other, itemId: reply.t === '' ? null : reply.t },
    }
    if (reply.a === 'create') {
      result.reservation =
        reply.tok === undefined ? { token: input.token, expiresAt, createKey: reply.k ?? input.createKey } : { token: reply.tok, expiresAt: Number(reply.exp), createKey: reply.k ?? input.createKey }
    }
    if (reply.retry !== undefined) result.retryAfterMs = reply.retry
    if (reply.link) result.link = toLink(input.tenant, reply.link)
    if (reply.n === 1) result.linkedNow = true
    return result
  }

  async confirm(input: ConfirmInput): Promise<ConfirmResult> {
    const source = correlateKeys(input.tenant, input.source)
    const target = correlateKeys(input.tenant, input.target)
    const markTtlMs = Math.max(input.tombstoneTtlMs, DELETE_MARK_MIN_TTL_MS)
    const replaced = input.replaces && correlateKeys(input.tenant, input.replaces)
    const text = await guard(() =>
      this.commands.cssCorrelateConfirm(
        source.link,
        target.link,
        source.reservation,
        target.reservation,
        target.ledger,
        source.deleteMark,
        target.deleteMark,
        replaced?.link ?? source.link,
        replaced?.deleteMark ?? source.deleteMark,
        source.createState,
        target.createState,
        input.source.system,
        input.source.itemId,
        encodeURIComponent(input.source.itemId),
        input.target.system,
        input.target.itemId,
        encodeURIComponent(input.target.itemId),
        input.writtenFingerprint ?? '',
        input.baseline === undefined ? '' : JSON.stringify(input.baseline),
        input.deleted ? '1' : '',
        String(input.now),
        String(input.now + input.echoWindowMs),
        String(input.echoWindowMs + LEDGER_GRACE_MS),
        String(input.now + input.tombstoneTtlMs),
        String(input.tombstoneTtlMs),
        (input.baseline && fingerprintBaseline(input.baseline)) ?? '',
        String(input.now + markTtlMs),
        String(markTtlMs),
        input.replaces?.itemId ?? '',
      ),
    )
    const reply = JSON.parse(text) as { linked: 0 | 1; reason?: 'conflicting_link' | 'tombstoned'; elsewhere?: 1; link: RawLink }
    const link = toLink(input.tenant, reply.link)
    if (reply.linked === 1) return { linked: true, link }
    if (reply.elsewhere === 1) return { linked: false, reason: 'conflicting_link', link, targetLinkedElsewhere: true }
    return reply.reason ? { linked: false, reason: reply.reason, link } : { linked: false, link }
  }

  async getLink(tenant: string, ref: ItemRef, now: number): Promise<LinkRecord | null> {
    const side = (await guard(() => this.client.hgetall(correlateKeys(tenant, ref).link))) as RawSide
    if (!side.cp || (side.exp !== undefined && Number(side.exp) <= now)) return null
    return toLink(tenant, { sys: ref.system, id: ref.itemId, s: side })
  }

  async unlink(tenant: string, ref: ItemRef, now: number, createStateTtlMs: number): Promise<{ deleted: boolean }> {
    const keys = correlateKeys(tenant, ref)
    const removed = await guard(() =>
      this.commands.cssCorrelateUnlink(
        keys.link,
        keys.reservation,
        keys.ledger,
        keys.createState,
        correlatePrefix(tenant),
        otherSystem(ref.system),
        ref.itemId,
        String(now),
        String(now + createStateTtlMs),
        String(createStateTtlMs),
      ),
    )
    return { deleted: Number(removed) === 1 }
  }
}
