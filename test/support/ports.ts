/**
 * Ports for tests that need nothing to answer: the kernel hands out a free port, which is closed again
 * before it is used, so no test depends on a fixed port being free (or taken) on the machine.
 */
import { createServer } from "node:net";

/** A loopback port that nothing listens on right now. */
export async function closedPort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
