/**
 * Preloaded (`node --require`) into a local network run by a power-loss test. It wraps the `fs` calls
 * that decide what survives a power loss, and appends one JSON line per durable fact to the file named by
 * POWER_LOSS_LOG, for paths under POWER_LOSS_DIR:
 *   {"op":"open","path","size","dir"}   first open of a path in this run (its size then; pre-existing
 *                                        content is durable: the tests start from a clean stop)
 *   {"op":"create","path"}              a file or directory created (its entry is not durable yet)
 *   {"op":"sync","path","size","data"}  fsync/fdatasync of a file: its first `size` bytes are durable
 *                                        (`data`: the bytes themselves, base64, for files up to 64 bytes)
 *   {"op":"dirsync","path"}             fsync of a directory: the entries created in it are durable
 * The log is written without fsync: the page cache survives the SIGKILL that ends the run. What the
 * network wrote but never synced is then what `simulatePowerLoss` (powerLoss.ts) discards or tears.
 * It changes nothing the network does.
 */
const fs = require("node:fs");
const path = require("node:path");

const LOG = process.env.POWER_LOSS_LOG;
const ROOT = process.env.POWER_LOSS_DIR && path.resolve(process.env.POWER_LOSS_DIR);
if (!LOG || !ROOT) throw new Error("powerLossRecorder needs POWER_LOSS_LOG and POWER_LOSS_DIR");

const real = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  fsyncSync: fs.fsyncSync,
  fdatasyncSync: fs.fdatasyncSync,
  mkdirSync: fs.mkdirSync,
  appendFileSync: fs.appendFileSync,
  fstatSync: fs.fstatSync,
  readSync: fs.readSync,
};
const fds = new Map();
const seen = new Set();
const under = (p) => typeof p === "string" && path.resolve(p).startsWith(`${ROOT}${path.sep}`);
const emit = (event) => real.appendFileSync(LOG, `${JSON.stringify(event)}\n`);

fs.openSync = function openSync(p, flags, ...rest) {
  const watched = under(p);
  const existed = watched && fs.existsSync(p);
  const fd = real.openSync.call(this, p, flags, ...rest);
  if (watched) {
    const abs = path.resolve(p);
    const st = real.fstatSync(fd);
    if (!existed) emit({ op: "create", path: abs });
    if (!seen.has(abs)) {
      seen.add(abs);
      emit({ op: "open", path: abs, size: existed ? st.size : 0, dir: st.isDirectory() });
    }
    fds.set(fd, { path: abs, dir: st.isDirectory() });
  }
  return fd;
};

fs.closeSync = function closeSync(fd) {
  fds.delete(fd);
  return real.closeSync.call(this, fd);
};

function recordSync(fd) {
  const f = fds.get(fd);
  if (!f) return;
  if (f.dir) return emit({ op: "dirsync", path: f.path });
  const { size } = real.fstatSync(fd);
  const event = { op: "sync", path: f.path, size };
  if (size <= 64) {
    const data = Buffer.alloc(size);
    real.readSync(fd, data, 0, size, 0);
    event.data = data.toString("base64");
  }
  emit(event);
}

fs.fsyncSync = function fsyncSync(fd) {
  real.fsyncSync.call(this, fd);
  recordSync(fd);
};

fs.fdatasyncSync = function fdatasyncSync(fd) {
  real.fdatasyncSync.call(this, fd);
  recordSync(fd);
};

fs.mkdirSync = function mkdirSync(p, opts) {
  // A recursive mkdir may create missing parents too: each new entry is undurable until its parent is synced.
  const missing = [];
  for (let d = path.resolve(p); under(d) && !fs.existsSync(d); d = path.dirname(d)) missing.push(d);
  const r = real.mkdirSync.call(this, p, opts);
  for (const d of missing.reverse()) if (fs.existsSync(d)) emit({ op: "create", path: d });
  return r;
};
