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
--
-- Where aos's internals are not what this expects (aolite's aos hands back a
-- function for `.process`, perplex-labs/aolite lua/aolite/compat.lua maps it
-- to its process factory), install takes what it can, never fails the
-- load, and status() says what is active and why not; Info reports it.

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

-- What this load installed: `json` and `inbox` hold nil when installed, else
-- why not; `handling` is true while the wrapped process.handle runs a message.
local installed = { json = "not installed", inbox = "not installed", handling = false }
-- The factory aos's `_default` handler is built from: drops the message.
local function dropUnhandled()
  return function() end
end

-- A module as `require` gives it, or nil and why not.
local function required(name)
  local ok, value = pcall(require, name)
  if not ok then return nil, string.format("require(%q) failed (%s)", name, tostring(value)) end
  return value
end

-- `value` if it is a table whose `field` is a function, else nil and why not.
local function withFunction(value, name, field)
  if type(value) ~= "table" then
    return nil, string.format("aos's %s is a %s here, not a table with %s", name, type(value), field)
  end
  if type(value[field]) ~= "function" then
    return nil, string.format("aos's %s has no function %s here", name, field)
  end
  return value
end

-- The modules the JSON guard wraps, or nil and why not.
local function jsonTargets()
  local process, json, utils, why
  process, why = required(".process")
  if why == nil then process, why = withFunction(process, ".process", "handle") end
  if why == nil then json, why = required("json") end
  if why == nil then json, why = withFunction(json, "json", "decode") end
  if why == nil then utils, why = required(".utils") end
  if why == nil then utils, why = withFunction(utils, ".utils", "normalize") end
  if why then return nil, why end
  return { process = process, json = json, normalize = utils.normalize }
end

local function installJsonGuard()
  local t, why = jsonTargets()
  if not t then return why end
  -- The original aos functions, kept in a global so that loading the code
  -- again wraps them, not the previous wrappers.
  RegistryIngress = RegistryIngress or {}
  RegistryIngress.handle = RegistryIngress.handle or t.process.handle
  RegistryIngress.decode = RegistryIngress.decode or t.json.decode
  local aosHandle, aosDecode = RegistryIngress.handle, RegistryIngress.decode

  -- The Data string aos is about to decode for the message being handled.
  local pending
  t.json.decode = function(s)
    if pending ~= nil and s == pending then
      pending = nil
      return s
    end
    return aosDecode(s)
  end
  t.process.handle = function(msg, env)
    pending = nil
    if M.decodesJson(msg.Tags, t.normalize) then pending = msg.Data or "{}" end
    installed.handling = true
    local ok, result = pcall(aosHandle, msg, env)
    installed.handling, pending = false, nil
    if not ok then error(result, 0) end
    return result
  end
end

local function installInboxGuard()
  if type(package) ~= "table" or type(package.loaded) ~= "table" then
    return "package.loaded is not a table here, so aos's .default cannot be replaced"
  end
  -- aos builds `_default` from require('.default')(insertInbox) on every message.
  package.loaded[".default"] = dropUnhandled
  Inbox = {}
end

function M.install()
  installed.json = installJsonGuard()
  installed.inbox = installInboxGuard()
end

-- What is active, for Info: the JSON guard only while it is seen handling the
-- message (so a process.handle that aos no longer calls through the module
-- table shows as inactive), the inbox guard while it is where aos looks.
function M.status()
  local json = installed.json
  if json == nil and not installed.handling then
    json = "aos did not call the registry's process.handle for this message"
  end
  local inbox = installed.inbox
  if inbox == nil and not (type(package) == "table" and type(package.loaded) == "table"
      and package.loaded[".default"] == dropUnhandled) then
    inbox = "package.loaded[\".default\"] was replaced after the registry loaded"
  end
  local reasons = {}
  if json then
    reasons[#reasons + 1] = json .. ": aos decodes Data tagged Content-Type: application/json itself"
  end
  if inbox then
    reasons[#reasons + 1] = inbox .. ": aos keeps messages no handler takes in Inbox"
  end
  return {
    active = json == nil and inbox == nil,
    jsonGuard = json == nil,
    dropsUnhandled = inbox == nil,
    reason = #reasons > 0 and table.concat(reasons, "; ") or nil,
  }
end

return M
