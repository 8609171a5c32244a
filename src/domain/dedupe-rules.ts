// The /dedupe rules as pure functions: an item's state plus one input gives the answer and the writes to apply.
// The memory store applies these writes directly; the Redis Lua scripts (stores/redis/dedupe-scripts.ts) mirror them.
import type {
  ClaimInput,
  ClaimResult,
  CommitInput,
  CommitResult,
  HistoryEntry,
  LastCommitted,
  WrittenInput,
} from './dedupe-model.js'

export const HISTORY_LIMIT = 20
/** Superseded versions one claim records in the history, so its own decision is among the last HISTORY_LIMIT too. */
export const SUPERSEDED_HISTORY_LIMIT = HISTORY_LIMIT - 1
/** Versions remembered per item for `duplicate`; older ones fall back to the modifiedAt ordering. */
export const VERSION_LIMIT = 100
/** Tokens remembered per item: committed ones so a commit whose answer was lost can be repeated, released ones
 * so a commit after a release is told the token is no longer known. */
export const REMEMBERED_TOKEN_LIMIT = 5
/**
 * The version `last` shows after a sync write into the item: the write has no version of ours (the target's
 * new changeKey is not known to the confirm), and this one is never put in the duplicate set.
 */
export const WRITTEN_VERSION = 'sync-write'

/** The claim an item holds until it is committed, released or superseded (a lapsed lease alone keeps it). */
export interface HeldClaim {
  token: string
  version: string
  expiresAt: number
  modifiedAt?: number
  fingerprint?: string
  changeType?: string
  /** versions this claim's write supersedes (ClaimInput.covers), committed with it */
  covers?: readonly string[]
}

export interface DedupeItemState {
  /** claims granted so far; a token carries its number, which tells superseded tokens from invented ones */
  seq: number
  claim?: HeldClaim
  last?: LastCommitted
  /** the last few committed and released tokens (absent: none) */
  committedTokens?: readonly string[]
  releasedTokens?: readonly string[]
  /** the token of the claim that held the item when a sync write into it was recorded */
  writtenUnderClaim?: string
}

/** How the event's version was recorded before, if it was. */
export type SeenVersion = 'committed' | 'unchanged' | undefined

export interface ClaimOutcome {
  result: ClaimResult
  history: HistoryEntry
  /** process: the new claim replaces any lapsed one */
  grant?: { seq: number; claim: HeldClaim }
  /** unchanged: the version is remembered and `last` moves to it */
  unchanged?: { version: string; last: LastCommitted }
}

export interface CommitOutcome {
  result: CommitResult
  /**
   * `claimedVersion`: the version the claim was granted for, when the commit names another (what was actually
   * written). Both count as committed: a replay of the delivered event is a duplicate, not a second write.
   * `covered`: the claim's covers other than those two, committed as well (recorded first, as the older ones).
   */
  commit?: { last: LastCommitted; token: string; history: HistoryEntry; claimedVersion?: string; covered?: string[] }
}

export interface WrittenOutcome {
  last: LastCommitted
  history: HistoryEntry
  /** the held claim's token: its commit may carry a state read before this write */
  underClaim?: string
}

export interface ReleaseOutcome {
  released: boolean
  history?: HistoryEntry
}

const TOKEN_PATTERN = /^(\d{1,15})\.[A-Za-z0-9_-]{1,64}$/

export function mintToken(seq: number, nonce: string): string {
  return `${seq}.${nonce}`
}

/** The claim number a token carries, or undefined when it is not one of ours. */
export function readTokenSequence(token: string): number | undefined {
  const match = TOKEN_PATTERN.exec(token)
  return match ? Number(match[1]) : undefined
}

/** '' counts as no value, so every store treats an empty fingerprint the same. */
function present(text: string | undefined): text is string {
  return text !== undefined && text !== ''
}

const isDeleteLike = (changeType: string | undefined) => changeType === 'deleted' || changeType === 'undeleted'

/**
 * `last` with some fields replaced, written out: on Node 20 `{ ...last, version }` takes a slow path costing ~0.4 us
 * (bench/object-spread.mjs), and these run on every decision.
 */
function lastWith(last: LastCommitted | undefined, version: string, committedAt: number, fingerprint?: string): LastCommitted {
  const next: LastCommitted = { version, committedAt }
  if (last?.modifiedAt !== undefined) next.modifiedAt = last.modifiedAt
  const kept = fingerprint ?? last?.fingerprint
  if (kept !== undefined) next.fingerprint = kept
  if (last?.changeType !== undefined) next.changeType = last.changeType
  return next
}

/** The answer with the item's last committed state, and the history entry that records it. */
function answerWith(result: ClaimResult, last: LastCommitted | undefined, input: ClaimInput): ClaimOutcome {
  if (last) result.last = last
  return { result, history: { at: input.now, decision: result.decision, version: input.version, reason: result.reason } }
}

/**
 * The history entries of the batch events a claim's decision supersedes (ClaimInput.superseded), in the order they are
 * recorded: farthest first, so that the history, newest first, reads the decision, then the nearest superseded one.
 * None when the decision is a duplicate (the batch then decides an older event, whose claim records them) or in_flight
 * (the batch answers them in_flight too: sent again, each is decided then).
 */
export function supersededHistory(input: ClaimInput, decision: ClaimResult['decision']): HistoryEntry[] | undefined {
  if (decision === 'duplicate' || decision === 'in_flight') return undefined
  return supersededToRecord(input)?.map((version) => ({ at: input.now, decision: 'superseded', version, reason: 'superseded' }))
}

/** ClaimInput.superseded in the order the history records it: at most SUPERSEDED_HISTORY_LIMIT, farthest first. */
export function supersededToRecord(input: ClaimInput): string[] | undefined {
  if (input.superseded === undefined || input.superseded.length === 0) return undefined
  return input.superseded.slice(0, SUPERSEDED_HISTORY_LIMIT).reverse()
}

/** Rules in order: duplicate, stale, in_flight, unchanged, process. */
export function decideClaim(state: DedupeItemState | undefined, seen: SeenVersion, input: ClaimInput, nonce: string): ClaimOutcome {
  const { version, modifiedAt, now } = input
  const last = state?.last
  const claim = state?.claim

  if (seen !== undefined) {
    return answerWith({ decision: 'duplicate', reason: seen === 'unchanged' ? 'version_unchanged' : 'version_committed' }, last, input)
  }
  // A Salesforce gap event is not ordered with the others and carries no state: it asks for a re-read of the record,
  // which a newer committed change (a delta of its own fields) does not replace. So it is never stale by modifiedAt.
  if (last?.modifiedAt !== undefined && modifiedAt !== undefined && modifiedAt < last.modifiedAt && !input.gap) {
    return answerWith({ decision: 'stale', reason: 'older_than_committed' }, last, input)
  }
  if (last?.changeType === 'deleted' && !(modifiedAt !== undefined && last.modifiedAt !== undefined && modifiedAt > last.modifiedAt)) {
    return answerWith({ decision: 'stale', reason: 'item_deleted' }, last, input)
  }
  if (claim && claim.expiresAt > now) {
    return answerWith({ decision: 'in_flight', reason: 'claim_live', retryAfterMs: Math.max(1, claim.expiresAt - now) }, last, input)
  }
  // A lapsed claim not yet committed or released may have written its state into the other side, so the committed
  // fingerprint is no longer known to be what both sides hold: no `unchanged` until that claim ends.
  if (
    last &&
    !claim &&
    present(input.fingerprint) &&
    input.fingerprint === last.fingerprint &&
    !input.gap &&
    !input.overflow &&
    !isDeleteLike(input.changeType) &&
    !isDeleteLike(last.changeType)
  ) {
    const outcome = answerWith({ decision: 'unchanged', reason: 'same_fingerprint' }, last, input)
    const newerModifiedAt =
      modifiedAt !== undefined && (last.modifiedAt === undefined || modifiedAt > last.modifiedAt) ? modifiedAt : last.modifiedAt
    // Moving the ordering mark keeps a later-arriving, older edit from overwriting this newer (identical) state.
    const moved = lastWith(last, version, now)
    if (newerModifiedAt !== undefined) moved.modifiedAt = newerModifiedAt
    outcome.unchanged = { version, last: moved }
    return outcome
  }

  const seq = (state?.seq ?? 0) + 1
  const reason = input.overflow ? 'gap_overflow' : input.gap ? 'gap_event' : claim ? 'claim_lapsed' : 'new_version'
  const held: HeldClaim = {
    token: mintToken(seq, nonce),
    version,
    expiresAt: now + input.leaseMs,
    modifiedAt,
    fingerprint: present(input.fingerprint) ? input.fingerprint : undefined,
    changeType: input.changeType,
    covers: input.covers !== undefined && input.covers.length > 0 ? input.covers : undefined,
  }
  const outcome = answerWith({ decision: 'process', reason, claim: { token: held.token, expiresAt: held.expiresAt } }, last, input)
  outcome.grant = { seq, claim: held }
  return outcome
}

/** Commit: the holder commits (even late); a repeated commit answers true; superseded or invented tokens change nothing. */
export function decideCommit(state: DedupeItemState | undefined, input: CommitInput): CommitOutcome {
  const { token } = input
  const sequence = readTokenSequence(token)
  if (!state || sequence === undefined) return { result: { committed: false, reason: 'unknown_token' } }
  if (state.committedTokens?.includes(token)) return { result: { committed: true } }
  if (state.releasedTokens?.includes(token)) return { result: { committed: false, reason: 'unknown_token' } }
  const claim = state.claim
  if (!claim || claim.token !== token) {
    return { result: { committed: false, reason: sequence < state.seq ? 'lease_expired' : 'unknown_token' } }
  }
  const version = present(input.version) ? input.version : claim.version
  let fingerprint = present(input.fingerprint) ? input.fingerprint : claim.fingerprint
  // A sync write landed in the item while this claim held it, so the state this flow read may be older or newer
  // than that write. Keeping either fingerprint could call a person's later return to the other state
  // `unchanged`; keeping none only costs the next event a /correlate call.
  if (state.writtenUnderClaim === token && fingerprint !== state.last?.fingerprint) fingerprint = undefined
  const last: LastCommitted = { version, committedAt: input.now }
  const written = input.modifiedAt ?? claim.modifiedAt
  const modifiedAt = committedModifiedAt(state.last?.modifiedAt, written, claim.changeType)
  if (modifiedAt !== undefined) last.modifiedAt = modifiedAt
  if (fingerprint !== undefined) last.fingerprint = fingerprint
  // A write older than the kept mark (a late gap event) leaves the kind of change with that mark: a late GAP_DELETE
  // must not date a tombstone at a moment the item was alive.
  const changeType = written !== undefined && modifiedAt !== written ? state.last?.changeType : claim.changeType
  if (changeType !== undefined) last.changeType = changeType
  const commit: NonNullable<CommitOutcome['commit']> = { last, token, history: { at: input.now, decision: 'committed', version, reason: 'committed' } }
  if (version !== claim.version) commit.claimedVersion = claim.version
  const covered = claim.covers?.filter((other, i, all) => other !== version && other !== claim.version && all.indexOf(other) === i)
  if (covered !== undefined && covered.length > 0) commit.covered = covered
  return { result: { committed: true }, commit }
}

/**
 * The ordering mark a commit leaves: the newer of the committed one and the written one, so an undated commit, or
 * one whose modifiedAt is older, never lets an event older than an earlier commit through as `process`. An undated
 * delete leaves none: its moment is unknown, so only a dated event can be told apart from it, and none is newer.
 */
function committedModifiedAt(previous: number | undefined, written: number | undefined, changeType: string | undefined): number | undefined {
  if (written === undefined) return changeType === 'deleted' ? undefined : previous
  return previous !== undefined && previous > written ? previous : written
}

/** Release ends the claim only for the token that still holds it. */
export function decideRelease(state: DedupeItemState | undefined, token: string, now: number): ReleaseOutcome {
  const claim = state?.claim
  if (!claim || claim.token !== token) return { released: false }
  return { released: true, history: { at: now, decision: 'released', version: claim.version, reason: 'released' } }
}

/**
 * A sync write into the item (recorded by /correlate/confirm): the item now holds the written fingerprint, so a
 * person who sets it back to the state committed before the write is `process`, and the write's own echo is
 * `unchanged`. The ordering facts stay: modifiedAt and changeType keep deciding `stale`, and no version joins
 * the duplicate set. A held claim is left alone, only noted for its commit (see decideCommit).
 */
export function decideWritten(state: DedupeItemState | undefined, input: WrittenInput): WrittenOutcome | undefined {
  if (!present(input.fingerprint)) return undefined
  const last = lastWith(state?.last, WRITTEN_VERSION, input.now, input.fingerprint)
  const outcome: WrittenOutcome = {
    last,
    history: { at: input.now, decision: 'written', version: WRITTEN_VERSION, reason: 'written' },
  }
  if (state?.claim) outcome.underClaim = state.claim.token
  return outcome
}
