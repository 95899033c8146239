-- Who sent a message, without taking a `From-Process` tag on faith.
--
-- On AO a wallet signs its own messages: Owner is the signer, and From equals
-- Owner. A process's outgoing messages are signed by the messenger (an
-- authority of the receiving process), which tags them `From-Process = <the
-- sending process>`. AO's compute units take From from that tag whoever signed
-- the item, and aos lets a message through when From == Owner or when From or
-- Owner is an authority. So a wallet that tags its own message
-- `From-Process = <an authority>` reaches the handlers with From = that
-- authority. Only an authority may speak for someone else: otherwise the
-- sender is the signer.

local M = {}

-- `authorities` is the process's list of authority addresses (ao.authorities).
function M.sender(msg, authorities)
  local owner, from = msg.Owner, msg.From
  if from == nil or from == owner then return owner end
  for _, authority in ipairs(authorities or {}) do
    if owner == authority then return from end
  end
  return owner
end

-- The process a message speaks for, when an authority of this process pushed
-- it on that process's behalf (From-Process, as AO's messenger does for every
-- message a process sends); nil for a wallet's own message, whatever it claims.
function M.process(msg, authorities)
  local sender = M.sender(msg, authorities)
  if sender ~= nil and sender ~= msg.Owner then return sender end
end

return M
