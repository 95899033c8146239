-- Runs the registry in aolite (perplex-labs/aolite), the local AO emulator on
-- native Lua 5.3: spawns the bundle as deployed, opens it as its owner, and
-- sends Info, Register-Skill and Get-Skill from another process, printing
-- each reply. README.md ("Running the registry in aolite") says how:
--   npm run --silent bundle > registry.bundle.lua
--   LUA_PATH="$AOLITE/lua/?.lua;$AOLITE/lua/?/main.lua;;" lua5.3 scripts/aolite.lua registry.bundle.lua
-- ($AOLITE: your aolite checkout, its lua/aos submodule checked out; a
-- LuaRocks install of aolite needs no LUA_PATH.)

local path = arg[1]
if not path then
  io.stderr:write("usage: lua5.3 scripts/aolite.lua <bundle> (write it with: npm run --silent bundle > registry.bundle.lua)\n")
  os.exit(2)
end
local aolite = require("aolite")
local json = require("json") -- aolite's, once aolite is loaded

local file = assert(io.open(path, "rb"))
local code = file:read("a")
file:close()

-- A process spawned by no one is its own owner in aolite: "registry" opens itself.
aolite.spawnProcess("registry", code, { { name = "On-Boot", value = "Data" } })
aolite.spawnProcess("alice")

-- Data is JSON text: the registry decodes it itself (aolite's json.encode would make `{}` an array).
local function request(from, action, data)
  aolite.send({ From = from, Target = "registry", Action = action, Data = data })
  local reply = aolite.getLastMsg(from)
  local body = type(reply.Data) == "table" and json.encode(reply.Data) or tostring(reply.Data)
  print(string.format("%s from %s -> %s %s", action, from, tostring(reply.Status), body))
  return reply
end

request("registry", "State-Open", "{}")
request("alice", "Info", "{}")
request("alice", "Register-Skill", string.format(
  '{"name":"pdf-tools","description":"Read, split and merge PDF files","tags":["pdf"],'
  .. '"version":"1.0.0","txId":"%s","contentHash":"%s"}', string.rep("t", 43), string.rep("c", 64)))
local got = request("alice", "Get-Skill", '{"name":"pdf-tools"}')
if got.Status ~= "OK" then os.exit(1) end
