-- JSON for the registry's replies.
--
-- Decoding uses the runtime's own `json` module (it ships with aos), wrapped so
-- that malformed input is a value, not an exception. Encoding is done here
-- because replies need three things the runtime encoder cannot promise: an
-- explicit `null`, empty arrays that stay arrays (`[]`, not `{}`), and object
-- keys in a fixed (sorted) order so that equal state gives byte-equal replies.

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

local function encodeString(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
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

-- Decodes `s`; returns the value, or nil and a reason.
function M.decode(s)
  local ok, runtimeJson = pcall(require, "json")
  if not ok then return nil, "no JSON decoder in this runtime" end
  local okDecode, value = pcall(runtimeJson.decode, s)
  if not okDecode then
    local reason = tostring(value):gsub("^.-:%d+: ", "")
    return nil, reason
  end
  return value
end

function M.isArray(t)
  return type(t) == "table" and (next(t) == nil or isArray(t))
end

return M
