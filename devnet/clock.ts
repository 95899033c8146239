/**
 * Wall-clock milliseconds. `@permaweb/ao-loader` replaces `Date.now` process-wide with a deterministic
 * counter when it instantiates a module, so the units never read `Date.now`.
 */
// biome-ignore lint/complexity/useDateNow: Date.now is the loader's counter, not the clock
export const wallClock = (): number => new Date().getTime();
