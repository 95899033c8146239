import type { AoClient, MessageArgs, Sent } from "../../../providers/aoClient";

/**
 * A fake client's `sender` for tests of what is sent, not how it is retried: `send` answers what `fn`
 * does, and a lookup finds nothing (sendOnce.ts is tested with the real network and the fault proxy).
 */
export const fakeSender =
  (fn: (args: MessageArgs) => Promise<Sent>): AoClient["sender"] =>
  (args) => ({
    signedId: () => undefined,
    lookup: async () => undefined,
    send: () => fn(args),
  });
