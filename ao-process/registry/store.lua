-- The registry's state and the operations on it.
--
-- State lives in one global table (see registry.lua) so that loading the code
-- again keeps it. The functions here assume their inputs were validated: they
-- do not fail half-way, so a handler that validated first never leaves a
-- partial change behind.
--
-- Layout 3: few Lua objects, whatever the number of skills. aos ends every
-- message with a full collectgarbage(), which visits every live object, so
-- the state keeps each skill as one string (record.lua) in a chunked sorted
-- map (chunkmap.lua), and its indexes as chunked sorted sets of keys:
--   state.skills              chunkmap: name -> record (record.lua), with texts: each
--                             chunk's records' search text, lowercased (chunkText)
--   state.tagIndex            chunkmap: tag .. "\0" .. name -> ""
--   state.publisherIndex      chunkmap: publisher .. "\0" .. name -> ""
--   state.counts              { skills, versions, deprecated, publishers, tags }
--   state.status              "sealed" | "open" | "frozen" (providers/STATE-TRANSFER.md)
--   state.successor           the process this one moved to (while frozen)
--   state.predecessor         the process the last completed import came from
--   state.import              { from, pages } while a State-Import is in progress
--   state.digest              sum of SHA-256(canonical entry) over every entry (digest.lua)
--   state.entries, state.bytes  how many entries, and their canonical bytes
--   state.schema              the record format Export-State reports (1)
--   state.layout              3 (layout 1 kept tables per skill, layout 2 no texts; migrate converts both)
-- The digest, entries and bytes are kept up to date by every operation below
-- (each one that changes an entry subtracts its old hash and adds its new one),
-- so reporting them is O(1).
--
-- Operations work on decoded skills (record.lua), which stay decoded for the
-- rest of a batch (S.batch: a handler's whole request) and are encoded back
-- when it ends; an operation called outside a batch is its own batch.
-- `core` is the version without build metadata: two versions with equal
-- precedence share a key, so "1.0.0+a" and "1.0.0+b" cannot both be published.

local semver = require("registry.semver")
local json = require("registry.json")
local sha256 = require("registry.sha256")
local digest = require("registry.digest")
local chunkmap = require("registry.chunkmap")
local record = require("registry.record")

local S = {}

S.SCHEMA = 1
S.LAYOUT = 3

local SEP = "\0" -- between an index's group (a tag, a publisher) and a name: sorts before any name character

-- The search text of a chunk of skills, kept beside it (chunkmap's texts): a
-- text search rejects a chunk whose text lacks a word without lowering the
-- chunk's records. Not part of any entry, so not of the digest.
local function chunkText(keys, vals, from, to)
  local parts = {}
  for i = from, to do parts[#parts + 1] = record.text(keys[i], vals[i]) end
  return table.concat(parts, "\n"):lower()
end
chunkmap.textOf = chunkText

-- The data part of a state: what State-Import's rollback empties.
local function emptyData()
  return {
    skills = chunkmap.new(true),
    tagIndex = chunkmap.new(),
    publisherIndex = chunkmap.new(),
    counts = { skills = 0, versions = 0, deprecated = 0, publishers = 0, tags = 0 },
    digest = digest.new(),
    entries = 0,
    bytes = 0,
  }
end

-- A brand-new registry starts sealed: a deployment may be about to move data
-- into it, and nothing may be written before that is done.
function S.new()
  local state = emptyData()
  state.schema = S.SCHEMA
  state.layout = S.LAYOUT
  state.status = "sealed"
  return state
end

---------------------------------------------------------------------------
-- Batches: the skills a request decoded, kept until it ends.

local depth = 0
local open, changed = {}, {} -- name -> decoded skill; name -> true when it must be encoded again

-- Writes the changed skills into the skills map's chunk views (still this message's).
local function sync(state)
  for name in pairs(changed) do chunkmap.set(state.skills, name, record.encode(open[name])) end
  changed = {}
end

local function commit(state)
  sync(state)
  open = {}
  chunkmap.flushAll()
end

-- Runs fn(...) as one batch: skills stay decoded until the outermost batch
-- ends, and are then encoded, with every chunk it changed. It ends even when
-- fn raises (a bug: the handler answers E_INTERNAL), so that nothing decoded
-- outlives the message.
function S.batch(state, fn, ...)
  depth = depth + 1
  local res = table.pack(pcall(fn, ...))
  depth = depth - 1
  if depth == 0 then
    local ok, e = pcall(commit, state)
    if not ok then
      open, changed = {}, {}
      chunkmap.discardAll()
      if res[1] then res = { false, e, n = 2 } end
    end
  end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

local function batched(fn)
  return function(state, ...) return S.batch(state, fn, state, ...) end
end

-- The decoded skill, the same table for the whole batch.
local function load(state, name)
  local skill = open[name]
  if skill then return skill end
  local rec = chunkmap.get(state.skills, name)
  if not rec then return nil end
  skill = record.decode(name, rec)
  open[name] = skill
  return skill
end

local function save(skill)
  open[skill.name] = skill
  changed[skill.name] = true
end

---------------------------------------------------------------------------
-- Entries (the state-transfer export stream) and the digest over them.

-- The entry of a skill: its own fields, without its versions.
function S.skillEntry(skill)
  return {
    kind = "skill",
    name = skill.name,
    publisher = skill.publisher,
    description = skill.description,
    tags = json.array({ table.unpack(skill.tags) }),
    createdAt = skill.createdAt,
    updatedAt = skill.updatedAt,
    deprecated = skill.deprecated,
    deprecationReason = skill.deprecationReason or json.null,
    deprecatedAt = skill.deprecatedAt or json.null,
  }
end

-- A version's exported fields: what an entry, an Export-State record and a reply share.
function S.versionFields(v)
  return {
    version = v.version,
    txId = v.txId,
    contentHash = v.contentHash,
    publishedAt = v.publishedAt,
    publishedBy = v.publishedBy,
  }
end

function S.versionEntry(skill, v)
  local entry = S.versionFields(v)
  entry.kind, entry.skill = "version", skill.name
  return entry
end

-- Adds (sign 1) or removes (sign -1) an entry from the digest, count and bytes.
local function account(state, entry, sign)
  local text = json.encode(entry)
  local words = sha256.words(text)
  if sign > 0 then digest.add(state.digest, words) else digest.sub(state.digest, words) end
  state.entries = state.entries + sign
  state.bytes = state.bytes + sign * #text
end

-- Runs `change` (which edits the skill's own fields) with the skill entry's
-- old hash subtracted before and its new hash added after.
local function changeSkill(state, skill, change)
  account(state, S.skillEntry(skill), -1)
  change()
  account(state, S.skillEntry(skill), 1)
end

-- Every entry of a skill: the skill, then its versions in precedence order.
local function accountSkill(state, skill, sign)
  account(state, S.skillEntry(skill), sign)
  for _, core in ipairs(skill.order) do account(state, S.versionEntry(skill, skill.versions[core]), sign) end
end

-- The indexes: a key per (group, name), and a count of the distinct groups
-- (counts.tags, counts.publishers) kept by looking at the neighbours.
local function indexAdd(state, map, countKey, group, name)
  local prefix = group .. SEP
  if not chunkmap.hasPrefix(map, prefix) then state.counts[countKey] = state.counts[countKey] + 1 end
  chunkmap.set(map, prefix .. name, "")
end

local function indexRemove(state, map, countKey, group, name)
  local prefix = group .. SEP
  if chunkmap.delete(map, prefix .. name) and not chunkmap.hasPrefix(map, prefix) then
    state.counts[countKey] = state.counts[countKey] - 1
  end
end

local function indexTags(state, name, tags)
  for _, tag in ipairs(tags) do indexAdd(state, state.tagIndex, "tags", tag, name) end
end

local function unindexTags(state, name, tags)
  for _, tag in ipairs(tags) do indexRemove(state, state.tagIndex, "tags", tag, name) end
end

-- Saves a skill and adds it to the indexes and counts (its entries are accounted by the caller).
local function indexSkill(state, skill)
  save(skill)
  indexTags(state, skill.name, skill.tags)
  indexAdd(state, state.publisherIndex, "publishers", skill.publisher, skill.name)
  local counts = state.counts
  counts.skills = counts.skills + 1
  counts.versions = counts.versions + #skill.order
  if skill.deprecated then counts.deprecated = counts.deprecated + 1 end
end

-- The reverse, before the skill is replaced under the same name (an import).
local function unindexSkill(state, skill)
  unindexTags(state, skill.name, skill.tags)
  indexRemove(state, state.publisherIndex, "publishers", skill.publisher, skill.name)
  local counts = state.counts
  counts.skills = counts.skills - 1
  counts.versions = counts.versions - #skill.order
  if skill.deprecated then counts.deprecated = counts.deprecated - 1 end
end

-- Converts a layout-1 state (a table per skill in state.skills, the sorted
-- array state.names, state.byTag[tag] arrays, state.publishers[addr] counts)
-- into layout 2, keeping every field of every skill and version. Its entries
-- are unchanged, so its digest is too.
local function convert(state)
  local old, names = state.skills or {}, state.names
  if not names then
    names = {}
    for name in pairs(old) do names[#names + 1] = name end
    table.sort(names)
  end
  local vals, tagKeys, pubKeys, tags, pubs = {}, {}, {}, {}, {}
  local counts = { skills = #names, versions = 0, deprecated = 0, publishers = 0, tags = 0 }
  for i, name in ipairs(names) do
    local skill = old[name]
    vals[i] = record.encode(skill)
    for _, tag in ipairs(skill.tags) do
      tagKeys[#tagKeys + 1] = tag .. SEP .. name
      if not tags[tag] then tags[tag], counts.tags = true, counts.tags + 1 end
    end
    pubKeys[#pubKeys + 1] = skill.publisher .. SEP .. name
    if not pubs[skill.publisher] then pubs[skill.publisher], counts.publishers = true, counts.publishers + 1 end
    counts.versions = counts.versions + #skill.order
    if skill.deprecated then counts.deprecated = counts.deprecated + 1 end
  end
  table.sort(tagKeys)
  table.sort(pubKeys)
  local none = setmetatable({}, { __index = function() return "" end })
  state.skills = chunkmap.build(names, vals, true)
  state.tagIndex = chunkmap.build(tagKeys, none)
  state.publisherIndex = chunkmap.build(pubKeys, none)
  state.counts = counts
  state.names, state.byTag, state.publishers = nil, nil, nil
  state.layout = S.LAYOUT
end

-- Brings a state loaded by an earlier version of this code up to date.
function S.migrate(state)
  state.schema = state.schema or S.SCHEMA
  if state.layout == nil then convert(state) end
  if state.layout == 2 then -- the same maps, without the skills' texts
    chunkmap.addTexts(state.skills)
    state.layout = S.LAYOUT
  end
  for _, k in ipairs({ "skills", "versions", "deprecated", "publishers", "tags" }) do
    state.counts[k] = state.counts[k] or 0
  end
  -- A state from before the state-transfer protocol is a live registry: it
  -- stays open, and its digest is computed once from its data. Loading the
  -- code again finds both set and changes neither.
  if state.status == nil then state.status = "open" end
  if state.digest == nil then
    state.digest, state.entries, state.bytes = digest.new(), 0, 0
    for name, rec in chunkmap.each(state.skills) do accountSkill(state, record.decode(name, rec), 1) end
    chunkmap.flushAll()
  end
  state.written = nil -- replaced by the status: only a sealed registry takes imports
  return state
end

-- Import-State and State-Import fill only a sealed registry, which no live
-- request can have written to (writes need it open), so an import never
-- replaces a skill its publisher registered or changed here.
function S.acceptsImport(state)
  return state.status == "sealed"
end

-- Empties the data, keeping the lifecycle fields (State-Import's rollback).
function S.clear(state)
  for _, map in ipairs({ state.skills, state.tagIndex, state.publisherIndex }) do chunkmap.discard(map) end
  open, changed = {}, {}
  for k, v in pairs(emptyData()) do state[k] = v end
end

-- As record.text, from a decoded skill.
local function searchText(skill)
  return (skill.name .. "\n" .. skill.description .. "\n" .. table.concat(skill.tags, " ")):lower()
end

S.get = batched(load)

-- Finds a version by anything with equal precedence ("1.0.0" finds "1.0.0+build.5").
function S.findVersion(skill, parsed)
  return skill.versions[parsed.core]
end

function S.latest(skill)
  return skill.latest and skill.versions[skill.latest] or nil
end

local function recomputeLatest(skill)
  skill.latest = nil
  for i = #skill.order, 1, -1 do
    local core = skill.order[i]
    if not skill.versions[core].prerelease then
      skill.latest = core
      break
    end
  end
  skill.latest = skill.latest or skill.order[#skill.order]
  skill.latestVersion = skill.latest and skill.versions[skill.latest].version
end

local function insertVersion(skill, parsed, rec)
  local order = skill.order
  local lo, hi = 1, #order + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if semver.compare(semver.parse(order[mid]), parsed) < 0 then lo = mid + 1 else hi = mid end
  end
  table.insert(order, lo, parsed.core)
  skill.versions[parsed.core] = rec
  recomputeLatest(skill)
end

-- fields: { name, description, tags }
S.register = batched(function(state, fields, publisher, ts)
  local skill = {
    name = fields.name,
    publisher = publisher,
    description = fields.description,
    tags = fields.tags or {},
    createdAt = ts,
    updatedAt = ts,
    deprecated = false,
    versions = {},
    order = {},
  }
  indexSkill(state, skill)
  account(state, S.skillEntry(skill), 1)
  return skill
end)

S.publish = batched(function(state, skill, parsed, txId, contentHash, ts, by)
  local rec = {
    version = parsed.text,
    txId = txId,
    contentHash = contentHash,
    publishedAt = ts,
    publishedBy = by,
    prerelease = semver.isPrerelease(parsed),
  }
  changeSkill(state, skill, function()
    insertVersion(skill, parsed, rec)
    skill.updatedAt = ts
  end)
  account(state, S.versionEntry(skill, rec), 1)
  state.counts.versions = state.counts.versions + 1
  save(skill)
  return rec
end)

-- fields: { description?, tags? }
S.update = batched(function(state, skill, fields, ts)
  changeSkill(state, skill, function()
    if fields.tags then
      unindexTags(state, skill.name, skill.tags)
      skill.tags = fields.tags
      indexTags(state, skill.name, skill.tags)
    end
    if fields.description then skill.description = fields.description end
    skill.updatedAt = ts
  end)
  save(skill)
end)

S.deprecate = batched(function(state, skill, deprecated, reason, ts)
  if deprecated and not skill.deprecated then
    state.counts.deprecated = state.counts.deprecated + 1
  elseif not deprecated and skill.deprecated then
    state.counts.deprecated = state.counts.deprecated - 1
  end
  changeSkill(state, skill, function()
    skill.deprecated = deprecated
    if deprecated then
      skill.deprecationReason = reason
      skill.deprecatedAt = ts
    else
      skill.deprecationReason = nil
      skill.deprecatedAt = nil
    end
    skill.updatedAt = ts
  end)
  save(skill)
end)

S.transfer = batched(function(state, skill, to, ts)
  changeSkill(state, skill, function()
    indexRemove(state, state.publisherIndex, "publishers", skill.publisher, skill.name)
    skill.publisher = to
    indexAdd(state, state.publisherIndex, "publishers", to, skill.name)
    skill.updatedAt = ts
  end)
  save(skill)
end)

-- The entries of `map` in key order from `key` (after it when `after`).
local function walk(map, key, after)
  local c, i = chunkmap.position(map, key, after)
  return function()
    while c <= #map.chunks do
      local v = chunkmap.view(map, c)
      if i <= #v.keys then
        i = i + 1
        return v.keys[i - 1], v.vals[i - 1]
      end
      c, i = c + 1, 1
    end
  end
end

-- One page of skills in byte order of their names, starting after `cursor`:
-- heads (record.lua), or whole skills when `whole`. Returns them and the
-- cursor of the next page (nil on the last page).
S.page = batched(function(state, cursor, limit, whole)
  sync(state)
  local decode = whole and record.decode or record.head
  local out, more = {}, false
  for name, rec in walk(state.skills, cursor, true) do
    if #out == limit then more = true; break end
    out[#out + 1] = decode(name, rec)
  end
  return out, (more and out[#out].name or nil)
end)

-- The name of the last skill, or nil.
S.lastName = batched(function(state)
  sync(state)
  local n = #state.skills.chunks
  return n > 0 and chunkmap.lastKey(state.skills, n) or nil
end)

local function matches(skill, filters, terms)
  if skill.deprecated and not filters.includeDeprecated then return false end
  if filters.publisher and skill.publisher ~= filters.publisher then return false end
  if terms then
    local text = searchText(skill)
    for _, term in ipairs(terms) do
      if not text:find(term, 1, true) then return false end
    end
  end
  return true
end

-- filters: { tag?, prefix?, terms?, publisher?, includeDeprecated }
-- All given filters must match. Results are heads in name order. The scan
-- reads candidates from the narrowest index (the tag's, else the publisher's,
-- else the names from the prefix) and examines at most `budget` of them, so
-- its work does not grow with the registry. It stops at the first of:
--   * `limit` matches and one more found: nextCursor = the last match;
--   * no more candidates: nextCursor = nil;
--   * `budget` candidates examined: nextCursor = the last name examined
--     (the next page continues after it), and `exhausted` is true.
-- `examined` never passes `budget`: a step that rejects many candidates at
-- once (a chunk's text) is cut at the budget.
-- Text terms are first looked for in the search text of a whole chunk of
-- records (chunkText): a chunk without them is examined, and rejected, in one
-- step, and so are the candidates of an index whose records it holds.
-- Returns heads, nextCursor, examined, exhausted.
S.search = batched(function(state, filters, cursor, limit, budget)
  sync(state)
  local skills = state.skills
  local source, base = skills, ""
  if filters.tag then
    source, base = state.tagIndex, filters.tag .. SEP
  elseif filters.publisher then
    source, base = state.publisherIndex, filters.publisher .. SEP
  end
  local scope = base .. (filters.prefix or "")
  local from, after = scope, false
  if cursor and base .. cursor >= scope then from, after = base .. cursor, true end

  local terms = filters.terms
  local textIn = {} -- skills chunk -> whether its search text holds every term
  local function mayMatch(c)
    if not terms then return true end
    local ok = textIn[c]
    if ok == nil then
      ok = true
      local text = chunkmap.text(skills, c) -- nil when this message changed the chunk
      if text then
        for _, term in ipairs(terms) do
          if not text:find(term, 1, true) then ok = false; break end
        end
      end
      textIn[c] = ok
    end
    return ok
  end

  -- How many of keys[i..j-1] are candidates (in scope: they are sorted and
  -- >= scope, so those in it come first). A candidate whose record is in a
  -- rejected chunk is rejected with every candidate after it in that chunk,
  -- in one step: a text search within a tag costs a step per chunk of
  -- records, not per candidate.
  local function run(keys, i, j)
    if keys[j - 1]:sub(1, #scope) == scope then return j - i end
    local lo, hi = i + 1, j - 1 -- keys[i] is in scope, keys[j - 1] is not
    while lo < hi do
      local mid = (lo + hi) // 2
      if keys[mid]:sub(1, #scope) == scope then lo = mid + 1 else hi = mid end
    end
    return lo - i
  end

  local out, examined, more, exhausted = {}, 0, false, false
  local lastName, lastChunk -- the last candidate examined, or the last chunk rejected whole
  local at = 1 -- the skills chunk of the last candidate from an index (candidates come in name order)
  local c, i = chunkmap.position(source, from, after)
  while c <= #source.chunks do
    -- A whole chunk of names rejected by its text, when the budget covers it all; a chunk that would
    -- pass the budget is rejected name by name below, up to the budget exactly.
    if source == skills and scope == "" and i == 1 and examined + source.sizes[c] <= budget and not mayMatch(c) then
      examined = examined + source.sizes[c]
      lastName, lastChunk = nil, c
      c = c + 1
    else
      local v = chunkmap.view(source, c)
      local key = v.keys[i]
      if key == nil then
        c, i = c + 1, 1
      else
        if key:sub(1, #scope) ~= scope then break end
        if examined >= budget then exhausted = true; break end
        local name = key:sub(#base + 1)
        local head, n = nil, 1 -- n: the candidates examined in this step
        if source == skills then
          if mayMatch(c) then head = record.head(name, v.vals[i]) else n = run(v.keys, i, #v.keys + 1) end
        else
          at = chunkmap.locateFrom(skills, name, at)
          if mayMatch(at) then
            head = record.head(name, chunkmap.get(skills, name, at))
          else
            local nextFirst = skills.first[at + 1]
            n = run(v.keys, i, nextFirst and chunkmap.bound(v.keys, base .. nextFirst) or #v.keys + 1)
          end
        end
        if n > 1 then
          n = math.min(n, budget - examined)
          name = v.keys[i + n - 1]:sub(#base + 1)
        end
        examined = examined + n
        lastName, lastChunk = name, nil
        if head and matches(head, filters, terms) then
          if #out == limit then more = true; break end
          out[#out + 1] = head
        end
        i = i + n
      end
    end
  end
  local nextCursor = nil
  if exhausted then
    nextCursor = lastName or chunkmap.lastKey(skills, lastChunk)
  elseif more then
    nextCursor = out[#out].name
  end
  return out, nextCursor, examined, exhausted
end)

-- The full record of a skill as exported (and accepted by import).
function S.exportRecord(skill)
  local versions = {}
  for i, core in ipairs(skill.order) do versions[i] = S.versionFields(skill.versions[core]) end
  return {
    name = skill.name,
    publisher = skill.publisher,
    description = skill.description,
    tags = skill.tags,
    createdAt = skill.createdAt,
    updatedAt = skill.updatedAt,
    deprecated = skill.deprecated,
    deprecationReason = skill.deprecationReason,
    deprecatedAt = skill.deprecatedAt,
    versions = versions,
  }
end

-- A skill's own fields from a validated entry or record.
local function setOwnFields(skill, fields)
  skill.publisher = fields.publisher
  skill.description = fields.description
  skill.tags = fields.tags or {}
  skill.createdAt = fields.createdAt
  skill.updatedAt = fields.updatedAt
  skill.deprecated = fields.deprecated or false
  skill.deprecationReason = skill.deprecated and fields.deprecationReason or nil
  skill.deprecatedAt = skill.deprecated and fields.deprecatedAt or nil
end

-- Installs a validated skill entry (see registry.lua): a new skill, or the
-- replacement of an existing skill's own fields (its versions are kept).
-- fields: { name, publisher, description, tags?, createdAt, updatedAt,
-- deprecated?, deprecationReason?, deprecatedAt? }. Returns the skill and
-- whether one was replaced.
S.installSkill = batched(function(state, fields)
  local skill = load(state, fields.name)
  local replaced = skill ~= nil
  if replaced then
    account(state, S.skillEntry(skill), -1)
    unindexSkill(state, skill)
  else
    skill = { name = fields.name, versions = {}, order = {} }
  end
  setOwnFields(skill, fields)
  indexSkill(state, skill)
  account(state, S.skillEntry(skill), 1)
  return skill, replaced
end)

-- Installs a validated version record into an existing skill, replacing the
-- version of equal precedence if there is one (its position stays the same).
S.installVersion = batched(function(state, skill, parsed, rec)
  local existing = skill.versions[parsed.core]
  if existing then
    account(state, S.versionEntry(skill, existing), -1)
    skill.versions[parsed.core] = rec
    recomputeLatest(skill)
  else
    insertVersion(skill, parsed, rec)
    state.counts.versions = state.counts.versions + 1
  end
  account(state, S.versionEntry(skill, rec), 1)
  save(skill)
end)

-- Installs a validated Import-State record (a skill with all its versions),
-- replacing any skill of the same name whole. `versions` holds { parsed,
-- record } pairs. Returns true when an existing skill was replaced.
S.install = batched(function(state, rec)
  local existing = load(state, rec.name)
  if existing then
    accountSkill(state, existing, -1)
    unindexSkill(state, existing)
  end
  local skill = { name = rec.name, versions = {}, order = {} }
  setOwnFields(skill, rec)
  indexSkill(state, skill)
  account(state, S.skillEntry(skill), 1)
  for _, pv in ipairs(rec.versions or {}) do S.installVersion(state, skill, pv.parsed, pv.record) end
  return existing ~= nil
end)

-- One page of entries in the export order, starting after `cursor`, whose
-- canonical bytes stay within `maxBytes` (at least one entry). A cursor is
-- "<name>/<i>": after the skill entry of `name` (i = 0) or its i-th version.
-- Returns the entries and the next cursor (nil on the last page). Depends only on the state, so a frozen state pages the same way.
S.exportPage = batched(function(state, cursor, maxBytes)
  sync(state)
  local nextSkill = walk(state.skills, cursor and cursor.name, false)
  local function advance()
    local name, rec = nextSkill()
    return name and record.decode(name, rec)
  end
  local skill, vi = advance(), 0 -- the next entry: skill's version vi (0 = the skill entry)
  if cursor and skill and skill.name == cursor.name then vi = cursor.index + 1 end
  local entries, bytes = json.array(), 0
  local last
  while skill do
    if vi > #skill.order then
      skill, vi = advance(), 0
    else
      local entry = vi == 0 and S.skillEntry(skill) or S.versionEntry(skill, skill.versions[skill.order[vi]])
      local text = json.encode(entry)
      if #entries > 0 and bytes + #text > maxBytes then break end
      bytes = bytes + #text
      entries[#entries + 1] = entry
      last = { name = skill.name, index = vi }
      vi = vi + 1
    end
  end
  -- Skip past a skill whose versions all went in, so that the last page has no next cursor.
  while skill and vi > #skill.order do skill, vi = advance(), 0 end
  local nextCursor = nil
  if skill and last then nextCursor = last.name .. "/" .. last.index end
  return entries, nextCursor
end)

return S
