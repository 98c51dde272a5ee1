"""The Lua scripts of the Redis store: each is one atomic step of the seam (store/base.py).

A script runs whole, with no other command between its calls, which is what makes a fenced
append or a claim one step on a server many replicas share. Redis does not roll a script
back, though: a script that fails half-way leaves its first writes. So every script checks
everything it can refuse (the lease, the task's end, a ticket's state) before it writes
anything, and gets nothing but strings and numbers it cannot choke on: the values are
serialized in Python before the script runs.

Keys are named by `RedisStore` (the layout is in its docstring); the few a script reaches
from a task's own fields (its listing indexes, its tickets, its outbox) are built here from
the key prefix, `P`, passed in ARGV[1]. That is fine on one Redis server (or a primary with
replicas), not on Redis Cluster, where a script may only touch the keys it is given.
"""

from __future__ import annotations

__all__ = [
    "APPEND",
    "CLAIM",
    "CREATE",
    "DELETE_CONFIG",
    "FINISH_DELIVERY",
    "LEASES",
    "LIST",
    "LOAD",
    "PURGE",
    "RENEW",
    "SUBMIT",
    "TAKE_DELIVERIES",
    "TICKETS",
]

# The four listing indexes a task is in (all, by context, by state, by context and state),
# each a sorted set of `status_at \0 task_id` at score 0: lexicographic order is the order
# of ListTasks (status time, then id), and a page token is an exact bound. RedisStore
# builds the same names to query them. `pc` is the principal and context id as one string
# (`len(principal):principal:context`, unambiguous whatever the ids hold).
_LISTINGS = r"""
local function listings(P, principal, pc, state)
  return {P .. 'lp:' .. principal, P .. 'lc:' .. pc,
          P .. 'lps:' .. state .. ':' .. principal, P .. 'lcs:' .. state .. ':' .. pc}
end
"""

# A config's outbox queue: a sorted set of delivery ids (its order); the ready index holds
# each non-empty queue once, scored by when its head may be taken (0: now).
_QUEUES = r"""
local function queue(task, config)
  return #task .. ':' .. task .. ':' .. config
end
local function drop_queue(P, task, config, ready, outbox)
  local m = queue(task, config)
  local q = P .. 'oq:' .. m
  for _, n in ipairs(redis.call('ZRANGE', q, 0, -1)) do
    redis.call('DEL', P .. 'dl:' .. n)
    redis.call('ZREM', outbox, n)
  end
  redis.call('DEL', q)
  redis.call('ZREM', ready, m)
end
"""

# The lease rule, shared by `claim` and `submit`: free, expired, held by the claimant
# already, or held by an owner known dead. A new holder gets the next fencing token.
_CLAIM = r"""
local function claim(task, leases, id, owner, now, untl, dead)
  local h = redis.call('HMGET', task, 'ended_at', 'owner', 'until', 'token')
  if h[1] then return false end
  local holder = h[2]
  if holder and holder ~= owner and holder ~= dead and tonumber(h[3]) > now then
    return false
  end
  local token = tonumber(h[4])
  if holder ~= owner then
    token = redis.call('HINCRBY', task, 'token', 1)
    redis.call('HSET', task, 'owner', owner)
  end
  redis.call('HSET', task, 'until', untl)
  redis.call('ZADD', leases, untl, id)
  return token
end
"""

# KEYS: task, log, leases. ARGV: P, id, context, principal, pc, state, status_at, created_at,
# owner, until, the Task frame (also the first snapshot), writer, turn ('1': its first turn
# is marked running already, for the append that opens it follows). 0 if the task exists.
CREATE = _LISTINGS + r"""
local P, id = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('HSET', KEYS[1], 'context', ARGV[3], 'principal', ARGV[4], 'pc', ARGV[5],
  'state', ARGV[6], 'status_at', ARGV[7], 'created_at', ARGV[8], 'owner', ARGV[9],
  'token', 1, 'until', ARGV[10], 'turn', ARGV[13], 'seq', 1, 'snapshot', ARGV[11],
  'snapshot_seq', 1, 'commands', 0)
redis.call('XADD', KEYS[2], '0-1', 'f', ARGV[11], 'w', ARGV[12])
redis.call('ZADD', KEYS[3], ARGV[10], id)
redis.call('HINCRBY', P .. 'states', ARGV[6], 1)
local member = ARGV[7] .. '\0' .. id
for _, key in ipairs(listings(P, ARGV[4], ARGV[5], ARGV[6])) do
  redis.call('ZADD', key, 0, member)
end
return 1
"""

# KEYS: 1 task, 2 log, 3 inbox, 4 leases, 5 ended, 6 due, 7 the task's tickets, 8 the task's
# config order, 9 ready, 10 outbox, 11 delivery counter, 12 memory (or any key: unused).
# ARGV: 1 P, 2 id, 3 owner, 4 token, 5 writer, 6 now, 7 new state ('' if no status frame),
# 8 its status_at, 9 '1' if it is terminal, 10 snapshot ('' none), 11 notify, 12 turn
# ('1', '0', ''), 13 release, 14 memory limit ('' none); then counted lists: frames;
# tickets (id, settles, state, created_at, deadline, blob); consumed ids; memory messages.
# Returns {'ok', seq, released, deliveries queued} or a refusal, having written nothing: {'lease'},
# {'ended', state}, {'raced', ticket id}.
APPEND = _LISTINGS + _QUEUES + r"""
local P, id, now = ARGV[1], ARGV[2], ARGV[6]
local h = redis.call('HMGET', KEYS[1], 'owner', 'token', 'ended_at', 'state', 'seq',
  'status_at', 'principal', 'pc')
if h[1] ~= ARGV[3] or h[2] ~= ARGV[4] then return {'lease'} end
local i = 15
local nframes = tonumber(ARGV[i]); local f0 = i + 1; i = f0 + nframes
local ntickets = tonumber(ARGV[i]); local t0 = i + 1; i = t0 + 6 * ntickets
local nconsumed = tonumber(ARGV[i]); local c0 = i + 1; i = c0 + nconsumed
local nmemory = tonumber(ARGV[i]); local m0 = i + 1
if nframes > 0 and h[3] then return {'ended', h[4]} end
for k = t0, t0 + 6 * (ntickets - 1), 6 do  -- a settlement is of a pending ticket only
  if ARGV[k + 1] == '1' then
    local state = redis.call('HGET', P .. 'tk:' .. ARGV[k], 's')
    if state and state ~= 'pending' then return {'raced', ARGV[k]} end
  end
end

local seq = tonumber(h[5])
for k = f0, f0 + nframes - 1 do
  seq = seq + 1
  redis.call('XADD', KEYS[2], '0-' .. seq, 'f', ARGV[k], 'w', ARGV[5])
end
if nframes > 0 then redis.call('HSET', KEYS[1], 'seq', seq) end
if ARGV[7] ~= '' then  -- the status moved: so does the task in its listings
  local old, new = h[6] .. '\0' .. id, ARGV[8] .. '\0' .. id
  for _, key in ipairs(listings(P, h[7], h[8], h[4])) do redis.call('ZREM', key, old) end
  for _, key in ipairs(listings(P, h[7], h[8], ARGV[7])) do redis.call('ZADD', key, 0, new) end
  redis.call('HSET', KEYS[1], 'state', ARGV[7], 'status_at', ARGV[8])
  redis.call('HINCRBY', P .. 'states', h[4], -1)
  redis.call('HINCRBY', P .. 'states', ARGV[7], 1)
  if ARGV[9] == '1' and not h[3] then
    redis.call('HSET', KEYS[1], 'ended_at', now)
    redis.call('ZADD', KEYS[5], now, id)
  end
end
if ARGV[10] ~= '' then
  redis.call('HSET', KEYS[1], 'snapshot', ARGV[10], 'snapshot_seq', seq)
end
for k = t0, t0 + 6 * (ntickets - 1), 6 do
  local tid, state, deadline = ARGV[k], ARGV[k + 2], ARGV[k + 4]
  redis.call('HSET', P .. 'tk:' .. tid, 's', state, 'b', ARGV[k + 5])
  redis.call('ZADD', KEYS[7], 'NX', ARGV[k + 3], tid)
  if state == 'pending' then
    redis.call('SADD', P .. 'pending', tid)
  else
    redis.call('SREM', P .. 'pending', tid)
  end
  if state == 'pending' and deadline ~= '' then
    redis.call('ZADD', KEYS[6], deadline, tid)
  else
    redis.call('ZREM', KEYS[6], tid)
  end
end
if ARGV[14] ~= '' then
  if nmemory > 0 then redis.call('RPUSH', KEYS[12], unpack(ARGV, m0, m0 + nmemory - 1)) end
  local limit = tonumber(ARGV[14])
  if limit > 0 then redis.call('LTRIM', KEYS[12], -limit, -1) else redis.call('DEL', KEYS[12]) end
end
local queued = 0
if ARGV[11] == '1' and ARGV[10] ~= '' then
  for _, config in ipairs(redis.call('ZRANGE', KEYS[8], 0, -1)) do
    queued = queued + 1
    local n = redis.call('INCR', KEYS[11])
    redis.call('HSET', P .. 'dl:' .. n, 'task', id, 'config', config, 'body', ARGV[10],
      'attempts', 0, 'created_at', now)
    local m = queue(id, config)
    redis.call('ZADD', P .. 'oq:' .. m, n, n)
    redis.call('ZADD', KEYS[10], now, n)
    redis.call('ZADD', KEYS[9], 'NX', 0, m)
  end
end
if nconsumed > 0 then
  local ids = {}
  for k = c0, c0 + nconsumed - 1 do ids[#ids + 1] = '0-' .. ARGV[k] end
  redis.call('XDEL', KEYS[3], unpack(ids))
end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'turn', ARGV[12]) end
local released = 0
if ARGV[13] == '1' and redis.call('XLEN', KEYS[3]) == 0 then
  redis.call('HDEL', KEYS[1], 'owner')
  redis.call('ZREM', KEYS[4], id)
  released = 1
end
return {'ok', seq, released, queued}
"""

# KEYS: task, inbox, leases. ARGV: id, command, writer, owner, now, until.
# Returns {command id, token or 0}, or nil for an unknown task.
SUBMIT = _CLAIM + r"""
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local n = redis.call('HINCRBY', KEYS[1], 'commands', 1)
redis.call('XADD', KEYS[2], '0-' .. n, 'c', ARGV[2], 'w', ARGV[3])
local token = claim(KEYS[1], KEYS[3], ARGV[1], ARGV[4], tonumber(ARGV[5]), ARGV[6], '')
return {n, token or 0}
"""

# KEYS: task, leases. ARGV: id, owner, now, until, dead ('' none). The token, or nil.
CLAIM = _CLAIM + r"""
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return claim(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5])
"""

# KEYS: leases. ARGV: P, until, then (id, owner, token) per lease. The indexes of the lost.
RENEW = r"""
local lost = {}
for i = 3, #ARGV, 3 do
  local task = ARGV[1] .. 't:' .. ARGV[i]
  local h = redis.call('HMGET', task, 'owner', 'token')
  if h[1] == ARGV[i + 1] and h[2] == ARGV[i + 2] then
    redis.call('HSET', task, 'until', ARGV[2])
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
  else
    lost[#lost + 1] = (i - 3) / 3
  end
end
return lost
"""

# KEYS: leases. ARGV: P, expiring by. {id, owner, ...} of the leases held that expire by then.
LEASES = r"""
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], '-inf', ARGV[2], 'BYSCORE')) do
  local owner = redis.call('HGET', ARGV[1] .. 't:' .. id, 'owner')
  if owner then out[#out + 1] = id; out[#out + 1] = owner end
end
return out
"""

# KEYS: task, log. {principal, turn, owner or '', snapshot, seq, frames after the snapshot...}
# or nil: the row, the snapshot and its tail as of one moment.
LOAD = r"""
local h = redis.call('HMGET', KEYS[1], 'principal', 'turn', 'owner', 'snapshot', 'seq',
  'snapshot_seq')
if not h[1] then return false end
local out = {h[1], h[2], h[3] or '', h[4], h[5]}
for _, e in ipairs(redis.call('XRANGE', KEYS[2], '(0-' .. h[6], '+')) do out[#out + 1] = e[2][2] end
return out
"""

# KEYS: a listing index. ARGV: P, lowest member ('-' or '[status_at'), highest ('+' or
# '(status_at\0id', the page token), how many. {total, {member, snapshot, frames...}...}.
LIST = r"""
local P = ARGV[1]
local out = {redis.call('ZLEXCOUNT', KEYS[1], ARGV[2], '+')}
local page = redis.call('ZRANGE', KEYS[1], ARGV[3], ARGV[2], 'BYLEX', 'REV', 'LIMIT', 0, ARGV[4])
for _, m in ipairs(page) do
  local id = string.sub(m, string.find(m, '\0', 1, true) + 1)
  local h = redis.call('HMGET', P .. 't:' .. id, 'snapshot', 'snapshot_seq')
  if h[1] then
    local row = {m, h[1]}
    for _, e in ipairs(redis.call('XRANGE', P .. 'log:' .. id, '(0-' .. h[2], '+')) do
      row[#row + 1] = e[2][2]
    end
    out[#out + 1] = row
  end
end
return out
"""

# KEYS: a sorted set of ticket ids (a task's, or the due index). ARGV: P, min, max score.
TICKETS = r"""
local out = {}
for _, t in ipairs(redis.call('ZRANGE', KEYS[1], ARGV[2], ARGV[3], 'BYSCORE')) do
  local b = redis.call('HGET', ARGV[1] .. 'tk:' .. t, 'b')
  if b then out[#out + 1] = b end
end
return out
"""

# KEYS: ready. ARGV: P, now, claimed until, limit. {{id, task, config, body, attempts,
# created_at}...}: the head of each queue that may be taken now, each claimed until then.
TAKE_DELIVERIES = r"""
local P = ARGV[1]
local out = {}
local ready = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, ARGV[4])
for _, m in ipairs(ready) do
  local head = redis.call('ZRANGE', P .. 'oq:' .. m, 0, 0)[1]
  local h = {}
  if head then
    h = redis.call('HMGET', P .. 'dl:' .. head, 'task', 'config', 'body', 'attempts', 'created_at')
  end
  if h[1] then
    redis.call('ZADD', KEYS[1], ARGV[3], m)
    out[#out + 1] = {head, h[1], h[2], h[3], h[4], h[5]}
  else  -- a queue left empty (never so, but a stale member must not hold the others up)
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
"""

# KEYS: ready, outbox. ARGV: P, delivery id, retry at ('' : done, or given up).
FINISH_DELIVERY = _QUEUES + r"""
local P, n = ARGV[1], ARGV[2]
local d = P .. 'dl:' .. n
local h = redis.call('HMGET', d, 'task', 'config')
if not h[1] then return 0 end
local m = queue(h[1], h[2])
local q = P .. 'oq:' .. m
local head = redis.call('ZRANGE', q, 0, 0)[1] == n
if ARGV[3] == '' then
  redis.call('DEL', d)
  redis.call('ZREM', q, n)
  redis.call('ZREM', KEYS[2], n)
  if head then
    if redis.call('EXISTS', q) == 1 then redis.call('ZADD', KEYS[1], 0, m)
    else redis.call('ZREM', KEYS[1], m) end
  end
else
  redis.call('HINCRBY', d, 'attempts', 1)
  if head then redis.call('ZADD', KEYS[1], ARGV[3], m) end
end
return 1
"""

# KEYS: the task's configs, their order, ready, outbox. ARGV: P, task id, config id.
DELETE_CONFIG = _QUEUES + r"""
local gone = redis.call('HDEL', KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[3])
drop_queue(ARGV[1], ARGV[2], ARGV[3], KEYS[3], KEYS[4])
return gone
"""

# KEYS: ended, leases, due, ready, outbox. ARGV: P, ended before, at most how many.
# Each task goes with everything of its own, and its conversation's memory with its last task.
PURGE = _LISTINGS + _QUEUES + r"""
local P = ARGV[1]
local ids = redis.call('ZRANGE', KEYS[1], '-inf', '(' .. ARGV[2], 'BYSCORE', 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do
  local task = P .. 't:' .. id
  local h = redis.call('HMGET', task, 'principal', 'pc', 'state', 'status_at')
  if h[1] then
    local member = h[4] .. '\0' .. id
    for _, key in ipairs(listings(P, h[1], h[2], h[3])) do redis.call('ZREM', key, member) end
    redis.call('HINCRBY', P .. 'states', h[3], -1)
    if redis.call('EXISTS', P .. 'lc:' .. h[2]) == 0 then redis.call('DEL', P .. 'mem:' .. h[2]) end
  end
  for _, t in ipairs(redis.call('ZRANGE', P .. 'tks:' .. id, 0, -1)) do
    redis.call('DEL', P .. 'tk:' .. t)
    redis.call('ZREM', KEYS[3], t)
    redis.call('SREM', P .. 'pending', t)
  end
  for _, config in ipairs(redis.call('HKEYS', P .. 'pc:' .. id)) do
    drop_queue(P, id, config, KEYS[4], KEYS[5])
  end
  redis.call('DEL', task, P .. 'log:' .. id, P .. 'in:' .. id, P .. 'tks:' .. id,
    P .. 'pc:' .. id, P .. 'pco:' .. id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return #ids
"""
