// The Lua behind the Redis DedupeStore: each step is one script over the item's one hash, so it is atomic and
// slot-local on Redis Cluster. On a single node the MANY forms run the steps of several items in one call. They implement domain/dedupe-rules.ts step for step; the shared contract suite
// holds both stores to the same answers.
//
// One hash per item keeps a claim to three Redis calls (HMGET, HSET, PEXPIRE), which is what the throughput
// target needs. Fields:
//   seq                     claims granted so far (tokens are "<seq>.<nonce>")
//   ct cv ce cm cf cc       the held claim: token, version, expiresAt, modifiedAt, fingerprint, changeType
//   cx                      the versions a claim covers, committed with it: "<token> <JSON array>" ('' for none).
//                           The token ties them to their claim: a sidecar from before covers neither writes nor
//                           deletes cx, so a commit takes them only from its own claim.
//   lv lm lf lc la          last committed: version, modifiedAt, fingerprint, changeType, committedAt
//   kt, rt                  recently committed / released tokens, space separated (5 of each kept)
//   wt                      the token of the claim that held the item when a sync write into it was recorded
//   meta                    JSON facts kept with the item
//   hi, h0..h19             history ring: entries written so far, and "at|decision|reason|version" per slot
//   vi, r0..r99, v:<ver>    remembered versions: a ring of the last 100 (slot -> version) and, per version,
//                           its kind and ring index ("c12" committed, "u13" unchanged) for the duplicate check
// Optional values travel as '' (absent). Numbers Redis stores come in as strings, so Lua never reformats them (the
// MANY scripts get them as JSON strings too: a JSON number decodes to a Lua number, printed with 14 digits at most).
import { REMEMBERED_TOKEN_LIMIT, HISTORY_LIMIT, VERSION_LIMIT, WRITTEN_VERSION } from '../../domain/dedupe-rules.js'

// Shared Lua pieces; each script includes only what it calls, since the chunk runs on every call.
const PUSH = `
local function push(w, field, value)
  w[#w + 1] = field
  w[#w + 1] = value
end
`
const REMEMBER = `
local function remember(w, hi, at, decision, reason, version)
  push(w, 'h' .. (hi % ${HISTORY_LIMIT}), at .. '|' .. decision .. '|' .. reason .. '|' .. version)
  push(w, 'hi', tostring(hi + 1))
end
`
const TOKENS = `
local function has_token(list, token)
  return string.find(' ' .. (list or '') .. ' ', ' ' .. token .. ' ', 1, true) ~= nil
end
local function add_token(list, token)
  local tokens = {}
  for t in string.gmatch(list or '', '%S+') do tokens[#tokens + 1] = t end
  tokens[#tokens + 1] = token
  while #tokens > ${REMEMBERED_TOKEN_LIMIT} do table.remove(tokens, 1) end
  return table.concat(tokens, ' ')
end
`
// A version's mark is deleted with its ring slot only if no later recording of the same version moved it.
const RECORD_VERSION = `
local function record_version(w, vi, kind, version)
  local slot = 'r' .. (vi % ${VERSION_LIMIT})
  if vi >= ${VERSION_LIMIT} then
    local old = redis.call('HGET', K, slot)
    if old then
      local mark = redis.call('HGET', K, 'v:' .. old)
      if mark and string.sub(mark, 2) == tostring(vi - ${VERSION_LIMIT}) then redis.call('HDEL', K, 'v:' .. old) end
    end
  end
  push(w, slot, version)
  push(w, 'v:' .. version, kind .. vi)
  push(w, 'vi', tostring(vi + 1))
end
`

/**
 * A (the arguments, from offset b): version, modifiedAt, changeType, fingerprint, flags ('g' gap, 'o' overflow), now,
 * ttlMs, nonce, meta JSON, expiresAt (now + leaseMs), covered versions (a JSON array, '' for none), superseded
 * versions to record in the history, farthest first (a JSON array, '' for none; see supersededHistory).
 * Reply: the string "decision|reason|token|number" (number: expiresAt on process, retryAfterMs on in_flight), or, when
 * something was committed, { "decision|reason|token|number|la|lm|lc", lf, lv }: version and fingerprint are free text,
 * so they travel as elements of their own. A flat reply costs Redis and the client less to encode and decode than an
 * array of nine.
 */
// One claim as a function of the item's key (K, an upvalue every helper sees) and the offset of its arguments in A
// (ARGV in the single script, the decoded JSON array in the MANY one), so both share it.
const CLAIM_FUNCTION = `
local function claim(b)
  local version, mod, ctype, fp, flags, now = A[b + 1], A[b + 2], A[b + 3], A[b + 4], A[b + 5], A[b + 6]
  local r = redis.call('HMGET', K, 'seq', 'ct', 'ce', 'lv', 'lm', 'lf', 'lc', 'la', 'hi', 'vi', 'v:' .. version)
  local ct, lv = r[2], r[4]
  local lm, lf, lc = r[5] or '', r[6] or '', r[7] or ''
  local seen = r[11]
  local modn, lmn, nown = tonumber(mod), tonumber(lm), tonumber(now)
  local hi = tonumber(r[9]) or 0
  local decision, reason, token, n = '', '', '', '0'
  if seen then
    decision = 'duplicate'
    reason = (string.sub(seen, 1, 1) == 'u') and 'version_unchanged' or 'version_committed'
  elseif lv and modn and lmn and modn < lmn and flags == '' then
    decision, reason = 'stale', 'older_than_committed'
  elseif lc == 'deleted' and not (modn and lmn and modn > lmn) then
    decision, reason = 'stale', 'item_deleted'
  elseif ct and tonumber(r[3]) and tonumber(r[3]) > nown then
    decision, reason, n = 'in_flight', 'claim_live', tostring(tonumber(r[3]) - nown)
  elseif lv and not ct and fp ~= '' and fp == lf and flags == '' and ctype ~= 'deleted' and ctype ~= 'undeleted'
      and lc ~= 'deleted' and lc ~= 'undeleted' then
    decision, reason = 'unchanged', 'same_fingerprint'
  else
    decision = 'process'
    if flags == '' then reason = ct and 'claim_lapsed' or 'new_version'
    elseif string.find(flags, 'o', 1, true) then reason = 'gap_overflow'
    else reason = 'gap_event' end
  end
  -- the batch events this decision supersedes, recorded before it (supersededHistory: none below a duplicate or an
  -- in_flight answer); 'hi' itself is written with the decision's own entry below
  if decision ~= 'duplicate' and decision ~= 'in_flight' and A[b + 12] ~= '' then
    local w = {}
    for _, other in ipairs(cjson.decode(A[b + 12])) do
      push(w, 'h' .. (hi % ${HISTORY_LIMIT}), now .. '|superseded|superseded|' .. other)
      hi = hi + 1
    end
    redis.call('HSET', K, unpack(w))
  end
  if decision == 'unchanged' then
    local newlm = lm
    if modn and (not lmn or modn > lmn) then newlm = mod end
    local w = { 'lv', version, 'lm', newlm, 'la', now }
    record_version(w, tonumber(r[10]) or 0, 'u', version)
    remember(w, hi, now, decision, reason, version)
    redis.call('HSET', K, unpack(w))
  elseif decision == 'process' then
    local seq = tostring((tonumber(r[1]) or 0) + 1)
    token = seq .. '.' .. A[b + 8]
    n = A[b + 10]
    -- the hot path: one literal HSET, no table
    redis.call('HSET', K, 'seq', seq, 'ct', token, 'cv', version, 'ce', n, 'cm', mod, 'cf', fp, 'cc', ctype,
      'cx', (A[b + 11] ~= '') and (token .. ' ' .. A[b + 11]) or '', 'h' .. (hi % ${HISTORY_LIMIT}), now .. '|process|' .. reason .. '|' .. version, 'hi', tostring(hi + 1))
  else
    redis.call('HSET', K, 'h' .. (hi % ${HISTORY_LIMIT}), now .. '|' .. decision .. '|' .. reason .. '|' .. version,
      'hi', tostring(hi + 1))
  end
  if A[b + 9] ~= '' then redis.call('HSET', K, 'meta', A[b + 9]) end
  -- the record lives ttlMs, and never ends before the claim that holds it: a lease may outlast the TTL
  -- Numbers go to Redis as strings: Redis 7.2.0-7.2.4 writes a Lua number that is a multiple of 1e8 as "1e+08" and
  -- refuses it as an integer (redis/redis#13113).
  local life, held = A[b + 7], tonumber((decision == 'process') and n or r[3])
  if held and held - nown > tonumber(life) then life = string.format('%d', held - nown) end
  redis.call('PEXPIRE', K, life)
  local head = decision .. '|' .. reason .. '|' .. token .. '|' .. n
  if lv then return { head .. '|' .. (r[8] or '') .. '|' .. lm .. '|' .. lc, lf, lv } end
  return head
end
`

const CLAIM_FUNCTIONS = `${PUSH}${REMEMBER}${RECORD_VERSION}${CLAIM_FUNCTION}`

export const CLAIM_LUA = `local K, A = KEYS[1], ARGV
${CLAIM_FUNCTIONS}
return claim(0)
`

/**
 * `call` once per key, in order: KEYS[i] with its `count` arguments from A[(i-1)*count+1]; one reply per key.
 * Single-node Redis only: on a Cluster the keys of one script must share a slot.
 *
 * The arguments of all items come as one JSON array of strings in ARGV[1], decoded by Redis' built-in cjson. Sent one
 * by one they cost the sidecar dear: ioredis runs Array.prototype.flat over every command's arguments, which on Node
 * 20 is slow per element (`node bench/flatten-cost.mjs` on the project's VM: building and writing a call of 100
 * claims took 2.6 us a claim one by one, 0.8 us as JSON). Redis reads the one string no slower than a thousand.
 */
const manyScript = (functions: string, call: string, count: number) => `local K
local A = cjson.decode(ARGV[1])
${functions}
local replies = {}
for i = 1, #KEYS do
  K = KEYS[i]
  replies[i] = ${call}((i - 1) * ${count})
end
return replies
`

/** Arguments per item in CLAIM_MANY_LUA: the arguments of CLAIM_LUA. */
export const CLAIM_ARG_COUNT = 12

/** Several claims in one call; the reply is one CLAIM_LUA reply per key. */
export const CLAIM_MANY_LUA = manyScript(CLAIM_FUNCTIONS, 'claim', CLAIM_ARG_COUNT)

/**
 * A (from offset b): token, version, modifiedAt, fingerprint (overrides; '' keeps the claim's), now, ttlMs.
 * Reply: 'committed' | 'lease_expired' | 'unknown_token'. The caller has already checked the token's shape.
 */
const COMMIT_FUNCTION = `
local function commit(b)
  local token, now = A[b + 1], A[b + 5]
  local r = redis.call('HMGET', K, 'seq', 'ct', 'cv', 'cm', 'cf', 'cc', 'kt', 'vi', 'hi', 'rt', 'wt', 'lf', 'cx', 'lm', 'lc')
  if not r[1] then return 'unknown_token' end
  if has_token(r[7], token) then return 'committed' end
  if has_token(r[10], token) then return 'unknown_token' end
  if r[2] ~= token then
    local sequence = tonumber(string.match(token, '^(%d+)%.'))
    if sequence and sequence < tonumber(r[1]) then return 'lease_expired' end
    return 'unknown_token'
  end
  local version = (A[b + 2] ~= '') and A[b + 2] or r[3]
  local fp = (A[b + 4] ~= '') and A[b + 4] or (r[5] or '')
  -- written into while this claim held the item: only the written fingerprint itself is kept
  if r[11] == token and fp ~= (r[12] or '') then fp = '' end
  local w = {}
  push(w, 'lv', version)
  -- the newer of the committed and the written modifiedAt; an undated delete keeps none (committedModifiedAt)
  local lm, prior, lc = (A[b + 3] ~= '') and A[b + 3] or (r[4] or ''), r[14] or '', r[6] or ''
  if lm == '' then
    if r[6] ~= 'deleted' then lm = prior end
  elseif prior ~= '' and tonumber(prior) > tonumber(lm) then
    -- a write older than the kept mark leaves the kind of change with it (decideCommit)
    lm, lc = prior, r[15] or ''
  end
  push(w, 'lm', lm)
  push(w, 'lf', fp)
  push(w, 'lc', lc)
  push(w, 'la', now)
  push(w, 'kt', add_token(r[7], token))
  local vi = tonumber(r[8]) or 0
  -- the older versions the claim covers, then the one it was granted for when the commit names another (what was
  -- written): all count as committed
  local cx = r[13]
  if cx and string.sub(cx, 1, #token + 1) == token .. ' ' then
    local recorded = {}
    for _, other in ipairs(cjson.decode(string.sub(cx, #token + 2))) do
      if other ~= version and other ~= r[3] and not recorded[other] then
        recorded[other] = true
        record_version(w, vi, 'c', other)
        vi = vi + 1
      end
    end
  end
  if r[3] ~= version then
    record_version(w, vi, 'c', r[3])
    vi = vi + 1
  end
  record_version(w, vi, 'c', version)
  remember(w, tonumber(r[9]) or 0, now, 'committed', 'committed', version)
  redis.call('HDEL', K, 'ct', 'cv', 'ce', 'cm', 'cf', 'cc', 'cx', 'wt')
  redis.call('HSET', K, unpack(w))
  redis.call('PEXPIRE', K, A[b + 6])
  return 'committed'
end
`
const COMMIT_FUNCTIONS = `${PUSH}${REMEMBER}${TOKENS}${RECORD_VERSION}${COMMIT_FUNCTION}`

export const COMMIT_LUA = `local K, A = KEYS[1], ARGV
${COMMIT_FUNCTIONS}
return commit(0)
`

/** Arguments per item in COMMIT_MANY_LUA: the arguments of COMMIT_LUA. */
export const COMMIT_ARG_COUNT = 6

/** Several commits in one call; the reply is one COMMIT_LUA reply per key. */
export const COMMIT_MANY_LUA = manyScript(COMMIT_FUNCTIONS, 'commit', COMMIT_ARG_COUNT)

/**
 * ARGV: token, now, and 'n' when the first is only the token's nonce (a claim whose call failed: its token never came
 * back, see RedisDedupeStore.abandon). Reply: 1 released, 0 not the holder. Keeps the item's remaining lifetime.
 */
export const RELEASE_LUA = `${PUSH}${REMEMBER}${TOKENS}
local r = redis.call('HMGET', KEYS[1], 'ct', 'cv', 'hi', 'rt')
if not r[1] then return 0 end
if ARGV[3] == 'n' then
  if string.sub(r[1], -(#ARGV[1] + 1)) ~= '.' .. ARGV[1] then return 0 end
elseif r[1] ~= ARGV[1] then
  return 0
end
local w = { 'rt', add_token(r[4], r[1]) }
remember(w, tonumber(r[3]) or 0, ARGV[2], 'released', 'released', r[2])
redis.call('HDEL', KEYS[1], 'ct', 'cv', 'ce', 'cm', 'cf', 'cc', 'cx', 'wt')
redis.call('HSET', KEYS[1], unpack(w))
return 1
`

/**
 * ARGV: fingerprint (never ''), now, ttlMs. Reply: 1. The item now holds the written fingerprint (decideWritten):
 * lm, lc, the version ring and the claim stay; a new item gets seq 0 so it reads as a record.
 */
export const WRITTEN_LUA = `local K = KEYS[1]
${PUSH}${REMEMBER}
local r = redis.call('HMGET', K, 'seq', 'ct', 'hi', 'ce')
local w = { 'lv', '${WRITTEN_VERSION}', 'lf', ARGV[1], 'la', ARGV[2] }
if not r[1] then push(w, 'seq', '0') end
if r[2] then push(w, 'wt', r[2]) end
remember(w, tonumber(r[3]) or 0, ARGV[2], 'written', 'written', '${WRITTEN_VERSION}')
redis.call('HSET', K, unpack(w))
-- never ending before the claim that holds the item (as a claim's write)
local life, held = ARGV[3], tonumber(r[4])
if held and held - tonumber(ARGV[2]) > tonumber(life) then life = string.format('%d', held - tonumber(ARGV[2])) end
redis.call('PEXPIRE', K, life)
return 1
`
