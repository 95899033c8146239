-- JSON for the registry: requests are decoded and replies encoded here, not by
-- the runtime's `json` module. Encoding needs three things the runtime encoder
-- cannot promise: an explicit `null`, empty arrays that stay arrays (`[]`, not
-- `{}`), and object keys in a fixed (sorted) order so that equal state gives
-- byte-equal replies. Decoding (below) must be strict and bounded.
--
-- The encoder is also the canonical encoding of the state-transfer entries
-- (RFC 8785, JCS; providers/STATE-TRANSFER.md) for every value they hold:
-- strings escaped exactly as JSON.stringify does, integers in decimal, keys
-- sorted (byte order, which is UTF-16 order for the ASCII keys used), no
-- whitespace. Non-integer numbers are not JCS here; entries never hold one.

local M = {}

-- Sentinel for JSON null. Use `M.null` as a value wherever a field must be
-- present but empty (e.g. `nextCursor = M.null`).
M.null = setmetatable({}, { __tostring = function() return "null" end })

local ARRAY = {}
local arrayMeta = { __jsontype = ARRAY }

-- Marks a Lua table as a JSON array, so that an empty one encodes as `[]`.
function M.array(t)
  return setmetatable(t or {}, arrayMeta)
end

local function isArray(t)
  local mt = getmetatable(t)
  if mt == arrayMeta then return true end
  if next(t) == nil then return false end
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #t
end

local escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

-- Only '"', '\\' and C0 controls, as JSON.stringify: not DEL (which %c would
-- match), not '/', not non-ASCII (kept as UTF-8).
local function encodeString(s)
  return '"' .. s:gsub('[%z\1-\31"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encodeNumber(n)
  if math.type(n) == "integer" then return string.format("%d", n) end
  if n ~= n or n == math.huge or n == -math.huge then
    error("cannot encode a non-finite number in JSON")
  end
  local i = math.tointeger(n)
  if i and math.abs(n) < 2 ^ 53 then return string.format("%d", i) end
  return string.format("%.17g", n)
end

local encode

local function encodeTable(t, out, depth)
  if depth > 32 then error("JSON nesting too deep") end
  if t == M.null then out[#out + 1] = "null"; return end
  if isArray(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], out, depth + 1)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then error("JSON object keys must be strings") end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = encodeString(k)
    out[#out + 1] = ":"
    encode(t[k], out, depth + 1)
  end
  out[#out + 1] = "}"
end

encode = function(v, out, depth)
  local tv = type(v)
  if v == nil then out[#out + 1] = "null"
  elseif tv == "string" then out[#out + 1] = encodeString(v)
  elseif tv == "number" then out[#out + 1] = encodeNumber(v)
  elseif tv == "boolean" then out[#out + 1] = v and "true" or "false"
  elseif tv == "table" then encodeTable(v, out, depth)
  else error("cannot encode a " .. tv .. " in JSON") end
end

function M.encode(v)
  local out = {}
  encode(v, out, 0)
  return table.concat(out)
end

---------------------------------------------------------------------------
-- Decoding: strict RFC 8259, bounded, never raising.
--
-- Requests are decoded here, never by the runtime's `json` (whose decoder has
-- no nesting limit, raises on malformed input, and silently mis-decodes
-- "\ud800\u0041" as U+2441). The grammar is strict; string contents are kept
-- as sent, a lone surrogate escape as its (invalid) 3-byte form, so that the
-- field's validator refuses it by name (validate.lua checks every string field
-- is UTF-8). Object keys, which error messages echo, must be UTF-8 here.
-- Objects are plain tables (a `null` member is left out: absent and null are
-- the same); arrays are M.array tables, with M.null for a `null` element.
-- Work is linear in the input, and recursion is bounded by `maxDepth`.

local unicode = require("registry.unicode")

local byte, sub, find, match = string.byte, string.sub, string.find, string.match

local ESCAPES = {
  ['"'] = '"', ['\\'] = '\\', ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t",
}

-- Raises a decoding failure; M.decode turns it into (nil, reason).
local function fail(pos, what)
  error({ reason = string.format("%s at byte %d", what, pos) }, 0)
end

-- A character for an error message: printable ASCII as is, anything else as its code.
local function shown(s, pos)
  local c = byte(s, pos)
  if not c then return "the end of the input" end
  if c >= 32 and c < 127 then return string.format("'%s'", string.char(c)) end
  return string.format("byte 0x%02X", c)
end

local SPACE = { [32] = true, [9] = true, [10] = true, [13] = true }

local function skipSpace(s, i)
  if not SPACE[byte(s, i)] then return i end -- the common case, without a pattern
  local _, e = find(s, "^[ \t\n\r]*", i)
  return e + 1
end

local function parseString(s, i)
  local out, n, j = {}, 0, i + 1
  while true do
    local k = find(s, '["\\%z\1-\31]', j)
    if not k then fail(i, "unterminated string") end
    if k > j then
      n = n + 1
      out[n] = sub(s, j, k - 1)
    end
    local c = byte(s, k)
    if c == 34 then return table.concat(out), k + 1 end
    if c < 32 then fail(k, "unescaped control character in a string (escape it, e.g. \\n)") end
    local e = sub(s, k + 1, k + 1)
    if e == "u" then
      local hex = match(s, "^%x%x%x%x", k + 2)
      if not hex then fail(k, "invalid \\u escape (expected 4 hex digits)") end
      local cp = tonumber(hex, 16)
      j = k + 6
      local low = cp >= 0xD800 and cp <= 0xDBFF and tonumber(match(s, "^\\u([dD][c-fC-F]%x%x)", j) or "", 16)
      if low then -- a surrogate pair; anything else keeps the lone surrogate for the validator to refuse
        cp = 0x10000 + (cp - 0xD800) * 0x400 + (low - 0xDC00)
        j = j + 6
      end
      n = n + 1
      out[n] = utf8.char(cp)
    else
      local rep = ESCAPES[e]
      if not rep then fail(k, "invalid escape: " .. shown(s, k + 1) .. " after a backslash") end
      n = n + 1
      out[n] = rep
      j = k + 2
    end
  end
end

-- RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
local function parseNumber(s, i)
  local _, e = find(s, "^-?%d+", i)
  if not e then fail(i, "invalid number") end
  local first = byte(s, i) == 45 and i + 1 or i -- the first digit
  if byte(s, first) == 48 and e > first then fail(i, "invalid number (leading zero)") end
  local c = byte(s, e + 1)
  if c == 46 then
    local _, f = find(s, "^%d+", e + 2)
    if not f then fail(e + 1, "invalid number (digits expected after '.')") end
    e = f
    c = byte(s, e + 1)
  end
  if c == 101 or c == 69 then
    local _, x = find(s, "^[-+]?%d+", e + 2)
    if not x then fail(e + 1, "invalid number (digits expected in the exponent)") end
    e = x
  end
  return tonumber(sub(s, i, e)), e + 1
end

local LITERALS = { t = { "true", true }, f = { "false", false }, n = { "null", M.null } }

local parseValue

local function parseArray(s, i, depth, maxDepth)
  local out, n = M.array(), 0
  i = skipSpace(s, i + 1)
  if byte(s, i) == 93 then return out, i + 1 end
  while true do
    local v
    v, i = parseValue(s, i, depth, maxDepth)
    n = n + 1
    out[n] = v
    i = skipSpace(s, i)
    local c = byte(s, i)
    if c == 93 then return out, i + 1 end
    if c ~= 44 then fail(i, "expected ',' or ']' in an array, found " .. shown(s, i)) end
    i = skipSpace(s, i + 1)
  end
end

local function parseObject(s, i, depth, maxDepth)
  local out, seen = {}, {}
  i = skipSpace(s, i + 1)
  if byte(s, i) == 125 then return out, i + 1 end
  while true do
    if byte(s, i) ~= 34 then fail(i, "expected a string key in an object, found " .. shown(s, i)) end
    local at, key = i, nil
    key, i = parseString(s, i)
    if not unicode.valid(key) then fail(at, "an object key is not valid UTF-8 (lone surrogate or invalid bytes)") end
    if seen[key] then fail(at, string.format("duplicate key %q", key)) end
    seen[key] = true
    i = skipSpace(s, i)
    if byte(s, i) ~= 58 then fail(i, "expected ':' after an object key, found " .. shown(s, i)) end
    local v
    v, i = parseValue(s, skipSpace(s, i + 1), depth, maxDepth)
    if v ~= M.null then out[key] = v end
    i = skipSpace(s, i)
    local c = byte(s, i)
    if c == 125 then return out, i + 1 end
    if c ~= 44 then fail(i, "expected ',' or '}' in an object, found " .. shown(s, i)) end
    i = skipSpace(s, i + 1)
  end
end

parseValue = function(s, i, depth, maxDepth)
  local c = byte(s, i)
  if c == 123 or c == 91 then
    if depth >= maxDepth then
      fail(i, string.format("JSON nested deeper than %d levels", maxDepth))
    end
    if c == 123 then return parseObject(s, i, depth + 1, maxDepth) end
    return parseArray(s, i, depth + 1, maxDepth)
  end
  if c == 34 then return parseString(s, i) end
  if c == 45 or (c and c >= 48 and c <= 57) then return parseNumber(s, i) end
  local lit = c and LITERALS[string.char(c)]
  if lit and sub(s, i, i + #lit[1] - 1) == lit[1] then return lit[2], i + #lit[1] end
  fail(i, "unexpected " .. shown(s, i))
end

-- Decodes the JSON text `s`, with containers nested at most `maxDepth` deep.
-- Returns the value, or nil and a reason naming the problem and its position.
function M.decode(s, maxDepth)
  if type(s) ~= "string" then return nil, "expected a JSON text, got a " .. type(s) end
  local ok, value, i = pcall(parseValue, s, skipSpace(s, 1), 0, maxDepth or 32)
  if ok then
    i = skipSpace(s, i)
    if i <= #s then ok, value = false, { reason = string.format("unexpected %s after the JSON value at byte %d", shown(s, i), i) } end
  end
  if ok then return value end
  if type(value) == "table" and value.reason then return nil, value.reason end
  error(value, 0) -- not a decoding failure: a bug, let the caller's pcall report it
end

function M.isArray(t)
  return type(t) == "table" and t ~= M.null and (next(t) == nil or isArray(t))
end

-- True for a JSON object as M.decode returns it (not an array, not null).
function M.isObject(v)
  return type(v) == "table" and getmetatable(v) == nil
end

return M
