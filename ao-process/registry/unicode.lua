-- Strict UTF-8 (RFC 3629, Unicode table 3-7): what every text the registry
-- stores or echoes must be. Lua 5.3's utf8.len accepts encoded surrogates
-- (CESU-8/WTF-8, e.g. "\237\160\128" for U+D800) and code points up to
-- 0x7FFFFFFF; this refuses both, and overlong forms.

local M = {}

local byte, find = string.byte, string.find

-- Allowed range of the second byte for each lead byte; later bytes are 80..BF.
local function secondRange(lead)
  if lead >= 0xC2 and lead <= 0xDF then return 0x80, 0xBF, 1 end
  if lead == 0xE0 then return 0xA0, 0xBF, 2 end        -- no overlongs
  if lead == 0xED then return 0x80, 0x9F, 2 end        -- no surrogates (U+D800..DFFF)
  if lead >= 0xE1 and lead <= 0xEF then return 0x80, 0xBF, 2 end
  if lead == 0xF0 then return 0x90, 0xBF, 3 end        -- no overlongs
  if lead >= 0xF1 and lead <= 0xF3 then return 0x80, 0xBF, 3 end
  if lead == 0xF4 then return 0x80, 0x8F, 3 end        -- nothing above U+10FFFF
  return nil
end

-- U+FFFD, the replacement character, in UTF-8. On AO's legacy units it is all that reaches a process of
-- bytes that were not UTF-8: the scheduler serves message data through Rust's String::from_utf8_lossy
-- (permaweb/ao servers/su/src/domain/core/bytes.rs), which puts one in place of each bad sequence.
M.REPLACEMENT = "\239\191\189"

-- True when `s` holds U+FFFD.
function M.hasReplacement(s)
  return string.find(s, M.REPLACEMENT, 1, true) ~= nil
end

-- True when `s` is well-formed UTF-8.
function M.valid(s)
  local i, n = 1, #s
  while true do
    i = find(s, "[\128-\255]", i) -- skip ASCII runs
    if not i then return true end
    local lo, hi, more = secondRange(byte(s, i))
    if not lo then return false end
    local b = byte(s, i + 1)
    if not b or b < lo or b > hi then return false end
    for k = i + 2, i + more do
      b = byte(s, k)
      if not b or b < 0x80 or b > 0xBF then return false end
    end
    i = i + more + 1
    if i > n then return true end
  end
end

return M
