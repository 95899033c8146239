-- Sorted arrays of strings (byte order): the name index and the per-tag
-- indexes. Lookups are binary searches; inserting shifts the tail, which for
-- 10,000 names is a memmove-sized cost, far below the cost of a message.

local M = {}

-- First position whose element is >= key (or #arr + 1).
function M.lowerBound(arr, key)
  local lo, hi = 1, #arr + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if arr[mid] < key then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- First position whose element is > key (or #arr + 1): where a page that
-- continues after `key` starts.
function M.upperBound(arr, key)
  local lo, hi = 1, #arr + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if arr[mid] <= key then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- Inserts `key` unless present. Returns true when inserted.
function M.insert(arr, key)
  local i = M.lowerBound(arr, key)
  if arr[i] == key then return false end
  table.insert(arr, i, key)
  return true
end

-- Removes `key` if present. Returns true when removed.
function M.remove(arr, key)
  local i = M.lowerBound(arr, key)
  if arr[i] ~= key then return false end
  table.remove(arr, i)
  return true
end

function M.contains(arr, key)
  return arr[M.lowerBound(arr, key)] == key
end

return M
