// The Lua behind the Redis CorrelateStore: each step is one script over one tenant's keys (one hash slot).
// They implement the same rules as memory/correlate.ts; the shared contract suite holds both to the same answers.
//
// Keys, all under the tenant's prefix P = css:{c:<tenant>}: (ids URI-encoded):
//   P link:<system>:<id>  hash, one side of a pair: cp (counterpart id), cpe (cp encoded), st (linked | tombstoned),
//                         base (baseline JSON), bfp (the baseline's fingerprint), role, cprole (series roles),
//                         at (linkedAt), up (updatedAt), exp (tombstones only: when it stops counting), rp ('1' on
//                         a tombstone made by a confirm's replaces). Both sides are written together.
//   P res:<system>:<id>   hash, the create reservation: tok, exp, ck (createKey), role, gc (exp + grace), by (the
//                         claimToken that took it, when one was sent)
//   P made:<system>:<id>  hash, what we wrote into the unlinked item's copy: fp (fingerprint), st (state JSON), exp
//                         (when it stops counting). Written with every reservation that has a state (dropped by one
//                         without), it lives as the ck entry does, past the reservation, until the pair is linked
//                         with a baseline (hint link or confirm). An unlink of a pair with a baseline writes it for
//                         both items from that baseline. A hint
//                         link compares the copy's state with it.
//   P echo:<system>:<id>  sorted set, the echo ledger: member = written fingerprint, score = when it stops counting.
//                         Every write replaces it; only the newest member (highest score) counts, which also holds
//                         for sets written with several members by earlier versions. The live write it replaced
//                         stays beside it, scored minus the time it was replaced (earlier_write for one lease).
//   P ck:<createKey>      hash, whom a createKey was handed out for: sys, id, ide (id encoded), exp (when it stops
//                         counting). Written with every reservation; a counterpartHint { createKey } is resolved from it.
//                         Keyed by the derived key, without the delete time.
//   P del:<system>:<id>   string "<deletedAt>:<expiresAt>": when the item's last pair was deleted (epoch ms), appended
//                         to the derived key of its next copy (createKeyAfterDelete), until expiresAt (max(tombstone
//                         TTL, DELETE_MARK_MIN_TTL_MS) later); once it keys a copy, "<deletedAt>:0" without a TTL.
// A counterpart's keys are found from cpe inside the script: undeclared, but in the same slot by the hash tag.
// Optional values travel as '' (absent); every time is judged against the caller's `now`, TTLs only collect garbage.
// Replies are JSON text, the same under RESP2 and RESP3.

const HELPERS = `
local function side(key, now)
  local h = redis.call('HGETALL', key)
  if #h == 0 then return false end
  local r = {}
  for i = 1, #h, 2 do r[h[i]] = h[i + 1] end
  if r.exp and tonumber(r.exp) <= now then return false end
  return r
end
local function put(key, t, pttl)
  redis.call('DEL', key)
  local args = {}
  for k, v in pairs(t) do
    if v and v ~= '' then
      args[#args + 1] = k
      args[#args + 1] = v
    end
  end
  redis.call('HSET', key, unpack(args))
  if pttl then redis.call('PEXPIRE', key, pttl) end
end
local function clash(a, b)
  return a and b and a ~= '' and b ~= '' and ((a == 'series_master') ~= (b == 'series_master'))
end
local function reservedRole(key, now)
  local r = redis.call('HMGET', key, 'role', 'gc')
  if r[1] and r[2] and tonumber(r[2]) > now then return r[1] end
  return ''
end
-- the latest write into an item is its only echo (the highest score; the write it replaced has a negative one)
local function latestWrite(key, fp, now)
  local top = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
  return top[1] == fp and tonumber(top[2]) > now
end
`

/**
 * KEYS: self link, self reservation, self ledger, hint link, hint reservation (the self keys again without an id
 *       hint), this item's createKey entry, the hinted createKey's entry (this item's again without a createKey hint),
 *       self delete mark, self create state, hint create state (self's again without an id hint).
 * ARGV: prefix, system, other system, itemId, itemId encoded, changeType, fingerprint, echoBySource ('1' | ''),
 *       hint itemId, hint itemId encoded, role, token, createKey, now, reservation expiresAt, reservation gc time,
 *       reservation pttl, hint by createKey ('1' | ''), createKey entry expiresAt, createKey entry pttl, state JSON,
 *       ledger expiresAt, ledger pttl, reread ('1' | '': no earlier_write), claimToken ('' none).
 * A hint by createKey becomes an id hint here when the entry names an item of the other system; its link and
 * reservation keys are then built from the prefix (undeclared, but in the same slot by the hash tag).
 * Reply JSON: { a: action, r: reason, t: target id ('' none), retry?, link?: { sys, id, s: side }, k?: the createKey
 * handed out with create, tok?, exp?: the held reservation's token and expiresAt when the same claimToken asks again,
 * n?: 1 on an update whose pair this call linked }.
 */
export const DECIDE_LUA = `${HELPERS}
local prefix, sys, other, id, ide, ctype, fp, echo = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local hid, hide, role, nowText = ARGV[9], ARGV[10], ARGV[11], ARGV[14]
local now = tonumber(nowText)
-- with a state the state decides: the source signals say who wrote last, not whether a person wrote since
local byState = fp ~= '' and ctype ~= 'deleted'
local hintLink, hintRes, hintMade = KEYS[4], KEYS[5], KEYS[10]
if ARGV[18] == '1' then
  local ck = redis.call('HMGET', KEYS[7], 'sys', 'id', 'ide', 'exp')
  if ck[1] == other and ck[2] and ck[3] and tonumber(ck[4] or '') and tonumber(ck[4]) > now then
    hid, hide = ck[2], ck[3]
    local at = other .. ':' .. hide
    hintLink, hintRes, hintMade = prefix .. 'link:' .. at, prefix .. 'res:' .. at, prefix .. 'made:' .. at
  end
end
local function reply(a, r, t, extra)
  local out = extra or {}
  out.a, out.r, out.t = a, r, t
  return cjson.encode(out)
end
local function ledgerHit()
  if fp == '' then return false end
  return latestWrite(KEYS[3], fp, now)
end
-- a state equal to the write our latest one replaced, less than a lease ago (the request's: reservation expiresAt
-- minus now), while the latest is live: ms until it counts as a change (earlier_write in memory/correlate.ts)
local function earlierWrite()
  if fp == '' then return nil end
  local score = tonumber(redis.call('ZSCORE', KEYS[3], fp) or '')
  if not score or score >= 0 then return nil end
  local top = redis.call('ZREVRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if not (top[2] and tonumber(top[2]) > now) then return nil end
  local untilAt = -score + (tonumber(ARGV[15]) - now)
  if untilAt > now then return untilAt - now end
  return nil
end

local self = side(KEYS[1], now)
if self and self.st == 'tombstoned' then
  if ctype ~= 'undeleted' then
    return reply('skip', 'tombstoned', self.cp, { link = { sys = sys, id = id, s = self } })
  end
  -- restored after a resolution made it anew: the meeting already lives on in that copy, so this one is a second
  -- (while that pair lives)
  local source = self.rp == '1' and side(prefix .. 'link:' .. other .. ':' .. self.cpe, now)
  if source and source.st == 'linked' then return reply('skip', 'replaced', self.cp, { link = { sys = sys, id = id, s = self } }) end
  -- restored after its pair was deleted: its own tombstone ends and it is created anew (the counterpart's stays); our
  -- last write into it is no echo of its state as restored
  redis.call('DEL', KEYS[1], KEYS[3])
  self = false
end

if self then
  if clash(role, self.cprole) then
    return reply('skip', 'series_mismatch', self.cp, { link = { sys = sys, id = id, s = self } })
  end
  if role ~= '' and role ~= self.role then
    self.role = role
    redis.call('HSET', KEYS[1], 'role', role)
    local cpKey = prefix .. 'link:' .. other .. ':' .. self.cpe
    if redis.call('HGET', cpKey, 'cp') == id then redis.call('HSET', cpKey, 'cprole', role) end
  end
  local link = { link = { sys = sys, id = id, s = self } }
  local echoed
  if byState then
    echoed = ledgerHit() or self.bfp == fp
  else
    echoed = echo == '1' or (ctype == 'created' and hid ~= '' and hid == self.cp)
  end
  if echoed then return reply('skip', 'echo', self.cp, link) end
  local wait = byState and ARGV[24] ~= '1' and earlierWrite()
  if wait then
    link.retry = wait
    return reply('skip', 'earlier_write', self.cp, link)
  end
  if ctype == 'deleted' then return reply('delete', 'linked', self.cp, link) end
  -- the item moved past what we wrote: a later change back to that state is a person's edit
  if fp ~= '' then redis.call('DEL', KEYS[3]) end
  return reply('update', 'linked', self.cp, link)
end

-- an unlinked item restored from the recycle bin is created anew: its stamp names a counterpart its delete took away
if ctype == 'undeleted' then hid = '' end
local hinted = false
if hid ~= '' then hinted = side(hintLink, now) end
-- a hint naming the tombstone of this item's own deleted pair: the item came back and is unlinked like any new item
if hinted and hinted.st == 'tombstoned' and hinted.cp == id then hid = '' end

if hid ~= '' then
  if hinted and hinted.st == 'linked' and hinted.cp ~= id then
    return reply('skip', 'conflicting_link', hid, { link = { sys = other, id = hid, s = hinted } })
  end
  if hinted and hinted.st == 'tombstoned' then
    return reply('skip', 'tombstoned', hid, { link = { sys = other, id = hid, s = hinted } })
  end
  local hrole = reservedRole(hintRes, now)
  if hrole == '' and hinted and hinted.role then hrole = hinted.role end
  if clash(role, hrole) then return reply('skip', 'series_mismatch', hid) end
  -- our own create coming back before (or without) its confirm: link the pair now, with what the create wrote
  -- (see linkHinted in memory/correlate.ts): the create's state while it is kept, else the copy's state taken as ours
  local base, bfp, written, isEcho = '', '', '', true
  local made = redis.call('HMGET', hintMade, 'fp', 'st', 'exp')
  if made[1] and tonumber(made[3] or '') and tonumber(made[3]) > now then
    written = made[1]
    base = made[2] or ''
    if base ~= '' then bfp = written end
    isEcho = (not byState) or fp == written
  elseif byState then
    written, base = fp, ARGV[21]
    if base ~= '' then bfp = fp end
  end
  local mine = { cp = hid, cpe = hide, st = 'linked', base = base, bfp = bfp, role = role, cprole = hrole, at = nowText, up = nowText }
  put(KEYS[1], mine)
  put(hintLink, { cp = id, cpe = ide, st = 'linked', base = base, bfp = bfp, role = hrole, cprole = role, at = nowText, up = nowText })
  redis.call('DEL', hintRes)
  -- linked now with a baseline, the link holds what we wrote (an unlink puts it back)
  if bfp ~= '' then redis.call('DEL', hintMade) end
  redis.call('DEL', KEYS[3])
  local link = { link = { sys = sys, id = id, s = mine } }
  -- the stamp proves the pair, so a delete of the copy is a linked delete
  if ctype == 'deleted' then
    if echo == '1' then return reply('skip', 'echo', hid, link) end
    link.n = 1
    return reply('delete', 'linked', hid, link)
  end
  if not isEcho then
    link.n = 1
    return reply('update', 'linked', hid, link)
  end
  if written ~= '' then
    redis.call('ZADD', KEYS[3], ARGV[22], written)
    redis.call('PEXPIRE', KEYS[3], ARGV[23])
  end
  return reply('skip', 'echo', hid, link)
end

-- what a create writes replaces the last one's; a create asked without a state writes what we cannot know
local function rememberCreated()
  if fp ~= '' then
    put(KEYS[9], { fp = fp, st = ARGV[21], exp = ARGV[19] }, ARGV[20])
  else
    redis.call('DEL', KEYS[9])
  end
end
if echo == '1' or ledgerHit() then return reply('skip', 'echo', '') end
local held = tonumber(redis.call('HGET', KEYS[2], 'exp') or '')
if held and held > now then
  -- the same claim asking again (its answer was lost): the reservation it took, writing what it sends now; only a
  -- create, with half the request's lease (ARGV[15] - now) or more left (memory/correlate.ts)
  local r = redis.call('HMGET', KEYS[2], 'tok', 'ck', 'by')
  local again = ARGV[25] ~= '' and r[3] == ARGV[25] and ctype ~= 'deleted' and role ~= 'occurrence'
    and role ~= 'exception' and (held - now) * 2 >= tonumber(ARGV[15]) - now
  if not again then
    return reply('skip', 'create_in_flight', '', { retry = math.max(1, held - now) })
  end
  rememberCreated()
  return reply('create', 'new_item', '', { k = r[2], tok = r[1], exp = held })
end
if ctype == 'deleted' then return reply('skip', 'no_link_for_delete', '') end
if role == 'occurrence' or role == 'exception' then return reply('skip', 'series_occurrence', '') end
-- the createKey of this copy: the derived key, with the time the item's last pair was deleted after it
local ck = ARGV[13]
local mark = redis.call('GET', KEYS[8])
if mark then
  local deletedAt, markUntil = string.match(mark, '^(%d+):(%d+)$')
  if deletedAt and (markUntil == '0' or tonumber(markUntil) > now) then
    ck = ck .. '-' .. deletedAt
    -- a mark that keys a copy stays for good: that copy's retries, and a create after an unlink, must find its key
    if markUntil ~= '0' then redis.call('SET', KEYS[8], deletedAt .. ':0') end
  end
end
put(KEYS[2], { tok = ARGV[12], exp = ARGV[15], ck = ck, role = role, gc = ARGV[16], by = ARGV[25] }, ARGV[17])
put(KEYS[6], { sys = sys, id = id, ide = ide, exp = ARGV[19] }, ARGV[20])
rememberCreated()
return reply('create', 'new_item', '', { k = ck })
`

/**
 * KEYS: source link, target link, source reservation, target reservation, target ledger, source delete mark, target
 *       delete mark, the replaced item's link and delete mark (ConfirmInput.replaces; the source's own keys again
 *       without one), source create state, target create state.
 * ARGV: source system, source id, source id encoded, target system, target id, target id encoded, written
 *       fingerprint, baseline JSON, deleted ('1' | ''), now, ledger expiresAt, ledger pttl, tombstone expiresAt,
 *       tombstone pttl, baseline fingerprint ('' without a baseline or when it does not read), delete mark expiresAt,
 *       delete mark pttl, the replaced item's id ('' for none).
 * Reply JSON: { linked: 0 | 1, reason? (conflicting_link | tombstoned), elsewhere? (1: the target is linked to another
 * item), link: { sys, id, s: side } }.
 */
export const CONFIRM_LUA = `${HELPERS}
local ssys, sid, senc, tsys, tid, tenc = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local fp, baseline, deleted, nowText = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local now = tonumber(nowText)
local ls, lt = side(KEYS[1], now), side(KEYS[2], now)
-- the write landed whatever the link's answer, so its echo is recorded even when the confirm is refused (not on a
-- target linked to another item: that pair's own side must hear it was overwritten); it replaces the target's ledger
-- entry, and the same live entry again (a repeated confirm) changes nothing
local targetElsewhere = lt and lt.st == 'linked' and lt.cp ~= sid
local function recordWrite()
  if fp ~= '' and not latestWrite(KEYS[5], fp, now) then
    -- the live write this one replaces stays, scored minus the time it was replaced (earlierWrite)
    local top = redis.call('ZREVRANGE', KEYS[5], 0, 0, 'WITHSCORES')
    redis.call('DEL', KEYS[5])
    redis.call('ZADD', KEYS[5], ARGV[11], fp)
    if top[1] and tonumber(top[2]) > now then redis.call('ZADD', KEYS[5], '-' .. nowText, top[1]) end
    redis.call('PEXPIRE', KEYS[5], ARGV[12])
  end
end
-- a resolution's create replacing the source's counterpart, which is gone: that item is tombstoned, pointing at the
-- source, and the source is free for the target
local rid = ARGV[18]
local relink = rid ~= '' and deleted ~= '1' and not targetElsewhere and not (lt and lt.st == 'tombstoned') and ls
  and ls.st == 'linked' and ls.cp == rid and rid ~= tid
if relink then
  local old = side(KEYS[8], now) or { base = ls.base, bfp = ls.bfp, role = ls.cprole, cprole = ls.role, at = ls.at }
  put(KEYS[8], { cp = sid, cpe = senc, st = 'tombstoned', base = old.base, bfp = old.bfp, role = old.role, cprole = old.cprole,
    at = old.at, up = nowText, exp = ARGV[13], rp = '1' }, ARGV[14])
  -- as after any delete: a copy made anew of the replaced item (restored) gets a createKey of its own
  redis.call('SET', KEYS[9], nowText .. ':' .. ARGV[16], 'PX', ARGV[17])
end
if not relink and ls and ls.st == 'linked' and ls.cp ~= tid then
  if targetElsewhere then
    return cjson.encode({ linked = 0, reason = 'conflicting_link', elsewhere = 1, link = { sys = ssys, id = sid, s = ls } })
  end
  recordWrite()
  return cjson.encode({ linked = 0, reason = 'conflicting_link', link = { sys = ssys, id = sid, s = ls } })
end
if targetElsewhere then
  return cjson.encode({ linked = 0, reason = 'conflicting_link', elsewhere = 1, link = { sys = tsys, id = tid, s = lt } })
end
local samePair = ls and lt and ls.cp == tid and lt.cp == sid
local srole = (ls and ls.role) or reservedRole(KEYS[3], now)
local trole = (lt and lt.role) or ''
local kept = (ls and ls.cp == tid and ls) or (lt and lt.cp == sid and lt) or {}
local base, bfp = baseline, ARGV[15]
if base == '' then base, bfp = kept.base or '', kept.bfp or '' end
local function write(st, at, exp, pttl)
  local mine = { cp = tid, cpe = tenc, st = st, base = base, bfp = bfp, role = srole, cprole = trole, at = at, up = nowText, exp = exp }
  put(KEYS[1], mine, pttl)
  put(KEYS[2], { cp = sid, cpe = senc, st = st, base = base, bfp = bfp, role = trole, cprole = srole, at = at, up = nowText, exp = exp }, pttl)
  return mine
end

if deleted == '1' then
  -- a repeat: the pair's tombstones, or one of them with the other item unlinked since (restored, its copy in the
  -- making); tombstoning that item again would drop its re-create
  local sdead = ls and ls.st == 'tombstoned' and ls.cp == tid
  local tdead = lt and lt.st == 'tombstoned' and lt.cp == sid
  if (sdead and tdead) or (sdead and not lt) then
    return cjson.encode({ linked = 0, link = { sys = ssys, id = sid, s = ls } })
  end
  if tdead and not ls then
    return cjson.encode({ linked = 0, link = { sys = tsys, id = tid, s = lt } })
  end
  redis.call('DEL', KEYS[3], KEYS[4], KEYS[10], KEYS[11])
  local at = (samePair and ls.at) or nowText
  local mine = write('tombstoned', at, ARGV[13], ARGV[14])
  -- the copy is gone: a copy made anew of either item gets a createKey of its own
  local mark = nowText .. ':' .. ARGV[16]
  redis.call('SET', KEYS[6], mark, 'PX', ARGV[17])
  redis.call('SET', KEYS[7], mark, 'PX', ARGV[17])
  return cjson.encode({ linked = 0, link = { sys = ssys, id = sid, s = mine } })
end

-- a late confirm never revives a deleted pair
if ls and ls.st == 'tombstoned' then
  recordWrite()
  return cjson.encode({ linked = 0, reason = 'tombstoned', link = { sys = ssys, id = sid, s = ls } })
end
if lt and lt.st == 'tombstoned' then
  recordWrite()
  return cjson.encode({ linked = 0, reason = 'tombstoned', link = { sys = tsys, id = tid, s = lt } })
end
redis.call('DEL', KEYS[3])
-- past the checks above, the same pair means both sides are linked to each other already
local mine = ls
if not (samePair and (baseline == '' or baseline == ls.base)) then
  local at = nowText
  if samePair then at = ls.at end
  mine = write('linked', at, '', nil)
end
-- linked with a baseline, the link holds what we wrote (an unlink puts it back as what the copies hold)
if mine.bfp and mine.bfp ~= '' then redis.call('DEL', KEYS[10], KEYS[11]) end
recordWrite()
return cjson.encode({ linked = 1, link = { sys = ssys, id = sid, s = mine } })
`

/**
 * KEYS: self link, self reservation, self ledger, self create state. ARGV: prefix, other system, itemId, now, create
 * state expiresAt, create state pttl.
 * Reply: 1 when a link or tombstone was removed, else 0.
 */
export const UNLINK_LUA = `${HELPERS}
local prefix, other, id = ARGV[1], ARGV[2], ARGV[3]
local h = side(KEYS[1], tonumber(ARGV[4]))
local removed = 0
if h then
  removed = 1
  local cpKey = prefix .. 'link:' .. other .. ':' .. h.cpe
  if redis.call('HGET', cpKey, 'cp') == id then redis.call('DEL', cpKey) end
  redis.call('DEL', prefix .. 'res:' .. other .. ':' .. h.cpe, prefix .. 'echo:' .. other .. ':' .. h.cpe)
  -- what we last synced into either copy is the pair's baseline: a copy coming back by its hint is compared with it
  if h.st == 'linked' and h.bfp and h.bfp ~= '' then
    for _, made in ipairs({ KEYS[4], prefix .. 'made:' .. other .. ':' .. h.cpe }) do
      put(made, { fp = h.bfp, st = h.base or '', exp = ARGV[5] }, ARGV[6])
    end
  end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return removed
`
