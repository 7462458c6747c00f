-- fetch: buffered entries after a cursor, oldest first (expired ones are gone first).
-- KEYS: meta, buf, subs, channels set
-- ARGV: channel, now, node key prefix, lease ms, kind (oldest|newest|after|nth), a, b
--   after: a = seconds, b = tag; nth: a = n
-- Returns { exists (1/0), entry... }
local c = { name = ARGV[1], meta = KEYS[1], buf = KEYS[2], subs = KEYS[3] }
local now = clock(ARGV[2])
if live(c, now, ARGV[3], KEYS[4]) == nil then return { 0 } end
local kind = ARGV[5]
local out = { 1 }
local list
if kind == 'oldest' then
  list = redis.call('LRANGE', c.buf, 0, -1)
elseif kind == 'nth' then
  local n = tonumber(ARGV[6])
  if n > 0 then list = redis.call('LRANGE', c.buf, n - 1, -1)
  elseif n < 0 then list = redis.call('LRANGE', c.buf, n, -1)
  else list = {} end
elseif kind == 'after' then
  local at, ag = tonumber(ARGV[6]), tonumber(ARGV[7])
  local all = redis.call('LRANGE', c.buf, 0, -1)
  local i = #all
  while i > 0 do
    local t, g = entry_head(all[i])
    if t < at or (t == at and g <= ag) then break end
    i = i - 1
  end
  list = {}
  for j = i + 1, #all do list[#list + 1] = all[j] end
else
  list = {}
end
for _, e in ipairs(list) do out[#out + 1] = e end
return out
