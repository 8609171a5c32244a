// The shared DedupeStore on Redis: one Lua script per step over the item's one hash (see dedupe-scripts.ts).
import { HISTORY_LIMIT, readTokenSequence, supersededToRecord } from '../../domain/dedupe-rules.js'
import { itemKeyString, type ItemKey } from '../../domain/keys.js'
import type {
  ClaimInput,
  ClaimResult,
  CommitInput,
  CommitResult,
  DedupeDecision,
  DedupeReasonCode,
  DedupeRecord,
  DedupeStore,
  HistoryEntry,
  LastCommitted,
  WrittenInput,
} from '../dedupe-store.js'
import { giveBackClaims } from '../give-back.js'
import { createNonce } from '../nonce.js'
import { guard, toStoreError, type RedisClient } from './connection.js'
import { CLAIM_ARG_COUNT, CLAIM_LUA, CLAIM_MANY_LUA, COMMIT_LUA, COMMIT_MANY_LUA, RELEASE_LUA, WRITTEN_LUA } from './dedupe-scripts.js'
import { Gatherer } from './gatherer.js'

/**
 * The item's dedupe key. The {hash tag} is the whole URI-encoded item key, so braces in an id cannot split it and
 * any other key written for the same item with the same tag lands in the same Cluster slot.
 */
export function dedupeKey(key: ItemKey): string {
  return `css:{${itemKeyString(key)}}:d`
}

/**
 * Most claims sent at once: a /dedupe/batch of 500 events without fan-out is one script call, which takes a few
 * milliseconds of redis-server time, far inside the command timeout.
 */
export const CLAIMS_PER_CALL = 500

/** Stands in for a claim whose call failed, so results stay aligned with inputs until the failure is thrown. */
const FAILED_CLAIM: ClaimResult = { decision: 'in_flight', reason: 'claim_live' }

type Arg = string | number
type CommitReply = 'committed' | 'lease_expired' | 'unknown_token'
/** See CLAIM_LUA: "decision|reason|token|number", or ["decision|reason|token|number|la|lm|lc", lf, lv] */
type ClaimReply = string | [string, string, string]

// ioredis adds defineCommand'ed scripts as methods (EVALSHA with EVAL fallback) on the client and on pipelines.
interface DedupeCommands {
  cssDedupeClaim(...args: Arg[]): Promise<ClaimReply>
  /** numkeys, the keys, then every item's arguments as one JSON array of strings (see manyScript) */
  cssDedupeClaimMany(numberOfKeys: number, keys: string[], args: string): Promise<ClaimReply[]>
  cssDedupeCommit(...args: Arg[]): Promise<CommitReply>
  cssDedupeCommitMany(numberOfKeys: number, keys: string[], args: string): Promise<CommitReply[]>
  cssDedupeRelease(...args: Arg[]): Promise<number>
  cssDedupeWritten(...args: Arg[]): Promise<number>
}

function defineDedupeCommands(client: RedisClient): DedupeCommands {
  const commands = client as unknown as DedupeCommands
  if (typeof commands.cssDedupeClaim !== 'function') {
    client.defineCommand('cssDedupeClaim', { numberOfKeys: 1, lua: CLAIM_LUA })
    client.defineCommand('cssDedupeClaimMany', { lua: CLAIM_MANY_LUA })
    client.defineCommand('cssDedupeCommit', { numberOfKeys: 1, lua: COMMIT_LUA })
    client.defineCommand('cssDedupeCommitMany', { lua: COMMIT_MANY_LUA })
    client.defineCommand('cssDedupeRelease', { numberOfKeys: 1, lua: RELEASE_LUA })
    client.defineCommand('cssDedupeWritten', { numberOfKeys: 1, lua: WRITTEN_LUA })
  }
  return commands
}

// Only a lone surrogate is written as an escape in that range (a pair stays as it is); an argument holding the text
// "\ud800" also matches, which costs a second, identical pass.
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/

/**
 * The MANY scripts' arguments as one JSON array (see manyScript in dedupe-scripts.ts). JSON.stringify writes a lone
 * UTF-16 surrogate as a \u escape that Redis' cjson refuses; no request carries one (the body guard refuses it), and
 * should one come here it becomes U+FFFD, as it does when sent as a separate argument.
 */
function argsJson(args: string[]): string {
  const json = JSON.stringify(args)
  return LONE_SURROGATE_ESCAPE.test(json) ? JSON.stringify(args.map((arg) => arg.toWellFormed())) : json
}

const optional = (value: string | number | undefined) => (value === undefined ? '' : String(value))

/** The superseded versions in the order CLAIM_LUA records them (supersededToRecord, as the memory store does). */
function supersededArg(input: ClaimInput): string {
  const versions = supersededToRecord(input)
  return versions === undefined ? '' : JSON.stringify(versions.map((version) => version.toWellFormed()))
}

/** Appends a claim's ARGV (CLAIM_LUA) to `args`. */
function pushClaimArgs(args: string[], input: ClaimInput): void {
  args.push(
    input.version,
    optional(input.modifiedAt),
    optional(input.changeType),
    optional(input.fingerprint),
    (input.gap ? 'g' : '') + (input.overflow ? 'o' : ''),
    String(input.now),
    String(input.ttlMs),
    createNonce(),
    input.meta ? JSON.stringify(input.meta) : '',
    String(input.now + input.leaseMs),
    input.covers !== undefined && input.covers.length > 0 ? JSON.stringify(input.covers.map((version) => version.toWellFormed())) : '',
    supersededArg(input),
  )
}

/** Appends a commit's ARGV (COMMIT_LUA) to `args`. */
function pushCommitArgs(args: string[], input: CommitInput): void {
  args.push(input.token, optional(input.version), optional(input.modifiedAt), optional(input.fingerprint), String(input.now), String(input.ttlMs))
}

const toCommitResult = (reply: CommitReply): CommitResult => (reply === 'committed' ? { committed: true } : { committed: false, reason: reply })

function readLast(
  version: string | undefined,
  modifiedAt: string | undefined,
  fingerprint: string | undefined,
  changeType: string | undefined,
  committedAt: string | undefined,
): LastCommitted | undefined {
  if (!version) return undefined
  const last: LastCommitted = { version, committedAt: Number(committedAt) }
  if (modifiedAt) last.modifiedAt = Number(modifiedAt)
  if (fingerprint) last.fingerprint = fingerprint
  if (changeType) last.changeType = changeType
  return last
}

function toClaimResult(reply: ClaimReply): ClaimResult {
  const head = typeof reply === 'string' ? reply : reply[0]
  // decision, reason and the token never hold '|', nor do the numbers la and lm or the changeType lc; the free-text
  // version and fingerprint come as elements of their own
  const a = head.indexOf('|')
  const b = head.indexOf('|', a + 1)
  const c = head.indexOf('|', b + 1)
  const d = head.indexOf('|', c + 1)
  const decision = head.slice(0, a) as DedupeDecision
  const result: ClaimResult = { decision, reason: head.slice(a + 1, b) as DedupeReasonCode }
  const number = Number(d === -1 ? head.slice(c + 1) : head.slice(c + 1, d))
  if (decision === 'process') result.claim = { token: head.slice(b + 1, c), expiresAt: number }
  if (decision === 'in_flight') result.retryAfterMs = Math.max(1, number)
  if (typeof reply !== 'string') {
    const e = head.indexOf('|', d + 1)
    const f = head.indexOf('|', e + 1)
    const last = readLast(reply[2], head.slice(e + 1, f), reply[1], head.slice(f + 1), head.slice(d + 1, e))
    if (last) result.last = last
  }
  return result
}

function readHistoryEntry(line: string): HistoryEntry {
  const first = line.indexOf('|')
  const second = line.indexOf('|', first + 1)
  const third = line.indexOf('|', second + 1)
  return {
    at: Number(line.slice(0, first)),
    decision: line.slice(first + 1, second) as HistoryEntry['decision'],
    reason: line.slice(second + 1, third) as HistoryEntry['reason'],
    version: line.slice(third + 1),
  }
}

/** The history ring read newest first. */
function readHistory(fields: Record<string, string>): HistoryEntry[] {
  const written = Number(fields.hi ?? 0)
  const entries: HistoryEntry[] = []
  for (let index = written - 1; index >= 0 && index >= written - HISTORY_LIMIT; index--) {
    const line = fields[`h${index % HISTORY_LIMIT}`]
    if (line !== undefined) entries.push(readHistoryEntry(line))
  }
  return entries
}

function readMeta(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined
  try {
    return JSON.parse(text) as Record<string, string>
  } catch {
    return undefined
  }
}

// The hot single calls chain on ioredis' promise instead of awaiting it in guard(): one promise fewer a call.
const rethrowAsStoreError = (error: unknown): never => {
  throw toStoreError(error)
}

/** A script for one item and its MANY form, with how to pass an input to them and read a reply. */
interface ScriptPair<I, Reply, R> {
  /** appends the input's arguments, all strings (the MANY form sends them as JSON, where a number would change) */
  pushArgs: (args: string[], input: I) => void
  /** the item's key, then its arguments */
  one: (args: string[]) => Promise<Reply>
  many: (keys: string[], args: string[]) => Promise<Reply[]>
  read: (reply: Reply) => R
  /** after a failed call, given the keys and the arguments after them: undo what the call may still do (abandon) */
  undo?: (keys: string[], args: string[]) => void
}

/** A server that takes one endpoint but refuses scripts over keys of several slots (a proxy over a sharded Redis). */
const isCrossSlot = (error: unknown) => error instanceof Error && error.message.startsWith('CROSSSLOT')

export class RedisDedupeStore implements DedupeStore {
  private readonly commands: DedupeCommands
  /** off on a cluster, and for good once the server refuses a multi-key script */
  private gather: boolean
  private readonly claims = new Gatherer<ClaimInput, ClaimResult>((inputs) => this.together(inputs, this.claimScript))
  private readonly commits = new Gatherer<CommitInput, CommitResult>((inputs) => this.together(inputs, this.commitScript))
  private readonly claimScript: ScriptPair<ClaimInput, ClaimReply, ClaimResult> = {
    pushArgs: pushClaimArgs,
    one: (args) => this.commands.cssDedupeClaim(...args),
    many: (keys, args) => this.commands.cssDedupeClaimMany(keys.length, keys, argsJson(args)),
    read: toClaimResult,
    undo: (keys, args) => this.abandon(keys, args),
  }
  private readonly commitScript: ScriptPair<CommitInput, CommitReply, CommitResult> = {
    pushArgs: pushCommitArgs,
    one: (args) => this.commands.cssDedupeCommit(...args),
    many: (keys, args) => this.commands.cssDedupeCommitMany(keys.length, keys, argsJson(args)),
    read: toCommitResult,
  }

  constructor(
    private readonly client: RedisClient,
    options: { cluster: boolean },
  ) {
    this.commands = defineDedupeCommands(client)
    this.gather = !options.cluster
  }

  /**
   * On a single node, the claims of requests that arrive together (read in one pass of the event loop) leave
   * together once that pass ends, in CLAIM_MANY calls of at most 64: one write and one reply instead of one each. The
   * script decides them one after another in arrival order, as separate claim calls would be, so two claims of one
   * item still get one `process`. Commits are gathered the same way, in calls of their own. Releases and recorded
   * sync writes are not held back, so one that arrives in the same pass as a claim or commit reaches Redis before
   * it; the requests were concurrent, and every order is one the rules answer safely. A failed call fails each of
   * its claims or commits with the same error.
   */
  claim(input: ClaimInput): Promise<ClaimResult> {
    return this.gather ? this.claims.add(input) : this.alone(input, this.claimScript)
  }

  async claimMany(inputs: ClaimInput[]): Promise<ClaimResult[]> {
    // A cluster script must keep its keys in one slot; there each claim goes alone and auto-pipelining batches
    // them per node. A single node takes up to CLAIMS_PER_CALL claims in one script call. Larger sets (a batch whose
    // Salesforce events fan out) go in such calls one after another, so no call runs into the command timeout: one
    // that did would answer 503 for claims the script had already granted.
    const results: ClaimResult[] = []
    for (let start = 0; start < inputs.length; start += CLAIMS_PER_CALL) {
      const part = inputs.length <= CLAIMS_PER_CALL ? inputs : inputs.slice(start, start + CLAIMS_PER_CALL)
      let settled: Array<PromiseSettledResult<ClaimResult>>
      try {
        settled = await Promise.allSettled(await this.together(part, this.claimScript))
      } catch (error) {
        this.giveBack(inputs, results)
        throw error
      }
      const failed = settled.find((outcome) => outcome.status === 'rejected')
      // Claims sent alone (a cluster) settle one by one: those granted before the failure are given back too.
      for (const outcome of settled) results.push(outcome.status === 'fulfilled' ? outcome.value : FAILED_CLAIM)
      if (failed) {
        this.giveBack(inputs, results)
        throw failed.reason
      }
    }
    return results
  }

  /**
   * The claims granted before a failure go back (giveBackClaims). Those of the failed call itself, whose tokens never
   * came back, go back by their nonces (abandon).
   */
  private giveBack(inputs: ClaimInput[], results: ClaimResult[]): void {
    const granted = results.flatMap((result, i) =>
      result.decision === 'process' && result.claim ? [{ key: inputs[i].key, token: result.claim.token, now: inputs[i].now }] : [],
    )
    giveBackClaims(this, granted)
  }

  /**
   * A claim call that failed may still grant its claims: a timed-out call runs when a stalled Redis resumes, and a
   * script that fails partway keeps what it did. Its callers were answered 503 and hold no token, so each claim is
   * released by the nonce its token ends with. The release is sent on the same connection right after the call, so
   * Redis runs it after the claim; it is best effort and not awaited (a connection that is gone sends nothing, and such
   * a claim lapses at its lease, as before).
   */
  private abandon(keys: string[], args: string[]): void {
    for (let i = 0; i < keys.length; i++) {
      const at = i * CLAIM_ARG_COUNT
      // CLAIM_LUA's arguments: now at 5, the nonce at 7
      this.commands.cssDedupeRelease(keys[i], args[at + 7], args[at + 5], 'n').catch(() => undefined)
    }
  }

  commit(input: CommitInput): Promise<CommitResult> {
    // A token we could not have issued never needs a round trip.
    if (readTokenSequence(input.token) === undefined) return Promise.resolve({ committed: false, reason: 'unknown_token' })
    return this.gather ? this.commits.add(input) : this.alone(input, this.commitScript)
  }

  /** One call of the item's script. */
  private alone<I extends { key: ItemKey }, Reply, R>(input: I, script: ScriptPair<I, Reply, R>): Promise<R> {
    const args: string[] = [dedupeKey(input.key)]
    script.pushArgs(args, input)
    const { undo } = script
    if (!undo) return script.one(args).then(script.read, rethrowAsStoreError)
    return script.one(args).then(script.read, (error: unknown) => {
      undo([args[0]], args.slice(1))
      return rethrowAsStoreError(error)
    })
  }

  /**
   * Several calls of one script in one MANY call on a single node; one call each on a cluster, or when refused. A
   * call sent alone settles on its own: one that fails does not fail the others.
   */
  private async together<I extends { key: ItemKey }, Reply, R>(inputs: I[], script: ScriptPair<I, Reply, R>): Promise<Array<R | Promise<R>>> {
    const { pushArgs, many, read } = script
    const alone = (input: I) => this.alone(input, script)
    if (inputs.length <= 1 || !this.gather) return inputs.map(alone)
    const keys: string[] = []
    // Arrays, not spread arguments: a batch of 500 claims is 5,000 arguments, copied at each spread.
    const args: string[] = []
    for (const input of inputs) {
      keys.push(dedupeKey(input.key))
      pushArgs(args, input)
    }
    try {
      return (await guard(() => many(keys, args))).map(read)
    } catch (error) {
      // A cross-slot refusal comes before the script runs, so nothing was done: send each alone, now and from now on.
      if (!isCrossSlot(error)) {
        script.undo?.(keys, args)
        throw error
      }
      this.gather = false
      return inputs.map(alone)
    }
  }

  async recordWritten(input: WrittenInput): Promise<void> {
    // '' is no fingerprint (as in decideWritten): nothing to record.
    if (!input.fingerprint) return
    await guard(() => this.commands.cssDedupeWritten(dedupeKey(input.key), input.fingerprint, String(input.now), String(input.ttlMs)))
  }

  async release(input: { key: ItemKey; token: string; now: number }): Promise<{ released: boolean }> {
    const reply = await guard(() => this.commands.cssDedupeRelease(dedupeKey(input.key), input.token, String(input.now)))
    return { released: Number(reply) === 1 }
  }

  async get(key: ItemKey, _now: number): Promise<DedupeRecord | null> {
    const fields = await guard(() => this.client.hgetall(dedupeKey(key)))
    if (!fields.seq) return null
    const record: DedupeRecord = { key, history: readHistory(fields) }
    const last = readLast(fields.lv, fields.lm, fields.lf, fields.lc, fields.la)
    if (last) record.last = last
    if (fields.ct) record.claim = { version: fields.cv, expiresAt: Number(fields.ce) }
    const meta = readMeta(fields.meta)
    if (meta) record.meta = meta
    return record
  }

  async forget(key: ItemKey): Promise<{ deleted: boolean }> {
    const removed = await guard(() => this.client.del(dedupeKey(key)))
    return { deleted: removed > 0 }
  }
}
