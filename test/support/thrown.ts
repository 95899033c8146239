/** The error `fn` throws, checked to be a `type`; a test fails when `fn` returns instead. */
export function thrown<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw new Error(`expected a ${type.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
}
