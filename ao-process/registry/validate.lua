-- Request validation. Every checker takes (value, field) and returns the
-- normalised value, or nil and an error { code, message, field }. Nothing here
-- touches state, so a handler can validate a whole request before it mutates.

local json = require("registry.json")
local semver = require("registry.semver")
local unicode = require("registry.unicode")

local V = {}

V.LIMITS = {
  messageBytes = 16 * 1024,        -- Data plus tags of an ordinary request
  importMessageBytes = 1024 * 1024, -- Data plus tags of an Import-State page
  nameMin = 1,
  nameMax = 64,
  descriptionMax = 1024,
  tagsMax = 10,
  tagMax = 32,
  versionMax = 64,
  reasonMax = 256,
  queryMax = 128,
  queryTermsMax = 8,
  pageDefault = 20,
  pageMax = 100,
  searchScan = 1000,               -- candidates one Search-Skills request examines at most
  exportPageDefault = 25,
  exportPageMax = 100,
  exportPageBytes = 512 * 1024,    -- an Export-State page stops growing past this
  transferPageBytesMin = 1024,     -- State-Export maxBytes: canonical bytes of a page
  transferPageBytesDefault = 256 * 1024,
  transferPageBytesMax = 512 * 1024,
  versionsPerSkill = 1000,
  jsonDepth = 16,                  -- containers nested in Data (the deepest request needs 4)
}
local L = V.LIMITS

function V.err(code, message, field)
  return { code = code, message = message, field = field }
end
local err = V.err

local function isInteger(v)
  return math.type(v) == "integer" or (type(v) == "number" and math.tointeger(v) ~= nil)
end

-- A token of lowercase letters and digits in groups joined by single hyphens:
-- "pdf-tools", "a1". No leading, trailing or doubled hyphens.
local function isSlug(s)
  return s:match("^[a-z0-9-]+$") ~= nil and s:sub(1, 1) ~= "-" and s:sub(-1) ~= "-"
    and not s:find("--", 1, true)
end

local function typeName(v)
  if v == json.null then return "null" end
  if type(v) == "table" then return "an object or array" end
  return "a " .. type(v)
end

-- Every string field passes here, so no text that is not UTF-8 is stored or
-- echoed, whichever way it arrived (a JSON \u escape included). U+FFFD is
-- refused too: on AO's legacy units it is what bytes that were not UTF-8
-- become before the registry sees them (registry/unicode.lua). Except in an
-- imported record (`imported`): a registry before 1.4.0 accepted it, and a
-- move must never fail on what a registry already holds.
local function requireString(value, field, hint, imported)
  if type(value) ~= "string" then
    return nil, err("E_INVALID_FIELD", field .. " must be a string" .. (hint or "") .. ", got " .. typeName(value), field)
  end
  if not unicode.valid(value) then
    return nil, err("E_INVALID_FIELD", field .. " is not valid UTF-8; send UTF-8 text", field)
  end
  if not imported and unicode.hasReplacement(value) then
    return nil, err("E_INVALID_FIELD", field ..
      " contains U+FFFD, the replacement character that bytes which were not UTF-8 become on the way; send UTF-8 text", field)
  end
  return value
end

-- Free text: UTF-8 (requireString), no control characters except tab and newline.
local function checkText(value, field, max, allowEmpty, imported)
  local s, e = requireString(value, field, nil, imported)
  if not s then return nil, e end
  if #s > max then
    return nil, err("E_FIELD_TOO_LARGE",
      string.format("%s is %d bytes; the limit is %d bytes. Shorten it.", field, #s, max), field)
  end
  if not allowEmpty and s:match("^%s*$") then
    return nil, err("E_INVALID_FIELD", field .. " must not be empty", field)
  end
  if s:find("[%z\1-\8\11-\31\127]") then
    return nil, err("E_INVALID_FIELD", field .. " contains control characters; only tab and newline are allowed", field)
  end
  return s
end

-- The error for a string field over its length limit.
local function tooLong(field, length, limit)
  return err("E_FIELD_TOO_LARGE", string.format("%s is %d characters; the limit is %d", field, length, limit), field)
end

function V.name(value, field)
  field = field or "name"
  local s, e = requireString(value, field, " (the skill name)")
  if not s then return nil, e end
  if #s > L.nameMax then return nil, tooLong(field, #s, L.nameMax) end
  if #s < L.nameMin or not isSlug(s) then
    return nil, err("E_INVALID_NAME", string.format(
      "%s %q is not a valid skill name: use 1-%d lowercase letters, digits and single hyphens, not starting or ending with a hyphen (e.g. \"pdf-tools\")",
      field, s, L.nameMax), field)
  end
  return s
end

-- `imported`: the text comes from a record a move imports (see requireString).
function V.description(value, field, imported)
  return checkText(value, field or "description", L.descriptionMax, false, imported)
end

function V.reason(value, field, imported)
  return checkText(value, field or "reason", L.reasonMax, true, imported)
end

function V.tag(value, field)
  local s, e = requireString(value, field)
  if not s then return nil, e end
  if #s > L.tagMax then return nil, tooLong(field, #s, L.tagMax) end
  if s == "" or not isSlug(s) then
    return nil, err("E_INVALID_TAG", string.format(
      "%s %q is not a valid tag: use lowercase letters, digits and single hyphens (e.g. \"documents\")", field, s), field)
  end
  return s
end

-- A list of unique tags; returned sorted.
function V.tags(value, field)
  field = field or "tags"
  if not json.isArray(value) then
    return nil, err("E_INVALID_FIELD", field .. " must be an array of strings", field)
  end
  local n = #value
  if n > L.tagsMax then
    return nil, err("E_FIELD_TOO_LARGE",
      string.format("%s has %d tags; the limit is %d", field, n, L.tagsMax), field)
  end
  local seen, out = {}, {}
  for i, t in ipairs(value) do
    local tag, e = V.tag(t, string.format("%s[%d]", field, i - 1))
    if not tag then return nil, e end
    if seen[tag] then
      return nil, err("E_INVALID_TAG", string.format("%s lists %q twice; list each tag once", field, tag), field)
    end
    seen[tag] = true
    out[#out + 1] = tag
  end
  table.sort(out)
  return out
end

-- Returns the parsed version (see semver.parse; `.text` is the input).
function V.version(value, field)
  field = field or "version"
  local s, e = requireString(value, field, " (a semantic version such as \"1.2.3\")")
  if not s then return nil, e end
  if #s > L.versionMax then return nil, tooLong(field, #s, L.versionMax) end
  local v, reason = semver.parse(s)
  if not v then
    return nil, err("E_INVALID_VERSION", string.format(
      "%s %q is not a semantic version: %s (see https://semver.org)", field, s, reason), field)
  end
  return v
end

function V.txId(value, field)
  field = field or "txId"
  local s, e = requireString(value, field, " (an Arweave transaction ID)")
  if not s then return nil, e end
  if #s ~= 43 or not s:match("^[A-Za-z0-9_-]+$") then
    return nil, err("E_INVALID_TX_ID", string.format(
      "%s must be an Arweave transaction ID: exactly 43 base64url characters [A-Za-z0-9_-], got %d characters",
      field, #s), field)
  end
  return s
end

-- 64 lowercase hex digits (a SHA-256, or a state-transfer digest), described as `what`.
local function hex64(value, field, what)
  local s, e = requireString(value, field, " (" .. what .. ")")
  if not s then return nil, e end
  if #s ~= 64 or not s:match("^[0-9a-f]+$") then
    return nil, err("E_INVALID_HASH", field .. " must be " .. what .. " as 64 lowercase hexadecimal characters", field)
  end
  return s
end

function V.contentHash(value, field)
  return hex64(value, field or "contentHash", "the SHA-256 of the bundle")
end

function V.digest(value, field)
  return hex64(value, field or "digest", "the state digest that State-Info reports")
end

-- An AO/Arweave address (43 base64url characters) or an Ethereum address (0x + 40 hex).
function V.address(value, field)
  field = field or "address"
  local s, e = requireString(value, field, " (a wallet or process address)")
  if not s then return nil, e end
  local arweave = #s == 43 and s:match("^[A-Za-z0-9_-]+$") ~= nil
  local ethereum = #s == 42 and s:match("^0x%x+$") ~= nil
  if not (arweave or ethereum) then
    return nil, err("E_INVALID_ADDRESS", string.format(
      "%s %q is not an address: use 43 base64url characters (Arweave/AO) or 0x followed by 40 hex digits (Ethereum)",
      field, s), field)
  end
  return s
end

function V.boolean(value, field)
  if type(value) ~= "boolean" then
    return nil, err("E_INVALID_FIELD", field .. " must be true or false, got " .. typeName(value), field)
  end
  return value
end

function V.timestamp(value, field)
  if not isInteger(value) or value < 0 then
    return nil, err("E_INVALID_FIELD", field .. " must be a non-negative integer (milliseconds)", field)
  end
  return math.tointeger(value)
end

local function limitChecker(default, max)
  return function(value, field)
    if not isInteger(value) or value < 1 or value > max then
      return nil, err("E_INVALID_FIELD", string.format(
        "%s must be an integer from 1 to %d (default %d)", field, max, default), field)
    end
    return math.tointeger(value)
  end
end
V.limit = limitChecker(L.pageDefault, L.pageMax)
V.exportLimit = limitChecker(L.exportPageDefault, L.exportPageMax)

-- State-Export's maxBytes.
function V.pageBytes(value, field)
  if not isInteger(value) or value < L.transferPageBytesMin or value > L.transferPageBytesMax then
    return nil, err("E_INVALID_FIELD", string.format("%s must be an integer from %d to %d (default %d)",
      field, L.transferPageBytesMin, L.transferPageBytesMax, L.transferPageBytesDefault), field)
  end
  return math.tointeger(value)
end

-- State-Import's page number: 1, 2, ...
function V.pageNumber(value, field)
  if not isInteger(value) or value < 1 then
    return nil, err("E_INVALID_FIELD", field .. " must be a page number: an integer from 1", field)
  end
  return math.tointeger(value)
end

-- A State-Export cursor, "<skill name>/<i>" (store.exportPage); returns { name, index }.
function V.transferCursor(value, field)
  local s, e = requireString(value, field, " (the nextCursor of the previous State-Export page)")
  if not s then return nil, e end
  local name, i = s:match("^([a-z0-9-]+)/(%d%d?%d?%d?)$")
  if not name or #name > L.nameMax then
    return nil, err("E_INVALID_FIELD", field .. " is not a State-Export cursor: pass nextCursor from the previous reply", field)
  end
  return { name = name, index = math.tointeger(tonumber(i)) }
end

-- A page cursor is the last skill name of the previous page.
function V.cursor(value, field)
  field = field or "cursor"
  local s, e = requireString(value, field, " (the nextCursor of the previous page)")
  if not s then return nil, e end
  if #s > L.nameMax then
    return nil, err("E_INVALID_FIELD", field .. " is not a cursor: pass nextCursor from the previous reply", field)
  end
  return s
end

-- Free-text search: returns the list of lowercase terms.
function V.query(value, field)
  field = field or "query"
  local s, e = checkText(value, field, L.queryMax, false)
  if not s then return nil, e end
  local terms = {}
  for term in s:lower():gmatch("%S+") do terms[#terms + 1] = term end
  if #terms > L.queryTermsMax then
    return nil, err("E_FIELD_TOO_LARGE", string.format(
      "%s has %d words; the limit is %d", field, #terms, L.queryTermsMax), field)
  end
  return terms
end

-- Name prefix for Search-Skills: a partial name.
function V.prefix(value, field)
  local s, e = requireString(value, field)
  if not s then return nil, e end
  if #s > L.nameMax then return nil, tooLong(field, #s, L.nameMax) end
  if s == "" or not s:match("^[a-z0-9-]+$") then
    return nil, err("E_INVALID_NAME",
      field .. " must be the start of a skill name: lowercase letters, digits and hyphens", field)
  end
  return s
end

-- Checks that `data` is a JSON object and validates it against `spec`, a map
-- of field -> { check = fn, required = bool }. Unknown fields are rejected so
-- that a misspelt field is reported instead of silently ignored. Returns the
-- table of normalised values or nil and an error.
function V.object(data, spec, what, prefix)
  what = what or "the request"
  prefix = prefix or ""
  if not json.isObject(data) then
    return nil, err("E_INVALID_FIELD", what .. " must be a JSON object")
  end
  local unknown = {}
  for k in pairs(data) do
    if type(k) ~= "string" then
      return nil, err("E_INVALID_FIELD", what .. " must be a JSON object")
    end
    if not spec[k] then unknown[#unknown + 1] = k end
  end
  if #unknown > 0 then
    table.sort(unknown)
    local known = {}
    for k in pairs(spec) do known[#known + 1] = k end
    table.sort(known)
    return nil, err("E_UNKNOWN_FIELD", string.format(
      "unknown field %q in %s; the accepted fields are: %s", unknown[1], what,
      #known > 0 and table.concat(known, ", ") or "(none)"), prefix .. unknown[1])
  end
  local fields = {}
  for k in pairs(spec) do fields[#fields + 1] = k end
  table.sort(fields)
  local out = {}
  for _, k in ipairs(fields) do
    local rule = spec[k]
    local v = data[k]
    if v == nil then
      if rule.required then
        return nil, err("E_MISSING_FIELD", string.format("%s needs the field %q", what, k), prefix .. k)
      end
    else
      -- A prefix means an imported record's field (Import-State, State-Import): see requireString.
      local value, e = rule.check(v, prefix .. k, prefix ~= "")
      if value == nil then return nil, e end
      out[k] = value
    end
  end
  return out
end

return V
