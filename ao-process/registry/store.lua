-- The registry's state and the operations on it.
--
-- State lives in one global table (see registry.lua) so that loading the code
-- again keeps it. The functions here assume their inputs were validated: they
-- do not fail half-way, so a handler that validated first never leaves a
-- partial change behind.
--
-- Shape:
--   state.skills[name] = {
--     name, publisher, description, tags = {sorted}, createdAt, updatedAt,
--     deprecated, deprecationReason?, deprecatedAt?,
--     versions = { [core] = { version, txId, contentHash, publishedAt, publishedBy, prerelease } },
--     order = { core, ... }  -- ascending semver precedence
--     latest = core?         -- highest release, else highest pre-release
--     text = "..."           -- lowercase name, description and tags, for text search
--   }
--   state.names               sorted array of every name
--   state.byTag[tag]          sorted array of the names carrying the tag
--   state.publishers[addr]    number of skills the address publishes
--   state.counts              { skills, versions, deprecated, publishers }
--   state.status              "sealed" | "open" | "frozen" (providers/STATE-TRANSFER.md)
--   state.successor           the process this one moved to (while frozen)
--   state.predecessor         the process the last completed import came from
--   state.import              { from, pages } while a State-Import is in progress
--   state.digest              sum of SHA-256(canonical entry) over every entry (digest.lua)
--   state.entries, state.bytes  how many entries, and their canonical bytes
-- The digest, entries and bytes are kept up to date by every operation below
-- (each one that changes an entry subtracts its old hash and adds its new one),
-- so reporting them is O(1).
-- `core` is the version without build metadata: two versions with equal
-- precedence share a key, so "1.0.0+a" and "1.0.0+b" cannot both be published.

local index = require("registry.index")
local semver = require("registry.semver")
local json = require("registry.json")
local sha256 = require("registry.sha256")
local digest = require("registry.digest")

local S = {}

S.SCHEMA = 1

-- The data part of a state: what State-Import's rollback empties.
local function emptyData()
  return {
    skills = {},
    names = {},
    byTag = {},
    publishers = {},
    counts = { skills = 0, versions = 0, deprecated = 0, publishers = 0 },
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
  state.status = "sealed"
  return state
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

-- A version's exported fields: what an entry and an Export-State record share.
local function versionFields(v)
  return {
    version = v.version,
    txId = v.txId,
    contentHash = v.contentHash,
    publishedAt = v.publishedAt,
    publishedBy = v.publishedBy,
  }
end

function S.versionEntry(skill, v)
  local entry = versionFields(v)
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

-- Brings a state loaded by an earlier version of this code up to date.
function S.migrate(state)
  state.schema = state.schema or S.SCHEMA
  state.skills = state.skills or {}
  state.names = state.names or {}
  state.byTag = state.byTag or {}
  state.publishers = state.publishers or {}
  state.counts = state.counts or {}
  for _, k in ipairs({ "skills", "versions", "deprecated", "publishers" }) do
    state.counts[k] = state.counts[k] or 0
  end
  -- A state from before the state-transfer protocol is a live registry: it
  -- stays open, and its digest is computed once from its data. Loading the
  -- code again finds both set and changes neither.
  if state.status == nil then state.status = "open" end
  if state.digest == nil then
    state.digest, state.entries, state.bytes = digest.new(), 0, 0
    for _, name in ipairs(state.names) do accountSkill(state, state.skills[name], 1) end
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
  for k, v in pairs(emptyData()) do state[k] = v end
end

local function searchText(skill)
  return (skill.name .. "\n" .. skill.description .. "\n" .. table.concat(skill.tags, " ")):lower()
end

local function addPublisher(state, addr)
  local n = state.publishers[addr]
  if not n then state.counts.publishers = state.counts.publishers + 1 end
  state.publishers[addr] = (n or 0) + 1
end

local function removePublisher(state, addr)
  local n = state.publishers[addr] or 0
  if n <= 1 then
    if state.publishers[addr] then state.counts.publishers = state.counts.publishers - 1 end
    state.publishers[addr] = nil
  else
    state.publishers[addr] = n - 1
  end
end

local function indexTags(state, name, tags)
  for _, tag in ipairs(tags) do
    local list = state.byTag[tag]
    if not list then list = {}; state.byTag[tag] = list end
    index.insert(list, name)
  end
end

local function unindexTags(state, name, tags)
  for _, tag in ipairs(tags) do
    local list = state.byTag[tag]
    if list then
      index.remove(list, name)
      if #list == 0 then state.byTag[tag] = nil end
    end
  end
end

local function countVersions(skill)
  return #skill.order
end

-- Indexes and counts a skill (its entries are accounted by the caller).
local function addSkill(state, skill)
  skill.text = searchText(skill)
  state.skills[skill.name] = skill
  index.insert(state.names, skill.name)
  indexTags(state, skill.name, skill.tags)
  addPublisher(state, skill.publisher)
  state.counts.skills = state.counts.skills + 1
  state.counts.versions = state.counts.versions + countVersions(skill)
  if skill.deprecated then state.counts.deprecated = state.counts.deprecated + 1 end
end

local function removeSkill(state, skill)
  state.skills[skill.name] = nil
  index.remove(state.names, skill.name)
  unindexTags(state, skill.name, skill.tags)
  removePublisher(state, skill.publisher)
  state.counts.skills = state.counts.skills - 1
  state.counts.versions = state.counts.versions - countVersions(skill)
  if skill.deprecated then state.counts.deprecated = state.counts.deprecated - 1 end
end

function S.get(state, name)
  return state.skills[name]
end

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
      return
    end
  end
  skill.latest = skill.order[#skill.order]
end

local function insertVersion(skill, parsed, record)
  local order = skill.order
  local lo, hi = 1, #order + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if semver.compare(semver.parse(order[mid]), parsed) < 0 then lo = mid + 1 else hi = mid end
  end
  table.insert(order, lo, parsed.core)
  skill.versions[parsed.core] = record
  recomputeLatest(skill)
end

-- fields: { name, description, tags }
function S.register(state, fields, publisher, ts)
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
  addSkill(state, skill)
  account(state, S.skillEntry(skill), 1)
  return skill
end

function S.publish(state, skill, parsed, txId, contentHash, ts, by)
  local record = {
    version = parsed.text,
    txId = txId,
    contentHash = contentHash,
    publishedAt = ts,
    publishedBy = by,
    prerelease = semver.isPrerelease(parsed),
  }
  changeSkill(state, skill, function()
    insertVersion(skill, parsed, record)
    skill.updatedAt = ts
  end)
  account(state, S.versionEntry(skill, record), 1)
  state.counts.versions = state.counts.versions + 1
  return record
end

-- fields: { description?, tags? }
function S.update(state, skill, fields, ts)
  changeSkill(state, skill, function()
    if fields.tags then
      unindexTags(state, skill.name, skill.tags)
      skill.tags = fields.tags
      indexTags(state, skill.name, skill.tags)
    end
    if fields.description then skill.description = fields.description end
    skill.text = searchText(skill)
    skill.updatedAt = ts
  end)
end

function S.deprecate(state, skill, deprecated, reason, ts)
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
end

function S.transfer(state, skill, to, ts)
  changeSkill(state, skill, function()
    removePublisher(state, skill.publisher)
    skill.publisher = to
    addPublisher(state, to)
    skill.updatedAt = ts
  end)
end

-- One page of names in byte order, starting after `cursor`.
-- Returns the names and the cursor of the next page (nil on the last page).
function S.page(state, cursor, limit)
  local names = state.names
  local start = cursor and index.upperBound(names, cursor) or 1
  local out = {}
  local last = math.min(#names, start + limit - 1)
  for i = start, last do out[#out + 1] = names[i] end
  local nextCursor = nil
  if last < #names and #out > 0 then nextCursor = out[#out] end
  return out, nextCursor
end

-- filters: { tag?, prefix?, terms?, publisher?, includeDeprecated }
-- All given filters must match. Results are in name order; the page ends after
-- `limit` matches, and `nextCursor` is set only when another match exists.
function S.search(state, filters, cursor, limit)
  local candidates
  if filters.tag then
    candidates = state.byTag[filters.tag] or {}
  else
    candidates = state.names
  end
  local start = 1
  local prefix = filters.prefix
  if prefix then start = index.lowerBound(candidates, prefix) end
  if cursor then start = math.max(start, index.upperBound(candidates, cursor)) end

  local terms = filters.terms
  local out = {}
  local more = false
  for i = start, #candidates do
    local name = candidates[i]
    if prefix and name:sub(1, #prefix) ~= prefix then break end
    local skill = state.skills[name]
    local ok = filters.includeDeprecated or not skill.deprecated
    if ok and filters.publisher and skill.publisher ~= filters.publisher then ok = false end
    if ok and terms then
      local text = skill.text
      for _, term in ipairs(terms) do
        if not text:find(term, 1, true) then ok = false; break end
      end
    end
    if ok then
      if #out == limit then more = true; break end
      out[#out + 1] = name
    end
  end
  return out, (more and out[#out] or nil)
end

-- The full record of a skill as exported (and accepted by import).
function S.exportRecord(skill)
  local versions = {}
  for i, core in ipairs(skill.order) do versions[i] = versionFields(skill.versions[core]) end
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

-- Installs a validated skill entry (see registry.lua): a new skill, or the
-- replacement of an existing skill's own fields (its versions are kept).
-- fields: { name, publisher, description, tags?, createdAt, updatedAt,
-- deprecated?, deprecationReason?, deprecatedAt? }. Returns the skill and
-- whether one was replaced.
function S.installSkill(state, fields)
  local skill = state.skills[fields.name]
  local replaced = skill ~= nil
  if replaced then
    account(state, S.skillEntry(skill), -1)
    removeSkill(state, skill)
  else
    skill = { name = fields.name, versions = {}, order = {} }
  end
  skill.publisher = fields.publisher
  skill.description = fields.description
  skill.tags = fields.tags or {}
  skill.createdAt = fields.createdAt
  skill.updatedAt = fields.updatedAt
  skill.deprecated = fields.deprecated or false
  skill.deprecationReason = skill.deprecated and fields.deprecationReason or nil
  skill.deprecatedAt = skill.deprecated and fields.deprecatedAt or nil
  addSkill(state, skill)
  account(state, S.skillEntry(skill), 1)
  return skill, replaced
end

-- Installs a validated version record into an existing skill, replacing the
-- version of equal precedence if there is one (its position stays the same).
function S.installVersion(state, skill, parsed, record)
  local existing = skill.versions[parsed.core]
  if existing then
    account(state, S.versionEntry(skill, existing), -1)
    skill.versions[parsed.core] = record
    recomputeLatest(skill)
  else
    insertVersion(skill, parsed, record)
    state.counts.versions = state.counts.versions + 1
  end
  account(state, S.versionEntry(skill, record), 1)
end

-- Installs a validated Import-State record (a skill with all its versions),
-- replacing any skill of the same name whole. `versions` holds { parsed,
-- record } pairs. Returns true when an existing skill was replaced.
function S.install(state, rec)
  local existing = state.skills[rec.name]
  if existing then
    accountSkill(state, existing, -1)
    removeSkill(state, existing)
  end
  local skill = S.installSkill(state, rec)
  for _, pv in ipairs(rec.versions or {}) do S.installVersion(state, skill, pv.parsed, pv.record) end
  return existing ~= nil
end

-- One page of entries in the export order, starting after `cursor`, whose
-- canonical bytes stay within `maxBytes` (at least one entry). A cursor is
-- "<name>/<i>": after the skill entry of `name` (i = 0) or its i-th version.
-- Returns the entries and the next cursor (nil on the last page). Depends only on the state, so a frozen state pages the same way.
function S.exportPage(state, cursor, maxBytes)
  local names = state.names
  local at, vi = 1, 0 -- the next entry: names[at], version vi (0 = the skill entry)
  if cursor then
    at = index.lowerBound(names, cursor.name)
    if names[at] == cursor.name then vi = cursor.index + 1 else vi = 0 end
  end
  local entries, bytes = json.array(), 0
  local last
  while names[at] do
    local skill = state.skills[names[at]]
    if vi > #skill.order then
      at, vi = at + 1, 0
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
  while names[at] and vi > #state.skills[names[at]].order do at, vi = at + 1, 0 end
  local nextCursor = nil
  if names[at] and last then nextCursor = last.name .. "/" .. last.index end
  return entries, nextCursor
end

return S
