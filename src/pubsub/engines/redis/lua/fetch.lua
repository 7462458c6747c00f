-- fetch: buffered entries after a cursor, oldest first (expired ones are gone first).
-- KEYS: meta, buf, subs, channels index
-- ARGV: channel, now, lease ms, kind (oldest|newest|after|nth), a, b
--   after: a = seconds, b = tag; nth: a = n
-- Returns { exists (1/0), entry... }
local c = channel(ARGV[1])
local now = clock(ARGV[2])
if live(c, now) == nil then return { 0 } end
local kind = ARGV[4]
local out = { 1 }
local list
if kind == 'oldest' then
  list = redis.call('LRANGE', c.buf, 0, -1)
elseif kind == 'nth' then
  local n = tonumber(ARGV[5])
  if n > 0 then list = redis.call('LRANGE', c.buf, n - 1, -1)
  elseif n < 0 then list = redis.call('LRANGE', c.buf, n, -1)
  else list = {} end
elseif kind == 'after' then
  local at, ag = tonumber(ARGV[5]), tonumber(ARGV[6])
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
