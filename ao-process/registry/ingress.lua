-- The two places where aos itself acts on a message outside the registry's
-- handlers, and what the registry does about them (aos 2.0.x process.lua).
--
-- 1. JSON Data. When the first `Content-Type` tag is `application/json`,
--    process.handle runs `msg.Data = require('json').decode(msg.Data or "{}")`
--    before any handler and outside any pcall: a decoding error traps the
--    whole message (no reply; the compute unit records only an error, and a
--    unit that replays a trapping message can stall on it), and the decoder
--    has no limit on nesting, turns lone surrogates into invalid UTF-8 and
--    accepts what it should refuse. The registry hands that one call its
--    argument back unchanged, so Data reaches the handlers exactly as sent and
--    is decoded there by registry/json.lua: strict, bounded, never raising.
-- 2. Unhandled messages. aos's `_default` handler keeps every message no other
--    handler takes in `Inbox` (up to 10,000, for good), so any wallet could
--    grow the heap that aos walks in a full garbage collection after every
--    message. The registry drops them instead: it never reads the Inbox.
--
-- Both are installed by loading the code (install), replacing the previous
-- installation, so an Eval of newer code takes over cleanly.

local M = {}

-- Mirrors how aos finds the tag: names normalized by Utils.normalize
-- ("content_type" -> "Content-Type"), the first one wins (Tab).
function M.decodesJson(tags, normalize)
  if type(tags) ~= "table" then return false end
  for _, tag in ipairs(tags) do
    if type(tag) == "table" and normalize(tag.name) == "Content-Type" then
      return tag.value == "application/json"
    end
  end
  return false
end

-- The original aos functions, kept in a global so that loading the code again
-- wraps them, not the previous wrappers.
local function originals(process, json)
  RegistryIngress = RegistryIngress or {}
  RegistryIngress.handle = RegistryIngress.handle or process.handle
  RegistryIngress.decode = RegistryIngress.decode or json.decode
  return RegistryIngress.handle, RegistryIngress.decode
end

function M.install()
  local process = require(".process")
  local json = require("json")
  local normalize = require(".utils").normalize
  local aosHandle, aosDecode = originals(process, json)

  -- The Data string aos is about to decode for the message being handled.
  local pending
  json.decode = function(s)
    if pending ~= nil and s == pending then
      pending = nil
      return s
    end
    return aosDecode(s)
  end
  process.handle = function(msg, env)
    pending = nil
    if M.decodesJson(msg.Tags, normalize) then pending = msg.Data or "{}" end
    local ok, result = pcall(aosHandle, msg, env)
    pending = nil
    if not ok then error(result, 0) end
    return result
  end

  -- aos builds `_default` from require('.default')(insertInbox) on every message.
  package.loaded[".default"] = function()
    return function() end
  end
  Inbox = {}
end

return M
