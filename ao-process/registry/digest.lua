-- The state-transfer digest (providers/STATE-TRANSFER.md): the sum modulo
-- 2^256 of the SHA-256 of every entry's canonical encoding. A sum is
-- order-free, so a write updates it in O(1): subtract the old entry's hash,
-- add the new one's. The accumulator is 8 limbs of 32 bits, most significant
-- first, as sha256.words returns a hash.

local M = {}

function M.new()
  return { 0, 0, 0, 0, 0, 0, 0, 0 }
end

-- acc = acc + w (mod 2^256).
function M.add(acc, w)
  local carry = 0
  for i = 8, 1, -1 do
    local s = acc[i] + w[i] + carry
    acc[i] = s & 0xffffffff
    carry = s >> 32
  end
end

-- acc = acc - w (mod 2^256).
function M.sub(acc, w)
  local borrow = 0
  for i = 8, 1, -1 do
    local s = acc[i] - w[i] - borrow
    borrow = s < 0 and 1 or 0
    acc[i] = s & 0xffffffff
  end
end

-- 64 lowercase hex digits, big-endian; the empty sum is 64 zeros.
function M.hex(acc)
  return string.format(string.rep("%08x", 8), table.unpack(acc))
end

return M
