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
--   state.written             true once a live write (not Import-State) succeeded
-- `core` is the version without build metadata: two versions with equal
-- precedence share a key, so "1.0.0+a" and "1.0.0+b" cannot both be published.

local index = require("registry.index")
local semver = require("registry.semver")

local S = {}

S.SCHEMA = 1

function S.new()
  return {
    schema = S.SCHEMA,
    skills = {},
    names = {},
    byTag = {},
    publishers = {},
    counts = { skills = 0, versions = 0, deprecated = 0, publishers = 0 },
    written = false,
  }
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
  -- State from before `written` existed: anything in it may come from live writes.
  if state.written == nil then state.written = state.counts.skills > 0 end
  return state
end

-- Records that a live request changed the registry (see acceptsImport).
function S.markWritten(state)
  state.written = true
end

-- Import-State fills only a registry that no live request has written to, so
-- an import can never replace a skill its publisher registered or changed
-- here. Re-sending a page (an interrupted migration) stays possible: imported
-- records may be replaced. When zero-loss upgrades arrive, an incoming move
-- will also require the process to be sealed for it: add that condition here.
function S.acceptsImport(state)
  return not state.written
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
  insertVersion(skill, parsed, record)
  skill.updatedAt = ts
  state.counts.versions = state.counts.versions + 1
  return record
end

-- fields: { description?, tags? }
function S.update(state, skill, fields, ts)
  if fields.tags then
    unindexTags(state, skill.name, skill.tags)
    skill.tags = fields.tags
    indexTags(state, skill.name, skill.tags)
  end
  if fields.description then skill.description = fields.description end
  skill.text = searchText(skill)
  skill.updatedAt = ts
end

function S.deprecate(state, skill, deprecated, reason, ts)
  if deprecated and not skill.deprecated then
    state.counts.deprecated = state.counts.deprecated + 1
  elseif not deprecated and skill.deprecated then
    state.counts.deprecated = state.counts.deprecated - 1
  end
  skill.deprecated = deprecated
  if deprecated then
    skill.deprecationReason = reason
    skill.deprecatedAt = ts
  else
    skill.deprecationReason = nil
    skill.deprecatedAt = nil
  end
  skill.updatedAt = ts
end

function S.transfer(state, skill, to, ts)
  removePublisher(state, skill.publisher)
  skill.publisher = to
  addPublisher(state, to)
  skill.updatedAt = ts
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
  for i, core in ipairs(skill.order) do
    local v = skill.versions[core]
    versions[i] = {
      version = v.version,
      txId = v.txId,
      contentHash = v.contentHash,
      publishedAt = v.publishedAt,
      publishedBy = v.publishedBy,
    }
  end
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

-- Installs a validated import record (see registry.lua), replacing any skill
-- of the same name. `versions` holds { parsed, record } pairs.
-- Returns true when an existing skill was replaced.
function S.install(state, rec)
  local existing = state.skills[rec.name]
  if existing then removeSkill(state, existing) end
  local skill = {
    name = rec.name,
    publisher = rec.publisher,
    description = rec.description,
    tags = rec.tags or {},
    createdAt = rec.createdAt,
    updatedAt = rec.updatedAt,
    deprecated = rec.deprecated or false,
    deprecationReason = rec.deprecated and rec.deprecationReason or nil,
    deprecatedAt = rec.deprecated and rec.deprecatedAt or nil,
    versions = {},
    order = {},
  }
  for _, pv in ipairs(rec.versions or {}) do
    insertVersion(skill, pv.parsed, pv.record)
  end
  addSkill(state, skill)
  return existing ~= nil
end

return S
