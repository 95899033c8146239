-- A process sandbox with aolite's loading rules, to test that code loads and
-- runs in aolite without aolite itself. What aolite does is read from its
-- source (perplex-labs/aolite 0.5.1; nothing of it is copied here):
-- - lua/aolite/factories/process.lua gives each process an environment that
--   holds a copy of the globals (each table copied one level), a `package`
--   with `loaded` only (no `preload`, `searchers` or `path`), and a `require`
--   that returns `package.loaded[name]` when set, else loads the module in
--   that environment from the path (lua/aolite/compat.lua, which maps aos's
--   names: `.process` to aolite's process factory, a function), else falls
--   back to the host's `require` (standard libraries such as `coroutine`);
--   it loads aos's process module in the environment (not through that
--   `require`), and sets `Process`, `Owner`, `Name` and `Inbox` there.
-- - lua/aolite/process.lua runs the process code in the environment before
--   any message (`On-Boot = Data`), and hands each message to the process
--   module's `handle(msg, env)` with the environment as `env`.
-- Here the path is aos's own Lua, read out of the aos module binary the local
-- network runs (devnet/aosSources.ts), in the global AosSources.

local Sandbox = {}

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- What `.process` is on aolite's path: its per-process factory, a function.
local PROCESS_FACTORY = "return function() error('a process factory, not for process code to call') end"

-- The host's json (aos's), outside every sandbox: messages in, replies out.
local json = assert(load(AosSources.json, "=json"))()

function Sandbox.new(id, owner)
  local sources = AosSources
  local env = {}
  for k, v in pairs(_G) do
    if k ~= "_G" and k ~= "Sandbox" and k ~= "AosSources" then
      env[k] = type(v) == "table" and copy(v) or v
    end
  end
  env._G = env
  env.package = { loaded = {} }
  env.require = function(name)
    local loaded = env.package.loaded
    if loaded[name] then return loaded[name] end
    local source = name == ".process" and PROCESS_FACTORY or sources[name] or sources[name .. ".init"]
    local value
    if source then
      value = assert(load(source, "=" .. name, "t", env))()
    else
      value = require(name)
    end
    loaded[name] = value
    return value
  end
  local process = assert(load(sources[".process"], "=aos.process", "t", env))()
  env.Process = { Id = id, Owner = owner, Tags = { { name = "Name", value = id } } }
  env.Owner = owner
  env.Name = id
  env.Inbox = {}

  local self = {}
  -- Runs process code in the environment, as aolite does at spawn.
  function self.boot(code)
    assert(load(code, "=onboot", "t", env))()
  end
  -- Handles one message (JSON); returns the replies and any error, as JSON.
  function self.handle(msgJson)
    local result = process.handle(json.decode(msgJson), env)
    local out = { Messages = {}, Error = result and result.Error }
    for _, m in ipairs((result and result.Messages) or {}) do
      out.Messages[#out.Messages + 1] = { Target = m.Target, Tags = m.Tags, Data = m.Data }
    end
    return json.encode(out)
  end
  -- Evaluates an expression in the environment (for assertions about its state).
  function self.eval(expression)
    return assert(load("return " .. expression, "=eval", "t", env))()
  end
  return self
end

return Sandbox
