/**
 * Wall-clock milliseconds. `@permaweb/ao-loader` replaces `Date.now` process-wide with a deterministic
 * counter when it instantiates a module, so the units never read `Date.now`.
 */
export const wallClock = (): number => new Date().getTime();
