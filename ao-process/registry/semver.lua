-- Semantic Versioning 2.0.0 (https://semver.org): parsing and precedence.
--
-- Numbers are kept as strings and compared by length then by digits, so a
-- version such as 1.0.99999999999999999999 never overflows a Lua integer.

local M = {}

local function isNumeric(s)
  return s:match("^%d+$") ~= nil
end

-- A numeric identifier: "0", or digits without a leading zero.
local function validNumber(s)
  return isNumeric(s) and (s == "0" or s:sub(1, 1) ~= "0")
end

local function splitDots(s)
  local parts = {}
  local start = 1
  while true do
    local dot = s:find(".", start, true)
    if not dot then
      parts[#parts + 1] = s:sub(start)
      return parts
    end
    parts[#parts + 1] = s:sub(start, dot - 1)
    start = dot + 1
  end
end

-- Parses `s`. Returns a table { major, minor, patch, prerelease = {ids},
-- build = {ids}, core = "M.m.p[-pre]", text = s } or nil and a reason.
function M.parse(s)
  if type(s) ~= "string" then return nil, "a version must be a string" end
  local main, build = s, nil
  local plus = s:find("+", 1, true)
  if plus then main, build = s:sub(1, plus - 1), s:sub(plus + 1) end
  local core, pre = main, nil
  local dash = main:find("-", 1, true)
  if dash then core, pre = main:sub(1, dash - 1), main:sub(dash + 1) end

  local nums = splitDots(core)
  if #nums ~= 3 then
    return nil, "expected MAJOR.MINOR.PATCH, e.g. 1.2.3"
  end
  for _, n in ipairs(nums) do
    if not validNumber(n) then
      return nil, "MAJOR, MINOR and PATCH must be non-negative integers without leading zeros"
    end
  end

  local prerelease = {}
  if pre then
    for _, id in ipairs(splitDots(pre)) do
      if id == "" or not id:match("^[0-9A-Za-z-]+$") then
        return nil, "pre-release identifiers must be non-empty and use only [0-9A-Za-z-], separated by dots"
      end
      if isNumeric(id) and not validNumber(id) then
        return nil, "numeric pre-release identifiers must not have leading zeros"
      end
      prerelease[#prerelease + 1] = id
    end
  end

  local buildIds = {}
  if build then
    for _, id in ipairs(splitDots(build)) do
      if id == "" or not id:match("^[0-9A-Za-z-]+$") then
        return nil, "build metadata identifiers must be non-empty and use only [0-9A-Za-z-], separated by dots"
      end
      buildIds[#buildIds + 1] = id
    end
  end

  return {
    major = nums[1], minor = nums[2], patch = nums[3],
    prerelease = prerelease,
    build = buildIds,
    -- The version without build metadata: versions equal here have equal precedence.
    core = pre and (core .. "-" .. pre) or core,
    -- As given: what a published version stores (records hold its text, not a parse).
    text = s,
  }
end

local function compareNumbers(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

local function compareIdentifiers(a, b)
  local an, bn = isNumeric(a), isNumeric(b)
  if an and bn then return compareNumbers(a, b) end
  if an then return -1 end -- numeric identifiers have lower precedence
  if bn then return 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

-- Compares two parsed versions by precedence: -1, 0 or 1. Build metadata is ignored.
function M.compare(a, b)
  local c = compareNumbers(a.major, b.major)
  if c ~= 0 then return c end
  c = compareNumbers(a.minor, b.minor)
  if c ~= 0 then return c end
  c = compareNumbers(a.patch, b.patch)
  if c ~= 0 then return c end
  local pa, pb = a.prerelease, b.prerelease
  if #pa == 0 and #pb == 0 then return 0 end
  if #pa == 0 then return 1 end -- a release outranks its pre-releases
  if #pb == 0 then return -1 end
  for i = 1, math.max(#pa, #pb) do
    local x, y = pa[i], pb[i]
    if x == nil then return -1 end -- a shorter set of identifiers ranks lower
    if y == nil then return 1 end
    c = compareIdentifiers(x, y)
    if c ~= 0 then return c end
  end
  return 0
end

function M.isPrerelease(v)
  return #v.prerelease > 0
end

return M
