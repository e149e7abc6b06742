/**
 * The Redis side of {@link RedisClusterRegistry}: one Lua script per decision, so each runs
 * atomically (Redis runs a script to its end before any other command). Every script takes the
 * key prefix as ARGV[1] and reads time from Redis itself (`TIME`), so node clocks may differ.
 *
 * Keys under the prefix P:
 * - `P s:<id>`   hash: owner, state, createdAt, lastActivityAt, principal, init (JSON), gen;
 *                expires `ttl` after its last write, so Redis never keeps an abandoned session.
 * - `P all`      sorted set: id → expiry time of its record. Counted for the global cap after
 *                dropping members whose time has passed.
 * - `P idle`     sorted set: id → last activity, idle sessions only: the cluster-wide LRU order.
 * - `P p:<who>`  sorted set per principal: id → expiry time, for `maxSessionsPerPrincipal`.
 * - `P end:<id>` why a session ended (tombstone, expires with `ttl`): lets an owner that missed
 *                the message tell "ended" from "lost by Redis".
 * - channel `P node:<nodeId>`: messages to the node that holds a session (JSON).
 * Index keys get the TTL of their newest member, so a cluster that goes quiet leaves nothing.
 */

const PREAMBLE = `
local P = ARGV[1]
local ALL = P .. 'all'
local IDLE = P .. 'idle'
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function sessionKey(id) return P .. 's:' .. id end
local function principalKey(who) return P .. 'p:' .. who end
local function keepAtLeast(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
local function index(id, principal, now, ttl)
  redis.call('ZADD', ALL, now + ttl, id)
  keepAtLeast(ALL, ttl)
  if principal ~= '' then
    redis.call('ZADD', principalKey(principal), now + ttl, id)
    keepAtLeast(principalKey(principal), ttl)
  end
end
local function liveCount(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZCARD', key)
end
local function setActivity(id, state, last, ttl)
  redis.call('HSET', sessionKey(id), 'state', state, 'lastActivityAt', last)
  redis.call('PEXPIRE', sessionKey(id), ttl)
  if state == 'idle' then
    redis.call('ZADD', IDLE, last, id)
    keepAtLeast(IDLE, ttl)
  else
    redis.call('ZREM', IDLE, id)
  end
end
-- Deletes the record and leaves a tombstone; tells the owner when someone else decided.
local function endSession(id, reason, ttl, notify)
  local f = redis.call('HMGET', sessionKey(id), 'owner', 'principal')
  local owner, principal = f[1], f[2] or ''
  redis.call('DEL', sessionKey(id))
  redis.call('ZREM', ALL, id)
  redis.call('ZREM', IDLE, id)
  if principal ~= '' then redis.call('ZREM', principalKey(principal), id) end
  redis.call('SET', P .. 'end:' .. id, reason, 'PX', ttl)
  if notify and owner then
    redis.call('PUBLISH', P .. 'node:' .. owner, cjson.encode({type = 'ended', sessionId = id, reason = reason}))
  end
  return owner
end
-- ok / moved / ended:<reason> / missing, refreshing the record when this node owns it.
local function touchOne(node, id, state, idleFor, now, ttl)
  local f = redis.call('HMGET', sessionKey(id), 'owner', 'principal')
  if not f[1] then
    local reason = redis.call('GET', P .. 'end:' .. id)
    if reason then return 'ended:' .. reason end
    return 'missing'
  end
  if f[1] ~= node then return 'moved' end
  setActivity(id, state, now - idleFor, ttl)
  index(id, f[2] or '', now, ttl)
  return 'ok'
end
`;

/**
 * ARGV: P, id, node, ttl, maxSessions, evict ('1'|'0'), principal ('' = none), maxPerPrincipal
 * ('0' = none), init JSON. Returns {'ok', evictedId, evictedOwner} | {'capacity'} | {'principal-capacity'}.
 */
export const ADMIT_SCRIPT = `${PREAMBLE}
local id, node, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4])
local max, evict = tonumber(ARGV[5]), ARGV[6] == '1'
local principal, maxPer, init = ARGV[7], tonumber(ARGV[8]), ARGV[9]
local now = nowMs()
-- One principal may not take the whole house, and never evicts to get more (as a lone supervisor).
if principal ~= '' and maxPer > 0 and liveCount(principalKey(principal), now) >= maxPer then
  return {'principal-capacity'}
end
local evicted, evictedOwner = '', ''
local count = liveCount(ALL, now)
if count >= max then
  if not evict then return {'capacity'} end
  -- Idle members whose activity is older than two TTLs cannot have a record any more.
  redis.call('ZREMRANGEBYSCORE', IDLE, '-inf', now - 2 * ttl)
  while count >= max do
    local victim = nil
    for _ = 1, 32 do
      local first = redis.call('ZRANGE', IDLE, 0, 0)[1]
      if not first then break end
      if redis.call('EXISTS', sessionKey(first)) == 1 then
        victim = first
        break
      end
      redis.call('ZREM', IDLE, first)
    end
    if not victim then return {'capacity'} end
    evictedOwner = endSession(victim, 'evicted', ttl, true) or ''
    evicted = victim
    count = count - 1
  end
end
redis.call('HSET', sessionKey(id), 'owner', node, 'state', 'created', 'createdAt', now,
  'lastActivityAt', now, 'principal', principal, 'init', init, 'gen', 1)
redis.call('PEXPIRE', sessionKey(id), ttl)
index(id, principal, now, ttl)
return {'ok', evicted, evictedOwner}
`;

/**
 * ARGV: P, id, node, ttl, principal ('' = none). Returns false when unknown or not the principal's,
 * else {previousOwner, state, createdAt, lastActivityAt, init}.
 */
export const CLAIM_SCRIPT = `${PREAMBLE}
local id, node, ttl, principal = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local f = redis.call('HMGET', sessionKey(id), 'owner', 'principal', 'state', 'createdAt', 'lastActivityAt', 'init')
-- Not the caller's session: answered exactly as an unknown one, and left alone.
if not f[1] or (f[2] or '') ~= principal then return false end
if f[1] ~= node then
  redis.call('HSET', sessionKey(id), 'owner', node)
  redis.call('HINCRBY', sessionKey(id), 'gen', 1)
  redis.call('PUBLISH', P .. 'node:' .. f[1], cjson.encode({type = 'moved', sessionId = id, to = node}))
end
local now = nowMs()
-- A takeover happens because a request arrived: the session is busy, not a candidate for eviction.
setActivity(id, 'active', now, ttl)
index(id, principal, now, ttl)
return {f[1], f[3] or 'created', f[4] or '0', tostring(now), f[6] or ''}
`;

/** ARGV: P, node, ttl, then (id, state, idleForMs) per session. Returns one outcome per session. */
export const TOUCH_SCRIPT = `${PREAMBLE}
local node, ttl = ARGV[2], tonumber(ARGV[3])
local now = nowMs()
local out = {}
for i = 4, #ARGV, 3 do
  out[#out + 1] = touchOne(node, ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), now, ttl)
end
return out
`;

/**
 * ARGV: P, node, ttl, then (id, state, idleForMs, ageMs, principal, init JSON) per session. Like
 * TOUCH, but a record missing without a tombstone is put back ('recreated') — outside the cap: it
 * was admitted once, and losing it would cost a client its session.
 */
export const REASSERT_SCRIPT = `${PREAMBLE}
local node, ttl = ARGV[2], tonumber(ARGV[3])
local now = nowMs()
local out = {}
for i = 4, #ARGV, 6 do
  local id, state, idleFor = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local outcome = touchOne(node, id, state, idleFor, now, ttl)
  if outcome == 'missing' then
    local principal = ARGV[i + 4]
    redis.call('HSET', sessionKey(id), 'owner', node, 'createdAt', now - tonumber(ARGV[i + 3]),
      'principal', principal, 'init', ARGV[i + 5], 'gen', 1)
    setActivity(id, state, now - idleFor, ttl)
    index(id, principal, now, ttl)
    outcome = 'recreated'
  end
  out[#out + 1] = outcome
end
return out
`;

/** ARGV: P, id, node, reason, ttl. Ends the session if `node` owns it; returns 1 if it did. */
export const RELEASE_SCRIPT = `${PREAMBLE}
local id, node, reason, ttl = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('HGET', sessionKey(id), 'owner') ~= node then return 0 end
endSession(id, reason, ttl, false)
return 1
`;

/** ARGV: P. Live sessions cluster-wide. */
export const COUNT_SCRIPT = `${PREAMBLE}
return liveCount(ALL, nowMs())
`;
