"""The Lua script of the Redis backend: a constant string, never built from data.

Every state change of a shared quota is one call of :data:`SYNC`; all variable data travels
in ``KEYS`` / ``ARGV``. Time comes from Redis ``TIME`` only: the client passes durations
("the reset is in X ms"), which the script turns into absolute Redis time.

Keys (one hash tag, so one Redis Cluster slot per quota):

* ``KEYS[1]`` state hash: ``base`` (first sequence number of this incarnation), ``gen`` (grant
  counter), ``lim``, ``per`` (ms), ``syn`` (synced from headers), ``nohdr``, ``rmin`` (lowest
  Remaining of the current server window), ``rst`` (reset, Redis ms), ``wk`` / ``swk``
  (current / stale window key: the server's reset epoch), ``mmk`` (grant counter when
  ``rmin`` was set), ``frz`` (frozen until, Redis ms), ``fst`` (freeze streak), ``snx``
  (smooth pacing: next slot).
* ``KEYS[2]`` leases in flight: sorted set, member = sequence number, score = expiry (ms).
* ``KEYS[3]`` permits that ended without information (still pending): member = sequence
  number, score = the grant counter when they ended (the core's ``done_mark``).
* ``KEYS[4]`` sliding log of grants while no header was seen: member = sequence number,
  score = grant time (ms).

ARGV: ``lease_ttl_ms, quota_limit, quota_period_ms, probe, reserve, max_in_flight, smooth,
n_high, n_low, n_settlements, n_heartbeats, n_adopt, known_base``, then 8 fields per
settlement (``kind`` of
``o`` observe / ``u`` unknown / ``r`` refund, ``seq``, ``status``, ``limit``, ``remaining``,
``reset_in_ms``, ``window``, ``retry_in_ms``; empty string = unknown), then the sequence
numbers whose leases to extend (heartbeat), then the sequence numbers of an earlier
incarnation still in flight in the caller's process (re-registered after a flush).

Reply: ``{granted, first_seq, base, available (-1 unlimited), limit (-1), reset_in_ms (-1),
frozen_in_ms, wait_ms (-1: no timed event), poll (1: capacity may come back at any
moment), synced, leases, done, period_ms (-1), resync (1: the state was lost since the
caller's last call; nothing else was done)}``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SYNC"]

SYNC: Final = r"""
local S, L, D, W = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease_ttl = tonumber(ARGV[1])
local q_lim = tonumber(ARGV[2])
local q_per = tonumber(ARGV[3])
local probe = ARGV[4] == '1'
local reserve = tonumber(ARGV[5]) or 0
local mif = tonumber(ARGV[6])
local smooth = ARGV[7] == '1'
local n_high = tonumber(ARGV[8]) or 0
local n_low = tonumber(ARGV[9]) or 0
local n_set = tonumber(ARGV[10]) or 0
local n_hb = tonumber(ARGV[11]) or 0
local n_adopt = tonumber(ARGV[12]) or 0
local known_base = tonumber(ARGV[13])

local function fmt(x) return string.format('%.0f', x) end

local raw = redis.call('HGETALL', S)
local h = {}
for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end
local base = tonumber(h['base'])
local gen, lim, per, syn, nohdr, rmin, rst, wk, swk, mmk, frz, fst, snx
if base == nil then
  -- fresh state (first use, expiry, FLUSHDB, restart): forget orphans, probe again
  base = tonumber(t[1]) * 1000000 + tonumber(t[2])
  gen = base
  redis.call('DEL', L, D, W)
  syn, nohdr, mmk, frz, fst = false, false, base, 0, 0
  lim, per = q_lim, q_per
else
  gen = tonumber(h['gen']) or base
  lim = tonumber(h['lim'])
  per = tonumber(h['per'])
  syn = h['syn'] == '1'
  nohdr = h['nohdr'] == '1'
  rmin = tonumber(h['rmin'])
  rst = tonumber(h['rst'])
  wk = tonumber(h['wk'])
  swk = tonumber(h['swk'])
  mmk = tonumber(h['mmk']) or base
  frz = tonumber(h['frz']) or 0
  fst = tonumber(h['fst']) or 0
  snx = tonumber(h['snx'])
end
if q_lim ~= nil and (lim == nil or lim > q_lim) then lim = q_lim end
if q_per ~= nil and per == nil then per = q_per end
local cap = (per or 86400000) + 60000
-- the caller last saw another incarnation: a restart or flush lost the state. Do nothing
-- this time but say so; the caller re-registers its requests in flight, then settles.
local resync = 0
if known_base ~= nil and known_base ~= base then
  resync = 1
  n_set, n_hb, n_adopt, n_high, n_low = 0, 0, 0, 0, 0
end
-- member counts, kept up to date below so that no check needs a ZCARD
local nl, nd, nw = 0, 0, 0
if h['base'] ~= nil then
  nl = redis.call('ZCARD', L)
  nd = redis.call('ZCARD', D)
  if not syn and per ~= nil then
    redis.call('ZREMRANGEBYSCORE', W, '-inf', now - per)
    nw = redis.call('ZCARD', W)
  end
end

-- writes to D are buffered: adds (score = gen) and one "drop below" threshold per call
local done_add = {}
local drop_to = nil

-- at the server's reset the bucket refills to Limit
local function roll()
  if rst == nil or now < rst then return end
  if lim ~= nil then rmin = lim end
  local old = rst
  if wk ~= nil then swk = wk; wk = nil end
  if per ~= nil then
    local steps = math.max(1, math.ceil((now - old) / per + 1e-12))
    rst = old + steps * per
    if rst <= now then rst = now + per end
  else
    rst = nil
  end
  -- permits that ended before the reset were counted in the old window
  if nd > 0 or #done_add > 0 then redis.call('DEL', D) end
  nd = 0
  done_add = {}
  drop_to = nil
  snx = nil
end

local function available()
  roll()
  if now < frz then return 0 end
  if syn and rmin ~= nil then return math.max(0, rmin - nl - nd) end
  if probe and not nohdr then
    if nl > 0 then return 0 end
    return 1
  end
  if lim ~= nil and per ~= nil then return math.max(0, lim - nw) end
  return nil
end

-- ``member`` ended without information: pending until a later r_min reflects it
local function add_done(member, already_in_d)
  done_add[#done_add + 1] = gen
  done_add[#done_add + 1] = member
  if not already_in_d then nd = nd + 1 end
end

local function flush_done()
  if #done_add > 0 then
    redis.call('ZADD', D, unpack(done_add))
    done_add = {}
  end
end

-- a new r_min came from the request granted as ``seq``: what ended before it is reflected
-- (applied once per call: entries added meanwhile score ``gen`` >= any seq and stay)
local function drop_reflected(seq)
  mmk = gen
  if drop_to == nil or seq > drop_to then drop_to = seq end
end

local function window_order(reset_at, window)
  if window ~= nil then
    if swk ~= nil and window <= swk + 0.5 then return -1 end
    if wk == nil then
      if swk ~= nil then return 1 end
      return 0
    end
    local tol = 0.5
    if per ~= nil then tol = math.min(0.5, per / 4000) end
    if window > wk + tol then return 1 end
    if window < wk - tol then return -1 end
    return 0
  end
  if reset_at == nil or rst == nil then return 0 end
  local tol = 1500
  if per ~= nil then tol = math.min(1500, per / 2) end
  if reset_at > rst + tol then return 1 end
  if reset_at < rst - tol then return -1 end
  return 0
end

local function freeze(retry_at, reset_at, remaining)
  local untl = retry_at
  if reset_at ~= nil and (remaining == nil or remaining == 0) then
    untl = math.max(untl or reset_at, reset_at)
  end
  if untl == nil or untl <= now then
    untl = now + math.min(1000 * 2 ^ math.min(fst, 30), cap)
  end
  fst = fst + 1
  frz = math.max(frz, math.min(untl, now + cap))
end

local function sync(seq, was_pending, remaining, reset_at, window)
  roll()
  if not syn then
    syn = true
    rmin = remaining
    rst = reset_at or (now + (per or 60000))
    wk = window
    drop_reflected(seq)
    if nw > 0 then redis.call('DEL', W) end
    nw = 0
    return
  end
  local order = window_order(reset_at, window)
  if order < 0 then return end  -- a late answer from an earlier window costs nothing now
  if order > 0 then
    if q_lim == nil and reset_at ~= nil and rst ~= nil then
      local gap = reset_at - rst
      if gap > 500 then
        if per == nil then per = gap else per = math.min(per, gap) end
      end
    end
    rmin = remaining
    rst = reset_at or rst
    wk = window
    swk = nil
    drop_reflected(seq)
    return
  end
  if reset_at ~= nil and reset_at > now then
    -- every estimate is a bound that is never early (the client's skew estimate never
    -- runs ahead of the server), so the tightest one of this window is the smallest
    if rst == nil then rst = reset_at else rst = math.min(rst, reset_at) end
  end
  if window ~= nil and wk == nil then wk = window end
  if remaining < rmin then
    rmin = remaining
    drop_reflected(seq)
  elseif was_pending and seq > mmk then
    add_done(fmt(seq), false)
  end
end

local function settle(member, in_flight, in_done, kind, status, olim, orem, reset_in, window,
                      retry_in)
  local seq = tonumber(member)
  local function undone()
    if in_done then
      nd = nd - redis.call('ZREM', D, member)
      in_done = false
    end
  end
  local was_pending = in_flight or in_done
  if kind == 'r' then
    undone()
    if nw > 0 then nw = nw - redis.call('ZREM', W, member) end
    return
  end
  if kind == 'u' then
    if was_pending then add_done(member, in_done) end
    if probe and not syn and seq == base + 1 then nohdr = true end
    return
  end
  if olim ~= nil then
    if q_lim ~= nil then lim = math.min(olim, q_lim) else lim = olim end
  end
  local throttled = status == 429
  local reset_at = nil
  if reset_in ~= nil then reset_at = math.min(math.max(now + reset_in, now), now + cap) end
  local retry_at = nil
  if retry_in ~= nil then retry_at = now + retry_in end
  if throttled then
    freeze(retry_at, reset_at, orem)
    undone()  -- a 429 was not processed
    was_pending = false
  elseif status == 503 and retry_at ~= nil then
    frz = math.max(frz, math.min(retry_at, now + cap))
  else
    fst = 0
  end
  if orem == nil then
    if was_pending then add_done(member, in_done) end
    if not syn and status >= 200 and status < 300 then nohdr = true end
    return
  end
  if lim ~= nil then orem = math.min(orem, lim) end
  undone()
  sync(seq, was_pending, orem, reset_at, window)
end

roll()
-- leases of crashed or stalled processes end without information
if nl > 0 then
  local expired = redis.call('ZRANGEBYSCORE', L, '-inf', now, 'LIMIT', 0, 256)
  if #expired > 0 then
    nl = nl - redis.call('ZREM', L, unpack(expired))
    for _, m in ipairs(expired) do add_done(m, false) end
  end
end

-- after a restart or flush, each process re-registers its requests still in flight (leases
-- of the lost incarnation, seq < base): they count again until they are answered
if n_adopt > 0 then
  local ext = {}
  local a = 14 + n_set * 8 + n_hb
  for i = 0, n_adopt - 1 do
    if tonumber(ARGV[a + i]) < base then
      ext[#ext + 1] = now + lease_ttl
      ext[#ext + 1] = ARGV[a + i]
    end
  end
  if #ext > 0 then nl = nl + redis.call('ZADD', L, 'NX', unpack(ext)) end
end

-- settlements: where is each lease now (in flight, ended, gone)? one ZMSCORE per set
if n_set > 0 then
  flush_done()
  local members, in_l, in_d = {}, {}, {}
  for i = 1, n_set do members[i] = ARGV[14 + (i - 1) * 8 + 1] end
  if nl > 0 then
    local scores = redis.call('ZMSCORE', L, unpack(members))
    local gone = {}
    for i = 1, n_set do
      if scores[i] then
        in_l[i] = true
        gone[#gone + 1] = members[i]
      end
    end
    if #gone > 0 then nl = nl - redis.call('ZREM', L, unpack(gone)) end
  end
  if nd > 0 then
    local ask, at = {}, {}
    for i = 1, n_set do
      if not in_l[i] then
        ask[#ask + 1] = members[i]
        at[#at + 1] = i
      end
    end
    if #ask > 0 then
      local scores = redis.call('ZMSCORE', D, unpack(ask))
      for j = 1, #ask do
        if scores[j] then in_d[at[j]] = true end
      end
    end
  end
  for i = 1, n_set do
    local a = 14 + (i - 1) * 8
    settle(members[i], in_l[i] == true, in_d[i] == true, ARGV[a], tonumber(ARGV[a + 2]) or 0,
           tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]),
           tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7]))
  end
end
flush_done()
if drop_to ~= nil and nd > 0 then
  nd = nd - redis.call('ZREMRANGEBYSCORE', D, '-inf', '(' .. fmt(drop_to))
end
drop_to = nil
if n_hb > 0 then
  local ext = {}
  local a = 14 + n_set * 8
  for i = 0, n_hb - 1 do
    ext[#ext + 1] = now + lease_ttl
    ext[#ext + 1] = ARGV[a + i]
  end
  redis.call('ZADD', L, 'XX', unpack(ext))
end

-- grants: callers at or above the reserve priority first, then the others
local reserve_n = 0
if reserve > 0 and lim ~= nil then reserve_n = math.ceil(reserve * lim) end
local first = gen + 1
local granted = 0
local want = n_high + n_low
local new_l, new_w = {}, {}
local function can_grant(need)
  if mif ~= nil and nl >= mif then return false end
  local avail = available()
  if avail ~= nil and avail - need <= 0 then return false end
  if smooth and syn and snx ~= nil and now < snx then return false end
  return true
end
while granted < want do
  local need = 0
  if granted >= n_high then need = reserve_n end
  if not can_grant(need) then break end
  gen = gen + 1
  granted = granted + 1
  local member = fmt(gen)
  new_l[#new_l + 1] = now + lease_ttl
  new_l[#new_l + 1] = member
  nl = nl + 1
  if not syn and per ~= nil then
    new_w[#new_w + 1] = now
    new_w[#new_w + 1] = member
    nw = nw + 1
  end
  if smooth and syn and rst ~= nil then
    local left = available() or 0
    snx = now + math.max(0, rst - now) / (left + 1)
  end
end

if #new_l > 0 then redis.call('ZADD', L, unpack(new_l)) end
if #new_w > 0 then redis.call('ZADD', W, unpack(new_w)) end

local avail = available()
local wait = -1
local poll = 0
if granted < want then
  local function cand(x)
    if x ~= nil and (wait < 0 or x < wait) then wait = math.max(0, x) end
  end
  if now < frz then
    cand(frz - now)
  else
    if rst ~= nil then cand(rst - now) end
    if snx ~= nil and now < snx then cand(snx - now) end
    if nl > 0 then
      local head = redis.call('ZRANGE', L, 0, 0, 'WITHSCORES')
      cand(tonumber(head[2]) - now)
      poll = 1
    end
    if nd > 0 and rmin ~= nil and rmin > 0 then poll = 1 end
    if nw > 0 and per ~= nil then
      local oldest = redis.call('ZRANGE', W, 0, 0, 'WITHSCORES')
      if oldest[2] ~= nil then cand(tonumber(oldest[2]) + per - now) end
    end
  end
end

local function put(x)
  if x == nil then return '' end
  if type(x) == 'boolean' then
    if x then return '1' end
    return '0'
  end
  return fmt(x)
end
local function putw(x)
  if x == nil then return '' end
  return string.format('%.3f', x)
end
redis.call('HSET', S, 'base', fmt(base), 'gen', fmt(gen), 'lim', put(lim), 'per', put(per),
  'syn', put(syn), 'nohdr', put(nohdr), 'rmin', put(rmin), 'rst', put(rst), 'wk', putw(wk),
  'swk', putw(swk), 'mmk', fmt(mmk), 'frz', fmt(frz), 'fst', fmt(fst), 'snx', put(snx))
local ttl = math.max(2 * (per or 3600000), 20 * lease_ttl, 60000) + 60000
redis.call('PEXPIRE', S, ttl)
if nl > 0 then redis.call('PEXPIRE', L, ttl) end
if nd > 0 then redis.call('PEXPIRE', D, ttl) end
if nw > 0 then redis.call('PEXPIRE', W, ttl) end

local function int(x)
  if x == nil then return -1 end
  return math.floor(x)
end
local reset_in = -1
if rst ~= nil then reset_in = math.max(0, rst - now) end
local synced = 0
if syn then synced = 1 end
return {granted, first, base, int(avail), int(lim), int(reset_in), int(math.max(0, frz - now)),
  int(wait), poll, synced, nl, nd, int(per), resync}
"""
