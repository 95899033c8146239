-- A skill as one string (the value of its name in the skills map, see
-- chunkmap.lua): one Lua object instead of a table per skill and per version.
-- The head (the skill's own fields, its latest version and how many versions
-- it has) comes first, so a summary decodes without reading the versions.
--
-- Decoded, a skill is the table the store works on:
--   { name, publisher, description, tags = {sorted}, createdAt, updatedAt,
--     deprecated, deprecationReason?, deprecatedAt?, latestVersion? (text),
--     versions = { [core] = { version, txId, contentHash, publishedAt, publishedBy, prerelease } },
--     order = { core, ... },  -- ascending semver precedence
--     latest = core? }        -- highest release, else highest pre-release
-- A head has the same fields without versions, order and latest.

local R = {}

local pack, unpack = string.pack, string.unpack

-- publisher, description, tags (joined by spaces: a tag has none), createdAt,
-- updatedAt, flags, deprecationReason, deprecatedAt, latest version (text,
-- "" for none), position of the latest in the versions (0 for none), count.
local HEAD = ">s2s2s2jjBs2js1I2I2"
-- version, txId, contentHash, publishedAt, publishedBy, prerelease
local VERSION = ">s1s1s1js2B"

local DEPRECATED, HAS_REASON, HAS_DEPRECATED_AT = 1, 2, 4

local function coreOf(version)
  return (version:gsub("%+.*$", ""))
end

function R.encode(skill)
  local flags = (skill.deprecated and DEPRECATED or 0)
    | (skill.deprecationReason and HAS_REASON or 0)
    | (skill.deprecatedAt and HAS_DEPRECATED_AT or 0)
  local latestAt, latestText = 0, ""
  for i, core in ipairs(skill.order) do
    if core == skill.latest then latestAt, latestText = i, skill.versions[core].version end
  end
  local parts = {
    pack(HEAD, skill.publisher, skill.description, table.concat(skill.tags, " "), skill.createdAt,
      skill.updatedAt, flags, skill.deprecationReason or "", skill.deprecatedAt or 0, latestText, latestAt,
      #skill.order),
  }
  for i, core in ipairs(skill.order) do
    local v = skill.versions[core]
    parts[i + 1] = pack(VERSION, v.version, v.txId, v.contentHash, v.publishedAt, v.publishedBy,
      v.prerelease and 1 or 0)
  end
  return table.concat(parts)
end

-- The head of a skill, and where its versions start (and their count, and the latest's position).
local function head(name, s)
  local publisher, description, tags, createdAt, updatedAt, flags, reason, deprecatedAt, latestText, latestAt, count, pos =
    unpack(HEAD, s)
  local list = {}
  for tag in tags:gmatch("%S+") do list[#list + 1] = tag end
  local skill = {
    name = name,
    publisher = publisher,
    description = description,
    tags = list,
    createdAt = createdAt,
    updatedAt = updatedAt,
    deprecated = flags & DEPRECATED ~= 0,
    deprecationReason = flags & HAS_REASON ~= 0 and reason or nil,
    deprecatedAt = flags & HAS_DEPRECATED_AT ~= 0 and deprecatedAt or nil,
    latestVersion = latestText ~= "" and latestText or nil,
  }
  return skill, pos, count, latestAt
end

-- The text a search looks for words in (lowercased by the caller): the
-- name, description and tags, one per line. Read without decoding the rest.
function R.text(name, s)
  local _, description, tags = unpack(">s2s2s2", s)
  return name .. "\n" .. description .. "\n" .. tags
end

function R.head(name, s)
  return (head(name, s))
end

function R.decode(name, s)
  local skill, pos, count, latestAt = head(name, s)
  local versions, order = {}, {}
  for i = 1, count do
    local version, txId, contentHash, publishedAt, publishedBy, prerelease
    version, txId, contentHash, publishedAt, publishedBy, prerelease, pos = unpack(VERSION, s, pos)
    local core = coreOf(version)
    versions[core] = {
      version = version,
      txId = txId,
      contentHash = contentHash,
      publishedAt = publishedAt,
      publishedBy = publishedBy,
      prerelease = prerelease == 1,
    }
    order[i] = core
  end
  skill.versions, skill.order, skill.latest = versions, order, order[latestAt]
  return skill
end

return R
