"""Lua scripts that make the Redis store's commits atomic.

A replica decides on a snapshot it read without locks, then commits with one
script that checks what must not have changed (the conversation's version, a
decision that has no outcome yet) and admits quota reservations against the
live window. If a check fails nothing is written and the replica decides
again on a fresh snapshot. This is how several replicas never over-admit a
quota (RM-QUOTA-002) and never interleave two turns of one conversation
(RM-ROUTE-050). Operations travel as one JSON document, decoded with cjson.
"""

from __future__ import annotations

_WINDOW = """
local function window(qt, qe, kind, len, now)
  local start
  if kind == 1 then start = now - len + 1 else start = now - (now % len) end
  local ids = redis.call('ZRANGEBYSCORE', qt, start, '+inf')
  local r, t, c = 0, 0, 0
  local oldest = -1
  if #ids > 0 then
    local values = redis.call('HMGET', qe, unpack(ids))
    for i, v in ipairs(values) do
      if v then
        local a, b, d, at = string.match(v, '([^,]+),([^,]+),([^,]+),([^,]+)')
        r = r + tonumber(a); t = t + tonumber(b); c = c + tonumber(d)
        if oldest < 0 or tonumber(at) < oldest then oldest = tonumber(at) end
      end
    end
  end
  return r, t, c, oldest, start
end

local function prune(qt, qe, len, now)
  local old = redis.call('ZRANGEBYSCORE', qt, '-inf', now - 2 * len)
  if #old > 0 then
    redis.call('HDEL', qe, unpack(old))
    redis.call('ZREMRANGEBYSCORE', qt, '-inf', now - 2 * len)
  end
end

local function writes(ops)
  for _, s in ipairs(ops['set'] or {}) do
    if s[3] and s[3] > 0 then
      redis.call('SET', s[1], s[2], 'PXAT', s[3])
    elseif s[4] and s[4] > 0 then
      redis.call('SET', s[1], s[2], 'PX', s[4])
    else
      redis.call('SET', s[1], s[2])
    end
  end
  for _, k in ipairs(ops['del'] or {}) do redis.call('DEL', k) end
end
"""

# ARGV[1]: now; then per quota: kind, length. KEYS: qt and qe per quota.
# Returns per quota: requests, tokens, cost, oldest counted event (-1: none), window start.
READ_WINDOWS = (
    _WINDOW
    + """
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS / 2 do
  local kind, len = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local r, t, c, oldest, start = window(KEYS[2 * i - 1], KEYS[2 * i], kind, len, now)
  table.insert(out, tostring(r)); table.insert(out, tostring(t)); table.insert(out, tostring(c))
  table.insert(out, tostring(oldest)); table.insert(out, tostring(start))
end
return out
"""
)

# ARGV[1]: JSON {now, version?, occupancy, set, del, quotas, share?}. Returns {1} or {0, why, detail}.
COMMIT_ROUTE = (
    _WINDOW
    + """
local ops = cjson.decode(ARGV[1])
local now = ops['now']
local v = ops['version']
if v then
  local current = tonumber(redis.call('GET', v[1]) or '0')
  if current ~= v[2] then return {0, 'conflict', v[1]} end
end
for _, o in ipairs(ops['occupancy'] or {}) do
  if (redis.call('GET', o[1]) or '') ~= o[2] then return {0, 'conflict', o[1]} end
end
for _, q in ipairs(ops['quotas'] or {}) do
  local r, t, c = window(q['qt'], q['qe'], q['kind'], q['len'], now)
  local over_r = q['lr'] > 0 and r + q['r'] > q['lr']
  local over_t = q['lt'] > 0 and t + q['t'] > q['lt']
  local over_c = q['lc'] > 0 and c + q['c'] > q['lc']
  if over_r or over_t or over_c then
    return {0, 'quota', q['quota']}
  end
end
if v then redis.call('INCR', v[1]) end
for _, q in ipairs(ops['quotas'] or {}) do
  redis.call('ZADD', q['qt'], q['at'], q['id'])
  redis.call('HSET', q['qe'], q['id'], string.format('%.0f,%.0f,%.0f,%.0f', q['r'], q['t'], q['c'], q['at']))
  prune(q['qt'], q['qe'], q['len'], now)
end
writes(ops)
for _, o in ipairs(ops['occupancy'] or {}) do redis.call('SET', o[1], o[3]) end
local s = ops['share']
if s then
  redis.call('LPUSH', s['key'], s['entry'])
  redis.call('LTRIM', s['key'], 0, s['max'] - 1)
  redis.call('SET', s['ikey'], s['integral'])
end
return {1}
"""
)

# ARGV[1]: JSON {out_key, dec_key, version?, occupancy, set, del, events, health?}. Returns {1} or {0, why}.
COMMIT_OUTCOME = (
    _WINDOW
    + """
local ops = cjson.decode(ARGV[1])
if redis.call('EXISTS', ops['out_key']) == 1 then return {0, 'duplicate'} end
local record = redis.call('GET', ops['dec_key'])
if not record then return {0, 'missing'} end
if cjson.decode(record)['key'] ~= '' then return {0, 'reported'} end
local v = ops['version']
if v then
  local current = tonumber(redis.call('GET', v[1]) or '0')
  if current ~= v[2] then return {0, 'conflict'} end
end
for _, o in ipairs(ops['occupancy'] or {}) do
  if (redis.call('GET', o[1]) or '') ~= o[2] then return {0, 'conflict'} end
end
if v then redis.call('INCR', v[1]) end
for _, o in ipairs(ops['occupancy'] or {}) do redis.call('SET', o[1], o[3]) end
for _, e in ipairs(ops['events'] or {}) do
  redis.call('ZADD', e['qt'], e['at'], e['id'])
  redis.call('HSET', e['qe'], e['id'], string.format('%.0f,%.0f,%.0f,%.0f', e['r'], e['t'], e['c'], e['at']))
end
writes(ops)
return {1}
"""
)
