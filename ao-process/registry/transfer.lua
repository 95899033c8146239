-- The registry's side of the state-transfer protocol, version 2
-- (providers/STATE-TRANSFER.md): the statuses and what each refuses, the tags
-- every reply carries, and the State-* actions.
--
-- Statuses: `sealed` (new, or being filled), `open`, `frozen` (moved: writes
-- refused with E_MOVED). A process being filled answers no registry read
-- (E_SEALED, tagged Read-From when it knows the process that holds the whole
-- state): a sealed one, and a frozen one asked to take back its successor's
-- state (State-Confirm, the start of a rollback). A process being emptied (a
-- frozen one) holds everything and keeps answering reads, tagged Moved-To.
--
-- A rollback empties a registry that has taken live writes, so it needs more
-- than the owner's word: the successor process itself must confirm, by a
-- message of its own (its State-Info reply, pushed by an authority with
-- From-Process = the successor), that it is frozen for this process, and the
-- state opened must be the one it reported (digest and entry count).

local json = require("registry.json")
local V = require("registry.validate")
local store = require("registry.store")
local digest = require("registry.digest")
local identity = require("registry.identity")

local M = {}

M.PROTOCOL = 2

local LIMITS = V.LIMITS
local err = V.err

local function orNull(v)
  if v == nil then return json.null end
  return v
end

local function selfId() return ao and ao.id end

---------------------------------------------------------------------------
-- Statuses

-- Whether the registry is being filled, and the process to read from meanwhile
-- (nil when it does not know one: a sealed registry that has imported nothing).
function M.filling(s)
  if s.status == "sealed" then return true, s.import and s.import.from end
  if s.status == "frozen" and s.source and s.source.process == s.successor then return true, s.successor end
  return false
end

-- Adds the tags every reply of this status carries (`s` as rawget finds it:
-- the reply of an internal error goes through here too).
function M.tag(s, tags)
  if type(s) ~= "table" then return end
  if s.status == "frozen" and type(s.successor) == "string" then tags["Moved-To"] = s.successor end
  local filling, from = M.filling(s)
  if filling and from then tags["Read-From"] = from end
end

local function sealedError(action)
  return err("E_SEALED", action .. " refused: this registry process is sealed, not open yet (a deployment is "
    .. "moving data into it, or has not opened it). Use the registry process your stack names "
    .. "(AoActiveProcess), or retry later")
end

local function movedError(s, action)
  local to = s.successor
  return err("E_MOVED", string.format("%s refused: this registry has moved to process %s and takes no writes "
    .. "here; send this request to %s (reads here may be stale)", action, to, to))
end

-- Why a write is refused in the current status, if it is.
function M.writeRefusal(s, action)
  if s.status == "sealed" then return sealedError(action) end
  if s.status == "frozen" then return movedError(s, action) end
end

-- Why a registry read is refused in the current status, if it is: a registry
-- being filled never answers as if its data were whole.
function M.readRefusal(s, action)
  local filling, from = M.filling(s)
  if not filling then return nil end
  if from then
    return err("E_SEALED", string.format(
      "%s refused: this registry process is being filled by a move and holds only part of its data; read from "
      .. "process %s (the Read-From tag), which holds all of it, or retry once the move is done", action, from))
  end
  return err("E_SEALED", action .. " refused: this registry process is sealed, not open yet, and holds nothing "
    .. "to read; read from the registry process your stack names (AoActiveProcess), or retry later")
end

---------------------------------------------------------------------------
-- What the source of an import confirmed of itself

-- The report of process `from`, when it confirmed that it is frozen for this process.
local function confirmation(s, from)
  local src = s.source
  local r = src and src.process == from and src.report
  if r and r.status == "frozen" and r.successor == selfId() then return r end
end

local function notConfirmed(from)
  return err("E_NOT_CONFIRMED", string.format(
    "process %s has not confirmed, by a message of its own, that it is frozen for this process: send "
    .. "State-Confirm {\"from\":\"%s\"} and wait until State-Info reports source.report with status \"frozen\" "
    .. "and this process as successor (the owner's word alone never replaces a registry's data)", from, from), "from")
end

local STATUSES = { open = true, sealed = true, frozen = true }

local function count(v)
  return (math.type(v) == "integer" or (type(v) == "number" and math.tointeger(v))) and v >= 0
    and math.tointeger(v) or nil
end

-- The State-Info reply of the process asked by State-Confirm: recorded when that
-- process itself sent it (pushed by an authority on its behalf, never a
-- wallet's own message) and it is well formed. Never answered: it is a reply.
function M.onSourceReport(msg)
  local s = rawget(_G, "Registry")
  local src = type(s) == "table" and s.source
  if not src then return end
  if identity.process(msg, ao and ao.authorities) ~= src.process then return end
  if type(msg.Data) ~= "string" or #msg.Data > LIMITS.messageBytes then return end
  local body = json.decode(msg.Data, LIMITS.jsonDepth)
  local st = json.isObject(body) and body.ok == true and body.stateTransfer
  if not json.isObject(st) or not STATUSES[st.status] then return end
  local successor = st.successor ~= json.null and st.successor or nil
  if successor ~= nil and not V.address(successor, "successor") then return end
  local d = V.digest(st.digest, "digest")
  local entries, bytes = count(st.entries), count(st.bytes)
  if not (d and entries and bytes) then return end
  src.report = { status = st.status, successor = successor, digest = d, entries = entries, bytes = bytes }
end

---------------------------------------------------------------------------
-- Actions

function M.view(s)
  local source = json.null
  if s.source then
    local r = s.source.report
    source = {
      process = s.source.process,
      report = r and {
        status = r.status,
        successor = orNull(r.successor),
        digest = r.digest,
        entries = r.entries,
        bytes = r.bytes,
      } or json.null,
    }
  end
  return {
    protocol = M.PROTOCOL,
    status = s.status,
    digest = digest.hex(s.digest),
    entries = s.entries,
    bytes = s.bytes,
    successor = orNull(s.successor),
    predecessor = orNull(s.predecessor),
    import = s.import and { from = s.import.from, pages = s.import.pages, rollback = s.import.rollback == true }
      or json.null,
    source = source,
    owner = orNull(Owner),
  }
end

-- The State-* actions, in the shape registry.lua's handlers take: { spec,
-- run(msg, req, sender), ownerOnly?, maxBytes? }. `state()` returns the
-- registry's state; `checkPage(entries, base)` validates a page of entries
-- against `base` (nil: an emptied state) and returns the installs to make.
function M.actions(state, checkPage)
  local actions = {}
  local function view() return { stateTransfer = M.view(state()) } end

  actions["State-Info"] = {
    spec = {},
    run = view,
  }

  actions["State-Freeze"] = {
    ownerOnly = true,
    spec = { successor = { check = V.address, required = true } },
    run = function(_, req)
      local s = state()
      if req.successor == selfId() then
        return nil, err("E_INVALID_FIELD", "successor is this process itself; name the process that replaces it", "successor")
      end
      if s.status == "sealed" then return nil, sealedError("State-Freeze") end
      if s.status == "frozen" then
        if s.successor ~= req.successor then
          return nil, err("E_MOVE_CONFLICT", string.format(
            "this registry is already frozen for successor %s; send State-Unfreeze first to move it elsewhere",
            s.successor), "successor")
        end
        local body = view()
        body.already = true
        return body
      end
      s.status, s.successor = "frozen", req.successor
      local body = view()
      body.already = false
      return body
    end,
  }

  actions["State-Unfreeze"] = {
    ownerOnly = true,
    spec = {},
    run = function()
      local s = state()
      if s.status == "sealed" then return nil, sealedError("State-Unfreeze") end
      local already = s.status == "open"
      s.status, s.successor, s.source = "open", nil, nil
      local body = view()
      body.already = already
      return body
    end,
  }

  -- Anyone's: all AO state is public (anyone can replay a process's messages),
  -- a page is bounded, and a dry-run's Owner proves nothing (README).
  actions["State-Export"] = {
    spec = {
      cursor = { check = V.transferCursor },
      maxBytes = { check = V.pageBytes },
    },
    run = function(_, req)
      local s = state()
      local entries, nextCursor = store.exportPage(s, req.cursor, req.maxBytes or LIMITS.transferPageBytesDefault)
      return { entries = entries, nextCursor = orNull(nextCursor), digest = digest.hex(s.digest), total = s.entries }
    end,
  }

  -- Asks process `from` for its State-Info, by a message of this process; its
  -- reply (M.onSourceReport) is what a rollback import needs. From then on the
  -- registry counts as being filled from `from` when it is frozen for it.
  actions["State-Confirm"] = {
    ownerOnly = true,
    spec = { from = { check = V.address, required = true } },
    run = function(_, req)
      local s = state()
      if req.from == selfId() then
        return nil, err("E_INVALID_FIELD", "from is this process itself; name the process whose state it takes", "from")
      end
      if s.status == "open" then
        return nil, err("E_IMPORT_CLOSED", "State-Confirm prepares an import, and this registry is open: it takes "
          .. "no state (only a sealed registry, or a frozen one from its successor, does)")
      end
      if s.status == "frozen" and s.successor ~= req.from then
        return nil, err("E_MOVE_CONFLICT", string.format(
          "this registry is frozen for %s: it can take back only that process's state, not %s's", s.successor, req.from), "from")
      end
      if s.status == "sealed" and s.import and s.import.from ~= req.from then
        return nil, err("E_MOVE_CONFLICT", string.format(
          "this registry is importing from %s, not from %s", s.import.from, req.from), "from")
      end
      s.source = { process = req.from }
      ao.send({ Target = req.from, Action = "State-Info", Data = "{}" })
      return view()
    end,
  }

  actions["State-Import"] = {
    ownerOnly = true,
    maxBytes = LIMITS.importMessageBytes,
    spec = {
      from = { check = V.address, required = true },
      page = { check = V.pageNumber, required = true },
      entries = {
        required = true,
        check = function(v, field)
          if not json.isArray(v) then return nil, err("E_INVALID_FIELD", field .. " must be an array of entries", field) end
          return v
        end,
      },
    },
    run = function(_, req)
      local s = state()
      -- A rollback: the old process takes back the state of the one that replaced it.
      local rollback = s.status == "frozen" and s.successor == req.from
      if not rollback and s.status ~= "sealed" then
        return nil, err("E_IMPORT_CLOSED", string.format(
          "State-Import only fills a sealed registry (or a frozen one from its successor); this one is %s%s",
          s.status, s.status == "frozen" and (" for successor " .. s.successor) or ""))
      end
      local expected = s.import and s.import.from or (not rollback and s.source and s.source.process)
      if not rollback and expected and expected ~= req.from then
        return nil, err("E_MOVE_CONFLICT", string.format(
          "this registry is taking the state of %s%s, not of %s", expected,
          s.import and string.format(" (%d pages so far)", s.import.pages) or "", req.from), "from")
      end
      if rollback and not confirmation(s, req.from) then return nil, notConfirmed(req.from) end
      local received = (not rollback and s.import) and s.import.pages or 0
      if req.page <= received then
        local body = view()
        body.page, body.duplicate = req.page, true
        return body
      end
      if req.page > received + 1 then
        return nil, err("E_PAGE_OUT_OF_ORDER", string.format(
          "page %d arrived before page %d; send page %d next", req.page, received + 1, received + 1), "page")
      end
      local installs, e = checkPage(req.entries, not rollback and s or nil)
      if not installs then return nil, e end
      if rollback then
        store.clear(s)
        s.status, s.successor = "sealed", nil
        s.import = { from = req.from, pages = 0, rollback = true }
      end
      s.import = s.import or { from = req.from, pages = 0 }
      s.import.pages = req.page
      for _, it in ipairs(installs) do
        if it.skill then
          store.installSkill(s, it.skill)
        else
          store.installVersion(s, store.get(s, it.name), it.parsed, it.record)
        end
      end
      local body = view()
      body.page, body.duplicate = req.page, false
      return body
    end,
  }

  actions["State-Open"] = {
    ownerOnly = true,
    spec = { digest = { check = V.digest } },
    run = function(_, req)
      local s = state()
      if s.status == "open" then
        local body = view()
        body.already = true
        return body
      end
      if s.status == "frozen" then return nil, movedError(s, "State-Open") end
      local own = digest.hex(s.digest)
      if s.import and req.digest == nil then
        return nil, err("E_MISSING_FIELD", string.format(
          "this registry imported %d pages from %s: send State-Open with the digest the old process reports",
          s.import.pages, s.import.from), "digest")
      end
      if req.digest ~= nil and req.digest ~= own then
        return nil, err("E_DIGEST_MISMATCH", string.format(
          "the digest sent (%s) is not this registry's (%s, %d entries): an entry was lost, duplicated or altered; "
          .. "export and import again", req.digest, own, s.entries), "digest")
      end
      if s.import then
        local confirmed = confirmation(s, s.import.from)
        if s.import.rollback and not confirmed then return nil, notConfirmed(s.import.from) end
        if confirmed and (confirmed.digest ~= own or confirmed.entries ~= s.entries) then
          return nil, err("E_DIGEST_MISMATCH", string.format(
            "this registry holds %d entries (digest %s), not the state process %s confirmed of itself (%d entries, "
            .. "digest %s): import that state again", s.entries, own, s.import.from, confirmed.entries,
            confirmed.digest), "digest")
        end
        s.predecessor = s.import.from
      end
      s.status, s.import, s.source = "open", nil, nil
      local body = view()
      body.already = false
      return body
    end,
  }

  return actions
end

return M
