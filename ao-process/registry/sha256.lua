-- SHA-256 (FIPS 180-4) with Lua 5.3 native 64-bit integers. Values are kept
-- to 32 bits by masking where a shift could bring high bits back down; sums
-- are masked once, since the low 32 bits of a 64-bit sum are exact.
-- The state-transfer digest hashes every entry with it (see digest.lua).

local M = {}

local unpack, pack, rep, format = string.unpack, string.pack, string.rep, string.format

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local BLOCK = ">" .. rep("I4", 16)
local W = {} -- the message schedule, reused (no allocation per block)

-- Processes the 64-byte block of `s` at `pos` into the hash words H.
local function compress(H, s, pos)
  W[1], W[2], W[3], W[4], W[5], W[6], W[7], W[8],
  W[9], W[10], W[11], W[12], W[13], W[14], W[15], W[16] = unpack(BLOCK, s, pos)
  for j = 17, 64 do
    local x, y = W[j - 15], W[j - 2]
    local s0 = ((x >> 7) | (x << 25)) ~ ((x >> 18) | (x << 14)) ~ (x >> 3)
    local s1 = ((y >> 17) | (y << 15)) ~ ((y >> 19) | (y << 13)) ~ (y >> 10)
    W[j] = (W[j - 16] + s0 + W[j - 7] + s1) & 0xffffffff
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for j = 1, 64 do
    -- a and e are masked each round: they are the only values shifted right.
    local S1 = ((e >> 6) | (e << 26)) ~ ((e >> 11) | (e << 21)) ~ ((e >> 25) | (e << 7))
    local t1 = h + S1 + (g ~ (e & (f ~ g))) + K[j] + W[j]
    local S0 = ((a >> 2) | (a << 30)) ~ ((a >> 13) | (a << 19)) ~ ((a >> 22) | (a << 10))
    local t2 = S0 + ((a & b) | (c & (a | b)))
    h, g, f, e = g, f, e, (d + t1) & 0xffffffff
    d, c, b, a = c, b, a, (t1 + t2) & 0xffffffff
  end
  H[1] = (H[1] + a) & 0xffffffff
  H[2] = (H[2] + b) & 0xffffffff
  H[3] = (H[3] + c) & 0xffffffff
  H[4] = (H[4] + d) & 0xffffffff
  H[5] = (H[5] + e) & 0xffffffff
  H[6] = (H[6] + f) & 0xffffffff
  H[7] = (H[7] + g) & 0xffffffff
  H[8] = (H[8] + h) & 0xffffffff
end

-- The hash of `s` as 8 integers of 32 bits, most significant first.
function M.words(s)
  local H = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local n = #s
  local full = n - n % 64
  for pos = 1, full, 64 do compress(H, s, pos) end
  -- The tail: the last partial block, 0x80, zeros, and the length in bits (one or two blocks).
  local rest = s:sub(full + 1)
  local zeros = (55 - #rest) % 64
  local tail = rest .. "\128" .. rep("\0", zeros) .. pack(">I8", n * 8)
  for pos = 1, #tail, 64 do compress(H, tail, pos) end
  return H
end

local HEX = rep("%08x", 8)

-- The hash of `s` as 64 lowercase hex digits.
function M.hex(s)
  return format(HEX, table.unpack(M.words(s)))
end

-- The hash of `s` as 32 bytes.
function M.binary(s)
  return pack(">" .. rep("I4", 8), table.unpack(M.words(s)))
end

return M
