"""Lua scripts of the Redis store: each multi-step operation runs atomically inside Redis.

Layout per session: hash `{p}s:{id}` (v version, st status, p payload, ca/ua/ea created/updated/expires
ms, ttl ms, c:<name> counters), list `{p}s:{id}:h` (recent history), and one sorted set `{p}active` scored
by expiry. Times come from the Redis server clock (TIME), so instances with skewed clocks agree.
Writes PUBLISH the invalidation for the L1 caches in the same script: no extra round trip, never lost
between the write and the message. The expiry sweep builds key names from ids, which is fine for one
Redis (or a replica set) but not for Redis Cluster.
"""

NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# The hash without its payload, as one JSON object: one bulk reply parses much faster in Python than a
# flat HGETALL array of ~20 replies (this halves the client-side cost of a CAS update).
STATE_JSON = """
local function state_json(key)
  local flat = redis.call('HGETALL', key)
  local fields = {}
  for i = 1, #flat, 2 do
    if flat[i] ~= 'p' then fields[flat[i]] = flat[i + 1] end
  end
  return cjson.encode(fields)
end
"""

# KEYS: hash, history, active; ARGV: ttl_ms, payload, replace(0/1), id, channel, message
CREATE = NOW + STATE_JSON + """
if ARGV[3] == '0' and redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local ttl = tonumber(ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'v', 0, 'st', 'active', 'p', ARGV[2], 'ca', now, 'ua', now, 'ea', now + ttl, 'ttl', ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[3], now + ttl, ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {1, state_json(KEYS[1])}
"""

# KEYS: hash, active; ARGV: expected version, status ('' keeps), payload ('' keeps), id, channel, message
# Returns {1, state json[, payload if it was kept]}, {-1} when missing, {-2, version} on a lost CAS.
UPDATE = NOW + STATE_JSON + """
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return {-1} end
if tonumber(v) ~= tonumber(ARGV[1]) then return {-2, tonumber(v)} end
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'ua', now)
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'st', ARGV[2])
  if ARGV[2] == 'active' then
    redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'ea'), ARGV[4])
  else
    redis.call('ZREM', KEYS[2], ARGV[4])
  end
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'p', ARGV[3]) end
redis.call('PUBLISH', ARGV[5], ARGV[6])
if ARGV[3] ~= '' then return {1, state_json(KEYS[1])} end
return {1, state_json(KEYS[1]), redis.call('HGET', KEYS[1], 'p')}
"""

# The state after a write, for the writer's own L1 (it ignores its own invalidation message).
STATE_REPLY = STATE_JSON + """
local function state_reply(key)
  return {1, state_json(key), redis.call('HGET', key, 'p')}
end
"""

# KEYS: hash, history, active; ARGV: ttl_ms (0 = the session's own), id, channel, message
# Returns {0} when missing, else {1, state json, payload}.
TOUCH = NOW + STATE_REPLY + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local ttl = tonumber(ARGV[1])
if ttl <= 0 then ttl = tonumber(redis.call('HGET', KEYS[1], 'ttl')) end
redis.call('HSET', KEYS[1], 'ea', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
if redis.call('HGET', KEYS[1], 'st') == 'active' then redis.call('ZADD', KEYS[3], now + ttl, ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return state_reply(KEYS[1])
"""

# KEYS: hash; ARGV: counter, amount, channel, message
# Returns {0} when missing, else {1, state json, payload} (the new value is in the state's counters).
INCR = STATE_REPLY + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
redis.call('HINCRBY', KEYS[1], 'c:' .. ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return state_reply(KEYS[1])
"""

# KEYS: hash, history; ARGV: max_len, entries...
APPEND_HISTORY = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return -1 end
redis.call('RPUSH', KEYS[2], unpack(ARGV, 2))
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[1]), -1)
redis.call('PEXPIRE', KEYS[2], ttl)
return redis.call('LLEN', KEYS[2])
"""

# KEYS: hash, history, active; ARGV: id, channel, message
DELETE = """
local removed = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return removed
"""

# KEYS: active; ARGV: limit
LIST_ACTIVE = NOW + """
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'LIMIT', 0, tonumber(ARGV[1]))
"""

# KEYS: active; ARGV: session key prefix, limit, channel, instance id
EXPIRE_IDLE = NOW + """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[1] .. id, ARGV[1] .. id .. ':h')
  redis.call('ZREM', KEYS[1], id)
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. ':' .. id)
end
return ids
"""

# Locks. KEYS: lock; ARGV: token [, ttl_ms]
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

EXTEND_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
