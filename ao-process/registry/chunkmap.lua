-- A sorted map from strings to strings, stored in few Lua objects.
--
-- aos ends every message with a full collectgarbage(), whose mark and sweep
-- visit every live object and table slot: a registry that kept a table and a
-- dozen strings per skill paid for all of them on every message, reads
-- included. Here the entries live in "chunks", strings of up to CHUNK_BYTES
-- holding consecutive entries in key order, so a map of 100,000 entries is a
-- few thousand objects, whatever the entries hold.
--
--   map.chunks[c]  the entries of chunk c, each string.pack(">s2s4", key, value)
--   map.first[c]   a key <= every key in chunk c and > every key in chunk c-1
--   map.sizes[c]   how many entries chunk c holds
--   map.n          how many entries the map holds
--   map.texts[c]   (a map made by new(true) or build(..., true)) a text derived
--                  from chunk c's entries by M.textOf, kept beside the chunk:
--                  the skills map keeps its records' lowercased search text
--                  there, so that a search rejects a chunk without lowering it
--
-- A message decodes the chunks it touches into "views" (arrays of keys and
-- values), changes the views, and flush re-encodes the changed ones (splitting
-- what outgrew a chunk, dropping what emptied). Until the flush, chunk numbers
-- stay put, so a view's position is stable for the whole message. Views are
-- per message: flushAll drops every one, so nothing decoded stays live.

local M = {}

M.CHUNK_BYTES = 16 * 1024
local ENTRY = ">s2s4"

local pack, unpack, concat = string.pack, string.unpack, table.concat

-- views[map][c] = { keys = {...}, vals = {...}, dirty = bool }
local views = {}

function M.new(withTexts)
  return { chunks = {}, first = {}, sizes = {}, n = 0, texts = withTexts and {} or nil }
end

-- M.textOf(keys, vals, from, to): the text of entries keys[from..to], set by
-- the owner of the maps that keep texts (the store). The texts of consecutive
-- chunks joined by "\n" must be a text of their union (a merge joins them so).
function M.textOf()
  error("chunkmap.textOf is not set")
end

-- First position in `keys` whose key is >= key (> key when `after`), or #keys + 1.
local function bound(keys, key, after)
  local lo, hi = 1, #keys + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    local k = keys[mid]
    if k < key or (after and k == key) then lo = mid + 1 else hi = mid end
  end
  return lo
end
M.bound = bound

-- The chunk that holds `key` or would hold it: the last whose first key is <= key (1 if none).
local function locate(map, key)
  local first = map.first
  local lo, hi, at = 1, #first, 1
  while lo <= hi do
    local mid = (lo + hi) // 2
    if first[mid] <= key then at, lo = mid, mid + 1 else hi = mid - 1 end
  end
  return at
end
M.locate = locate

-- locate(map, key) for a key known to be in chunk c or after it: gallops
-- forward from c, so keys visited in order cost a compare or two each (an
-- index search looks up each candidate's record in the skills map).
function M.locateFrom(map, key, c)
  local first = map.first
  local n = #first
  if c >= n or first[c + 1] > key then return c end
  local lo, step = c + 1, 1 -- first[lo] <= key
  while lo + step <= n and first[lo + step] <= key do lo, step = lo + step, step * 2 end
  local hi = math.min(lo + step - 1, n) -- the answer is in lo..hi
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if first[mid] <= key then lo = mid else hi = mid - 1 end
  end
  return lo
end

local function decode(s)
  local keys, vals, pos, n, i = {}, {}, 1, #s, 0
  while pos <= n do
    i = i + 1
    keys[i], vals[i], pos = unpack(ENTRY, s, pos)
  end
  return keys, vals
end

-- The decoded chunk c, for this message.
function M.view(map, c)
  local vs = views[map]
  if not vs then vs = {}; views[map] = vs end
  local v = vs[c]
  if not v then
    local keys, vals = decode(map.chunks[c])
    v = { keys = keys, vals = vals, dirty = false }
    vs[c] = v
  end
  return v
end

-- The text of chunk c (see map.texts), or nil when this message has changed the chunk.
function M.text(map, c)
  local vs = views[map]
  if vs and vs[c] and vs[c].dirty then return nil end
  return map.texts[c]
end

-- The last key of chunk c, read without copying the values.
function M.lastKey(map, c)
  local vs = views[map]
  if vs and vs[c] then return vs[c].keys[#vs[c].keys] end
  local s, pos, n, key = map.chunks[c], 1, #map.chunks[c], nil
  while pos <= n do
    local len
    key, len, pos = unpack(">s2I4", s, pos)
    pos = pos + len
  end
  return key
end

-- Where iteration from `key` starts: chunk c and position i in its view
-- (i may be past the view's end: continue with chunk c + 1).
function M.position(map, key, after)
  if #map.chunks == 0 then return 1, 1 end
  if key == nil then return 1, 1 end
  local c = locate(map, key)
  return c, bound(M.view(map, c).keys, key, after)
end

-- The value of key, or nil; `c`, when given, is the key's chunk (see locateFrom).
function M.get(map, key, c)
  if #map.chunks == 0 then return nil end
  local v = M.view(map, c or locate(map, key))
  local i = bound(v.keys, key)
  if v.keys[i] == key then return v.vals[i] end
  return nil
end

-- The first key >= `key`, or nil.
function M.ceiling(map, key)
  local c, i = M.position(map, key)
  while c <= #map.chunks do
    local k = M.view(map, c).keys[i]
    if k then return k end
    c, i = c + 1, 1
  end
  return nil
end

-- Whether some key starts with `prefix`.
function M.hasPrefix(map, prefix)
  local k = M.ceiling(map, prefix)
  return k ~= nil and k:sub(1, #prefix) == prefix
end

-- Sets key to value. Returns true when it replaced a value.
function M.set(map, key, value)
  if #map.chunks == 0 then
    map.chunks[1], map.first[1], map.sizes[1] = "", key, 0
    if map.texts then map.texts[1] = "" end
  end
  local c = locate(map, key)
  local v = M.view(map, c)
  local i = bound(v.keys, key)
  v.dirty = true
  if v.keys[i] == key then
    v.vals[i] = value
    return true
  end
  table.insert(v.keys, i, key)
  table.insert(v.vals, i, value)
  if key < map.first[c] then map.first[c] = key end
  map.n = map.n + 1
  return false
end

-- Removes key. Returns true when it was there.
function M.delete(map, key)
  if #map.chunks == 0 then return false end
  local v = M.view(map, locate(map, key))
  local i = bound(v.keys, key)
  if v.keys[i] ~= key then return false end
  table.remove(v.keys, i)
  table.remove(v.vals, i)
  v.dirty = true
  map.n = map.n - 1
  return true
end

-- Packs sorted entries into chunks: { {string, firstKey, count}, ... }. Each
-- chunk is filled up to `target` bytes (at least one entry); by default the
-- entries are spread evenly over as few chunks of CHUNK_BYTES as hold them,
-- so a chunk that overflows splits in halves rather than into a full one and
-- a sliver that the next insert would split again.
local function encode(keys, vals, target, withTexts)
  local packed, total = {}, 0
  for i = 1, #keys do
    packed[i] = pack(ENTRY, keys[i], vals[i])
    total = total + #packed[i]
  end
  target = target or total / math.max(1, math.ceil(total / M.CHUNK_BYTES))
  local parts, from, bytes = {}, 1, 0
  for i = 1, #packed do
    bytes = bytes + #packed[i]
    if bytes >= target or i == #packed then
      parts[#parts + 1] = {
        concat(packed, "", from, i), keys[from], i - from + 1, withTexts and M.textOf(keys, vals, from, i) or nil,
      }
      from, bytes = i + 1, 0
    end
  end
  return parts
end

-- A map holding sorted `keys` with `vals` (a migration's bulk load), in full chunks.
function M.build(keys, vals, withTexts)
  local map = M.new(withTexts)
  for c, part in ipairs(encode(keys, vals, M.CHUNK_BYTES, withTexts)) do
    map.chunks[c], map.first[c], map.sizes[c] = part[1], part[2], part[3]
    if withTexts then map.texts[c] = part[4] end
  end
  map.n = #keys
  return map
end

-- Gives a map texts (a state from before they existed), one chunk decoded at a time.
function M.addTexts(map)
  local texts = {}
  for c, s in ipairs(map.chunks) do
    local keys, vals = decode(s)
    texts[c] = M.textOf(keys, vals, 1, #keys)
  end
  map.texts = texts
end

-- Joins chunk c with chunk c + 1 when both fit in one: entries are
-- self-delimiting and in order, so their strings simply concatenate.
local function mergeNext(map, c)
  local a, b = map.chunks[c], map.chunks[c + 1]
  if not (a and b) or #a + #b > M.CHUNK_BYTES // 2 then return end
  map.chunks[c] = a .. b
  map.sizes[c] = map.sizes[c] + map.sizes[c + 1]
  table.remove(map.chunks, c + 1)
  table.remove(map.first, c + 1)
  table.remove(map.sizes, c + 1)
  local texts = map.texts
  if texts then
    texts[c] = texts[c] .. "\n" .. texts[c + 1]
    table.remove(texts, c + 1)
  end
end

-- Re-encodes the chunks this message changed and drops its views of the map.
function M.flush(map)
  local vs = views[map]
  views[map] = nil
  if not vs then return end
  local dirty = {}
  for c, v in pairs(vs) do
    if v.dirty then dirty[#dirty + 1] = c end
  end
  -- From the last: replacing chunk c by several leaves the chunks before it where they were.
  table.sort(dirty, function(a, b) return a > b end)
  for _, c in ipairs(dirty) do
    local v = vs[c]
    local texts = map.texts
    local parts = encode(v.keys, v.vals, nil, texts ~= nil)
    table.remove(map.chunks, c)
    table.remove(map.first, c)
    table.remove(map.sizes, c)
    if texts then table.remove(texts, c) end
    for j = #parts, 1, -1 do
      table.insert(map.chunks, c, parts[j][1])
      table.insert(map.first, c, parts[j][2])
      table.insert(map.sizes, c, parts[j][3])
      if texts then table.insert(texts, c, parts[j][4]) end
    end
    -- A chunk that shrank joins a small neighbour; one still to be re-encoded
    -- (c - 1, dirty) joins it when its own turn comes.
    if #parts == 1 then mergeNext(map, c) end
    if #parts <= 1 and c > 1 and not (vs[c - 1] and vs[c - 1].dirty) then mergeNext(map, c - 1) end
  end
end

-- Flushes every map this message touched.
function M.flushAll()
  local maps = {}
  for map in pairs(views) do maps[#maps + 1] = map end
  for _, map in ipairs(maps) do M.flush(map) end
end

-- Forgets this message's views without writing them (a map being replaced whole).
function M.discard(map)
  views[map] = nil
end

-- Forgets every view (a batch that failed while encoding: none may reach a later message).
function M.discardAll()
  views = {}
end

-- Every entry in key order (for a migration or a digest computed at load).
function M.each(map)
  local c, i = 1, 0
  return function()
    while c <= #map.chunks do
      local v = M.view(map, c)
      i = i + 1
      if i <= #v.keys then return v.keys[i], v.vals[i] end
      views[map][c] = v.dirty and v or nil -- a whole-map walk keeps one chunk decoded at a time
      c, i = c + 1, 0
    end
  end
end

return M
