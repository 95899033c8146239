-- Agent Skills Registry: an AO process (aos 2.0.x, Lua 5.3).
--
-- Requests carry the action in the `Action` tag and their arguments as a JSON
-- object in `Data`. Every request gets exactly one reply, sent with
-- msg.reply (so it carries X-Reference), tagged `Action = <Action>-Response`,
-- `Status = OK | Error` and `Protocol-Version`; its Data is a JSON object:
--   success: { "ok": true, ... }
--   failure: { "ok": false, "error": { "code": "E_...", "message": "...", "field": "..." } }
-- A failed request never changes state: handlers validate everything first
-- and only then call the store, whose operations cannot fail half-way.
-- The sender is decided by registry/identity.lua (never a From-Process tag a
-- wallet set), Data is decoded by registry/json.lua (never by aos), and
-- messages no handler takes are dropped (registry/ingress.lua).
-- The State-* actions implement the state-transfer protocol
-- (providers/STATE-TRANSFER.md, registry/transfer.lua): a new process is
-- sealed until opened, a process being filled answers no read, and a frozen
-- one refuses writes and names its successor on every reply.
-- ao-process/README.md documents each action.

local json = require("registry.json")
local V = require("registry.validate")
local store = require("registry.store")
local identity = require("registry.identity")
local ingress = require("registry.ingress")
local transfer = require("registry.transfer")

local PROTOCOL_VERSION = "1.4.0"
local REGISTRY_NAME = "Agent Skills Registry"
local LIMITS = V.LIMITS
local err = V.err

-- State survives loading this code again (an `eval` upgrade or a resumed
-- deployment). A brand-new process starts sealed; a state that predates the
-- state-transfer protocol starts open (store.migrate).
Registry = store.migrate(Registry or store.new())
ingress.install()

local function state() return Registry end

---------------------------------------------------------------------------
-- Reply shapes

-- An integer: records store timestamps as 64-bit integers (registry/record.lua).
local function timestampOf(msg)
  local ts = tonumber(msg.Timestamp)
  return ts and math.tointeger(math.floor(ts)) or 0
end

local function orNull(v)
  if v == nil then return json.null end
  return v
end

-- The exported fields (store.versionFields) plus what a reply adds.
local function versionView(v)
  if not v then return json.null end
  local view = store.versionFields(v)
  view.prerelease = v.prerelease
  return view
end

-- Of a skill or its head (registry/record.lua): both carry latestVersion.
local function summaryView(skill)
  return {
    name = skill.name,
    publisher = skill.publisher,
    description = skill.description,
    tags = json.array({ table.unpack(skill.tags) }),
    latestVersion = orNull(skill.latestVersion),
    deprecated = skill.deprecated,
    updatedAt = skill.updatedAt,
  }
end

local function detailView(skill)
  local view = summaryView(skill)
  local versions = json.array()
  for i, core in ipairs(skill.order) do versions[i] = skill.versions[core].version end
  view.versions = versions
  view.createdAt = skill.createdAt
  view.deprecationReason = orNull(skill.deprecationReason)
  view.deprecatedAt = orNull(skill.deprecatedAt)
  return view
end

local function recordView(skill)
  local rec = store.exportRecord(skill)
  rec.tags = json.array({ table.unpack(rec.tags) })
  rec.versions = json.array(rec.versions)
  rec.deprecationReason = orNull(rec.deprecationReason)
  rec.deprecatedAt = orNull(rec.deprecatedAt)
  return rec
end

local function deploymentView()
  local d = rawget(_G, "DeployedCode")
  if type(d) ~= "table" or type(d.Sha256) ~= "string" then return json.null end
  return { sha256 = d.Sha256, deploymentId = orNull(d.DeploymentId) }
end

-- The reply goes to the sender as identity.sender decides (a Reply-To tag still
-- wins, as msg.reply does for every aos process).
local function send(msg, sender, action, body, tags)
  tags = tags or {}
  -- Every reply of a frozen process says where the registry went (Moved-To), and
  -- every reply of one being filled where to read (Read-From), so that a client
  -- never reads stale or partial data without knowing (rawget: even a broken state).
  transfer.tag(rawget(_G, "Registry"), tags)
  tags.Action = action .. "-Response"
  tags["Protocol-Version"] = PROTOCOL_VERSION
  tags["Content-Type"] = "application/json"
  msg.reply({ Target = sender, Data = json.encode(body), Tags = tags })
end

local function replyOk(msg, sender, action, body, tags)
  body.ok = true
  tags = tags or {}
  tags.Status = "OK"
  send(msg, sender, action, body, tags)
end

local function replyError(msg, sender, action, e)
  local body = {
    ok = false,
    error = { code = e.code, message = e.message, field = e.field },
  }
  send(msg, sender, action, body, { Status = "Error", ["Error-Code"] = e.code })
end

---------------------------------------------------------------------------
-- Request decoding

-- Measured before Data is decoded, so an oversized message costs nothing more.
local function messageSize(msg)
  local n = type(msg.Data) == "string" and #msg.Data or 0
  if type(msg.Tags) == "table" then
    for k, v in pairs(msg.Tags) do n = n + #tostring(k) + #tostring(v) end
  end
  return n
end

-- Data arrives as sent (registry/ingress.lua keeps aos from decoding it).
local function decodeData(msg)
  local data = msg.Data
  if data == nil then return {} end
  if type(data) ~= "string" then
    -- Only aos decodes Data, where the ingress guard is not active (see Info's ingress).
    return nil, err("E_BAD_JSON", "Data must be a JSON object in text, got a " .. type(data)
      .. " (aos decoded Data tagged Content-Type: application/json before the registry could: see Info's"
      .. " ingress); send the JSON without that tag")
  end
  if data:match("^[ \t\n\r]*$") then return {} end
  local value, reason = json.decode(data, LIMITS.jsonDepth)
  if value == nil then
    return nil, err("E_BAD_JSON", "Data is not valid JSON (" .. reason .. "); send a JSON object such as {\"name\":\"pdf-tools\"}")
  end
  if not json.isObject(value) then
    return nil, err("E_BAD_JSON", "Data must be a JSON object such as {\"name\":\"pdf-tools\"}, not a bare value or array")
  end
  return value
end

local function findSkill(name)
  local skill = store.get(state(), name)
  if not skill then
    return nil, err("E_SKILL_NOT_FOUND",
      string.format("no skill is registered as %q; check the name, or register it with Register-Skill", name), "name")
  end
  return skill
end

local function requirePublisher(skill, sender, verb)
  if skill.publisher ~= sender then
    return err("E_NOT_PUBLISHER", string.format(
      "only the publisher of %q (%s) can %s it; send this from that address, or ask them to Transfer-Skill it to you",
      skill.name, skill.publisher, verb))
  end
end

-- Whether registry/ingress.lua's guards are active where this code runs.
local function ingressView()
  local s = ingress.status()
  s.reason = orNull(s.reason)
  return s
end

---------------------------------------------------------------------------
-- Actions. Each returns (body, tags) on success or (nil, error).

local actions = {}

actions["Info"] = {
  spec = {},
  run = function()
    local s = state()
    local limits = {}
    for k, v in pairs(LIMITS) do limits[k] = v end
    local deployment = deploymentView()
    local tags = {}
    if deployment ~= json.null then tags["Code-Sha256"] = deployment.sha256 end
    return {
      registry = REGISTRY_NAME,
      protocolVersion = PROTOCOL_VERSION,
      status = s.status,
      successor = orNull(s.status == "frozen" and s.successor or nil),
      process = orNull(ao and ao.id),
      name = orNull(rawget(_G, "Name")),
      owner = orNull(Owner),
      counts = {
        skills = s.counts.skills,
        versions = s.counts.versions,
        deprecated = s.counts.deprecated,
        publishers = s.counts.publishers,
        tags = s.counts.tags,
      },
      limits = limits,
      deployment = deployment,
      ingress = ingressView(),
    }, tags
  end,
}

local function checkNewVersion(skill, req)
  local existing = skill and store.findVersion(skill, req.version)
  if existing then
    return err("E_VERSION_EXISTS", string.format(
      "%s %s is already published (as %s, on %d); versions are immutable, publish a higher version instead",
      skill.name, req.version.text, existing.version, existing.publishedAt), "version")
  end
  if skill and #skill.order >= LIMITS.versionsPerSkill then
    return err("E_LIMIT_REACHED", string.format(
      "%s already has %d versions, the most one skill may have", skill.name, #skill.order))
  end
end

actions["Register-Skill"] = {
  write = true,
  spec = {
    name = { check = V.name, required = true },
    description = { check = V.description, required = true },
    tags = { check = V.tags },
    version = { check = V.version },
    txId = { check = V.txId },
    contentHash = { check = V.contentHash },
  },
  run = function(msg, req, sender)
    local withVersion = req.version or req.txId or req.contentHash
    if withVersion then
      local missing = {}
      for _, f in ipairs({ "version", "txId", "contentHash" }) do
        if req[f] == nil then missing[#missing + 1] = f end
      end
      if #missing > 0 then
        return nil, err("E_MISSING_FIELD",
          "to publish a first version with Register-Skill, send version, txId and contentHash together; missing: "
          .. table.concat(missing, ", "), missing[1])
      end
    end
    if store.get(state(), req.name) then
      local other = store.get(state(), req.name)
      return nil, err("E_SKILL_EXISTS", string.format(
        "a skill named %q already exists (publisher %s); choose another name, or use Publish-Version to add a version to your own skill",
        req.name, other.publisher), "name")
    end
    local ts = timestampOf(msg)
    local skill = store.register(state(), req, sender, ts)
    local version = json.null
    if withVersion then
      version = versionView(store.publish(state(), skill, req.version, req.txId, req.contentHash, ts, sender))
    end
    return { skill = detailView(skill), version = version }
  end,
}

actions["Publish-Version"] = {
  write = true,
  spec = {
    name = { check = V.name, required = true },
    version = { check = V.version, required = true },
    txId = { check = V.txId, required = true },
    contentHash = { check = V.contentHash, required = true },
  },
  run = function(msg, req, sender)
    local skill, e = findSkill(req.name)
    if not skill then return nil, e end
    e = requirePublisher(skill, sender, "publish versions of")
    if e then return nil, e end
    if skill.deprecated then
      return nil, err("E_SKILL_DEPRECATED", string.format(
        "%s is deprecated; send Deprecate-Skill with deprecated=false first if you want to publish to it again", skill.name))
    end
    e = checkNewVersion(skill, req)
    if e then return nil, e end
    local record = store.publish(state(), skill, req.version, req.txId, req.contentHash, timestampOf(msg), sender)
    return { skill = summaryView(skill), version = versionView(record) }
  end,
}

actions["Get-Skill"] = {
  read = true,
  spec = {
    name = { check = V.name, required = true },
    version = {
      check = function(v, field)
        if v == "latest" then return "latest" end
        return V.version(v, field)
      end,
    },
  },
  run = function(_, req)
    local skill, e = findSkill(req.name)
    if not skill then return nil, e end
    local version
    if req.version == nil or req.version == "latest" then
      version = versionView(store.latest(skill))
    else
      local v = store.findVersion(skill, req.version)
      if not v then
        return nil, err("E_VERSION_NOT_FOUND", string.format(
          "%s has no version %s; published versions: %s", skill.name, req.version.text,
          #skill.order > 0 and table.concat(skill.order, ", ") or "(none)"), "version")
      end
      version = versionView(v)
    end
    return { skill = detailView(skill), version = version }
  end,
}

actions["List-Skills"] = {
  read = true,
  spec = {
    cursor = { check = V.cursor },
    limit = { check = V.limit },
  },
  run = function(_, req)
    local s = state()
    local heads, nextCursor = store.page(s, req.cursor, req.limit or LIMITS.pageDefault)
    local skills = json.array()
    for i, head in ipairs(heads) do skills[i] = summaryView(head) end
    return { skills = skills, nextCursor = orNull(nextCursor), total = s.counts.skills }
  end,
}

actions["Search-Skills"] = {
  read = true,
  spec = {
    query = { check = V.query },
    tag = { check = V.tag },
    name = { check = V.prefix },
    publisher = { check = V.address },
    includeDeprecated = { check = V.boolean },
    cursor = { check = V.cursor },
    limit = { check = V.limit },
  },
  run = function(_, req)
    if not (req.query or req.tag or req.name or req.publisher) then
      return nil, err("E_MISSING_FIELD",
        "Search-Skills needs at least one of query, tag, name (a name prefix) or publisher; use List-Skills to list everything", "query")
    end
    local heads, nextCursor, examined, exhausted = store.search(state(), {
      terms = req.query,
      tag = req.tag,
      prefix = req.name,
      publisher = req.publisher,
      includeDeprecated = req.includeDeprecated == true,
    }, req.cursor, req.limit or LIMITS.pageDefault, LIMITS.searchScan)
    local skills = json.array()
    for i, head in ipairs(heads) do skills[i] = summaryView(head) end
    return { skills = skills, nextCursor = orNull(nextCursor), examined = examined, exhausted = exhausted }
  end,
}

actions["Update-Skill"] = {
  write = true,
  spec = {
    name = { check = V.name, required = true },
    description = { check = V.description },
    tags = { check = V.tags },
  },
  run = function(msg, req, sender)
    if req.description == nil and req.tags == nil then
      return nil, err("E_MISSING_FIELD", "Update-Skill needs description, tags, or both", "description")
    end
    local skill, e = findSkill(req.name)
    if not skill then return nil, e end
    e = requirePublisher(skill, sender, "update")
    if e then return nil, e end
    store.update(state(), skill, req, timestampOf(msg))
    return { skill = detailView(skill) }
  end,
}

actions["Deprecate-Skill"] = {
  write = true,
  spec = {
    name = { check = V.name, required = true },
    reason = { check = V.reason },
    deprecated = { check = V.boolean },
  },
  run = function(msg, req, sender)
    local skill, e = findSkill(req.name)
    if not skill then return nil, e end
    e = requirePublisher(skill, sender, "deprecate")
    if e then return nil, e end
    local deprecated = req.deprecated ~= false
    if not deprecated and req.reason then
      return nil, err("E_INVALID_FIELD", "reason only applies when deprecating; drop it when sending deprecated=false", "reason")
    end
    store.deprecate(state(), skill, deprecated, req.reason, timestampOf(msg))
    return { skill = detailView(skill) }
  end,
}

actions["Transfer-Skill"] = {
  write = true,
  spec = {
    name = { check = V.name, required = true },
    to = { check = V.address, required = true },
  },
  run = function(msg, req, sender)
    local skill, e = findSkill(req.name)
    if not skill then return nil, e end
    e = requirePublisher(skill, sender, "transfer")
    if e then return nil, e end
    local from = skill.publisher
    store.transfer(state(), skill, req.to, timestampOf(msg))
    return { skill = detailView(skill), previousPublisher = from }
  end,
}

-- Anyone's, like every read: all AO state is public, and a dry-run's Owner proves nothing.
actions["Export-State"] = {
  read = true,
  spec = {
    cursor = { check = V.cursor },
    limit = { check = V.exportLimit },
  },
  run = function(_, req)
    local s = state()
    local skills = store.page(s, req.cursor, req.limit or LIMITS.exportPageDefault, true)
    -- The `skills` array as the reply encodes it ("[", records joined by ",", "]") stays within
    -- exportPageBytes, exactly; a page holds at least one record whatever its size.
    local records = json.array()
    local bytes = 2
    for _, skill in ipairs(skills) do
      local rec = recordView(skill)
      local size = #json.encode(rec) + (#records > 0 and 1 or 0)
      if #records > 0 and bytes + size > LIMITS.exportPageBytes then break end
      bytes = bytes + size
      records[#records + 1] = rec
    end
    local nextCursor = json.null
    local lastName = records[#records] and records[#records].name
    if lastName and store.lastName(s) ~= lastName then nextCursor = lastName end
    return {
      protocolVersion = PROTOCOL_VERSION,
      schema = s.schema,
      skills = records,
      nextCursor = nextCursor,
      total = s.counts.skills,
    }
  end,
}

---------------------------------------------------------------------------
-- Imported records and entries: validated like live requests, plus timestamps
-- and addresses, before anything is written.

-- A skill's own fields, as exported (Export-State records, State-Export skill entries).
local SKILL_FIELDS = {
  name = { check = V.name, required = true },
  publisher = { check = V.address, required = true },
  description = { check = V.description, required = true },
  tags = { check = V.tags },
  createdAt = { check = V.timestamp, required = true },
  updatedAt = { check = V.timestamp, required = true },
  deprecated = { check = V.boolean },
  deprecationReason = { check = V.reason },
  deprecatedAt = { check = V.timestamp },
}

-- A version's fields, as exported.
local VERSION_FIELDS = {
  version = { check = V.version, required = true },
  txId = { check = V.txId, required = true },
  contentHash = { check = V.contentHash, required = true },
  publishedAt = { check = V.timestamp, required = true },
  publishedBy = { check = V.address, required = true },
}

local function withFields(base, extra)
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  for k, v in pairs(extra) do out[k] = v end
  return out
end

local function checkKind(kind)
  return function(v, field)
    if v ~= kind then return nil, err("E_INVALID_FIELD", field .. " must be \"" .. kind .. "\"", field) end
    return v
  end
end

local RECORD_SPEC = withFields(SKILL_FIELDS, {
  versions = {
    check = function(v, field)
      if not json.isArray(v) then
        return nil, err("E_INVALID_FIELD", field .. " must be an array of versions", field)
      end
      if #v > LIMITS.versionsPerSkill then
        return nil, err("E_LIMIT_REACHED", string.format("%s has %d versions; the limit is %d",
          field, #v, LIMITS.versionsPerSkill), field)
      end
      return v
    end,
  },
})
local SKILL_ENTRY_SPEC = withFields(SKILL_FIELDS, { kind = { check = checkKind("skill"), required = true } })
local VERSION_ENTRY_SPEC = withFields(VERSION_FIELDS, {
  kind = { check = checkKind("version"), required = true },
  skill = { check = V.name, required = true },
})

-- Deprecation details belong to a deprecated skill only (the live actions never store them otherwise).
local function checkDeprecation(rec, prefix)
  if not rec.deprecated and (rec.deprecationReason or rec.deprecatedAt) then
    local field = rec.deprecationReason and "deprecationReason" or "deprecatedAt"
    return err("E_INVALID_FIELD", string.format(
      "%s%s is set on a skill that is not deprecated; drop it, or set deprecated to true", prefix, field),
      prefix .. field)
  end
end

-- A validated version (VERSION_FIELDS) as store.installVersion takes it.
local function versionRecord(v)
  return {
    version = v.version.text,
    txId = v.txId,
    contentHash = v.contentHash,
    publishedAt = v.publishedAt,
    publishedBy = v.publishedBy,
    prerelease = #v.version.prerelease > 0,
  }
end

-- Validates one exported record; returns the record ready for store.install.
local function checkRecord(raw, prefix)
  local rec, e = V.object(raw, RECORD_SPEC, "a skill record", prefix)
  if not rec then return nil, e end
  e = checkDeprecation(rec, prefix)
  if e then return nil, e end
  local versions, seen = {}, {}
  for i, rawVersion in ipairs(rec.versions or {}) do
    local vprefix = string.format("%sversions[%d].", prefix, i - 1)
    local v, ve = V.object(rawVersion, VERSION_FIELDS, "a version record", vprefix)
    if not v then return nil, ve end
    if seen[v.version.core] then
      return nil, err("E_VERSION_EXISTS", string.format("%s lists version %s twice", prefix .. "versions",
        v.version.core), vprefix .. "version")
    end
    seen[v.version.core] = true
    versions[#versions + 1] = { parsed = v.version, record = versionRecord(v) }
  end
  rec.versions = versions
  return rec
end

actions["Import-State"] = {
  ownerOnly = true,
  maxBytes = LIMITS.importMessageBytes,
  spec = {
    skills = {
      required = true,
      check = function(v, field)
        if not json.isArray(v) then
          return nil, err("E_INVALID_FIELD", field .. " must be an array of skill records (as Export-State returns them)", field)
        end
        if #v > LIMITS.exportPageMax then
          return nil, err("E_FIELD_TOO_LARGE", string.format(
            "%s has %d records; send at most %d per Import-State message", field, #v, LIMITS.exportPageMax), field)
        end
        return v
      end,
    },
  },
  run = function(_, req)
    if not store.acceptsImport(state()) then
      return nil, err("E_IMPORT_CLOSED",
        "Import-State only fills a sealed registry (freshly deployed, not yet opened): this one is "
        .. state().status .. ", so it may hold skills their publishers wrote, which an import could replace. "
        .. "Import into a freshly deployed registry process instead")
    end
    local records, names = {}, {}
    for i, raw in ipairs(req.skills) do
      local rec, re = checkRecord(raw, string.format("skills[%d].", i - 1))
      if not rec then return nil, re end
      if names[rec.name] then
        return nil, err("E_SKILL_EXISTS", string.format("skill %q appears twice in this page", rec.name),
          string.format("skills[%d].name", i - 1))
      end
      names[rec.name] = true
      records[#records + 1] = rec
    end
    local replaced = 0
    for _, rec in ipairs(records) do
      if store.install(state(), rec) then replaced = replaced + 1 end
    end
    return { imported = #records, replaced = replaced, total = state().counts.skills }
  end,
}

---------------------------------------------------------------------------
-- State transfer (providers/STATE-TRANSFER.md): the protocol is
-- registry/transfer.lua; what is the registry's own is the entries' shape.

-- Validates a State-Import page whole against the state it goes into (`base`;
-- nil when a rollback empties the state first). Returns the installs to make,
-- in order, or nil and an error naming the entry.
local function checkPage(entries, base)
  local skills = {} -- name -> { cores = {core = true}, count } as the page leaves it
  local function known(name)
    if skills[name] then return skills[name] end
    local existing = base and store.get(base, name)
    if not existing then return nil end
    skills[name] = { cores = existing.versions, count = #existing.order, base = true }
    return skills[name]
  end
  local out = {}
  for i, raw in ipairs(entries) do
    local prefix = string.format("entries[%d].", i - 1)
    local kind = json.isObject(raw) and raw.kind
    if kind == "skill" then
      local fields, e = V.object(raw, SKILL_ENTRY_SPEC, "a skill entry", prefix)
      if not fields then return nil, e end
      e = checkDeprecation(fields, prefix)
      if e then return nil, e end
      known(fields.name)
      skills[fields.name] = skills[fields.name] or { cores = {}, count = 0 }
      out[#out + 1] = { skill = fields }
    elseif kind == "version" then
      local v, e = V.object(raw, VERSION_ENTRY_SPEC, "a version entry", prefix)
      if not v then return nil, e end
      local sk = known(v.skill)
      if not sk then
        return nil, err("E_SKILL_NOT_FOUND", string.format(
          "entries[%d] is version %s of skill %q, which is neither in this registry nor earlier in the page; "
          .. "send the skill's entry before its versions", i - 1, v.version.text, v.skill), prefix .. "skill")
      end
      local core = v.version.core
      if not sk.cores[core] then
        if sk.base then -- copy on first change: the base's table is the live state
          local cores = {}
          for k in pairs(sk.cores) do cores[k] = true end
          sk.cores, sk.base = cores, nil
        end
        sk.cores[core] = true
        sk.count = sk.count + 1
        if sk.count > LIMITS.versionsPerSkill then
          return nil, err("E_LIMIT_REACHED", string.format("entries[%d] would give %s more than %d versions",
            i - 1, v.skill, LIMITS.versionsPerSkill), prefix .. "version")
        end
      end
      out[#out + 1] = { name = v.skill, parsed = v.version, record = versionRecord(v) }
    else
      return nil, err("E_INVALID_FIELD", prefix .. "kind must be \"skill\" or \"version\"", prefix .. "kind")
    end
  end
  return out
end

for name, def in pairs(transfer.actions(state, checkPage)) do actions[name] = def end

---------------------------------------------------------------------------
-- Handlers

local function handlerFor(action, def)
  local maxBytes = def.maxBytes or LIMITS.messageBytes
  -- The request's outcome: (body, tags) on success, (nil, error) on failure.
  local function respond(msg, sender)
    -- Before anything else: nobody but the owner makes the registry read an owner-only request.
    if def.ownerOnly and sender ~= Owner then
      return nil, err("E_NOT_OWNER",
        action .. " is reserved to the owner of this registry process (" .. tostring(Owner) .. ")")
    end
    local size = messageSize(msg)
    if size > maxBytes then
      return nil, err("E_MESSAGE_TOO_LARGE", string.format(
        "the message is %d bytes (Data plus tags); %s accepts at most %d bytes", size, action, maxBytes))
    end
    local refused = (def.write and transfer.writeRefusal(state(), action))
      or (def.read and transfer.readRefusal(state(), action))
    if refused then return nil, refused end
    local data, e = decodeData(msg)
    if not data then return nil, e end
    local req
    req, e = V.object(data, def.spec, action)
    if not req then return nil, e end
    return def.run(msg, req, sender)
  end
  return function(msg)
    local sender = identity.sender(msg, ao and ao.authorities)
    -- One batch (registry/store.lua): what it changed is encoded once at its end, before the
    -- reply goes out, so that a failure there answers E_INTERNAL alone, never after an OK.
    local ok, body, tags = pcall(store.batch, Registry, respond, msg, sender)
    local failure = body
    if ok then
      ok, failure = pcall(function()
        if body then replyOk(msg, sender, action, body, tags) else replyError(msg, sender, action, tags) end
      end)
    end
    if not ok then
      -- A bug, not a bad request. Still answer, so the caller is not left waiting.
      pcall(replyError, msg, sender, action, err("E_INTERNAL",
        "the registry failed to handle " .. action .. ": " .. tostring(failure) .. "; please report this"))
    end
  end
end

local ACTION_ORDER = {
  "Info", "Register-Skill", "Publish-Version", "Get-Skill", "List-Skills", "Search-Skills",
  "Update-Skill", "Deprecate-Skill", "Transfer-Skill", "Export-State", "Import-State",
  "State-Info", "State-Freeze", "State-Unfreeze", "State-Export", "State-Confirm", "State-Import", "State-Open",
}

for _, action in ipairs(ACTION_ORDER) do
  -- Handlers.add replaces a handler of the same name, so loading again updates in place.
  Handlers.add("registry." .. action,
    function(msg) return msg.Action == action end,
    handlerFor(action, actions[action]))
end

-- The reply of the process State-Confirm asked (registry/transfer.lua): taken,
-- never answered.
Handlers.add("registry.State-Info-Response",
  function(msg) return msg.Action == "State-Info-Response" end,
  function(msg) pcall(transfer.onSourceReport, msg) end)

-- No `return` here: the deploying tool appends a footer (DeployedCode = ...)
-- to this code in the same Eval, and a chunk cannot continue after `return`.
