import { describe, expect, it } from "vitest";
import { errorStatus, isRetryable, notYetError, probeRefused, withRetry } from "../../providers/retry";
import { closedPort } from "../support/ports";

/** A fake clock: sleep advances time instantly and records the delays. */
function clock() {
  let t = 0;
  const delays: number[] = [];
  return {
    delays,
    now: () => t,
    sleep: async (ms: number) => {
      delays.push(ms);
      t += ms;
    },
  };
}
const httpError = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });
const connError = (code: string) =>
  Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(code), { code }) });

describe("isRetryable", () => {
  it.each([
    ["ECONNREFUSED", connError("ECONNREFUSED")],
    ["ECONNRESET", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })],
    ["ETIMEDOUT", connError("ETIMEDOUT")],
    ["fetch failed", new TypeError("fetch failed")],
    ["429", httpError(429)],
    ["500", httpError(500)],
    ["503 in a message", new Error("Error while communicating with CU: status 503")],
    ["process not found yet", notYetError("process abc not found yet")],
    ["aoconnect's wrapped rejected fetch", new Error("Error while communicating with MU: {}")],
  ])("retries %s", (_name, err) => {
    expect(isRetryable(err)).toBe(true);
  });

  it.each([
    ["400", httpError(400)],
    ["404", httpError(404)],
    ["a Lua error", new Error('[string "aos"]:1: attempt to index a nil value')],
  ])("does not retry %s", (_name, err) => {
    expect(isRetryable(err)).toBe(false);
  });

  it("reads the status from status, statusCode, response.status or the message", () => {
    expect(errorStatus({ statusCode: 502 })).toBe(502);
    expect(errorStatus({ response: { status: 429 } })).toBe(429);
    expect(errorStatus(new Error("HTTP 504 Gateway Timeout"))).toBe(504);
    expect(errorStatus(new Error("nope"))).toBeUndefined();
  });
});

describe("withRetry", () => {
  it("returns the first success after retryable failures, backing off exponentially with jitter", async () => {
    const c = clock();
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw httpError(503);
        return "ok";
      },
      {
        step: "spawn",
        endpoint: "http://mu",
        sleep: c.sleep,
        now: c.now,
        random: () => 1,
        initialDelayMs: 100,
      },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(4);
    expect(c.delays).toEqual([100, 200, 400]);
  });

  it("spreads delays with jitter between half and all of the backoff", async () => {
    const c = clock();
    let n = 0;
    await withRetry(
      async () => {
        if (n++ < 2) throw httpError(429);
      },
      { step: "s", endpoint: "e", sleep: c.sleep, now: c.now, random: () => 0, initialDelayMs: 100 },
    );
    expect(c.delays).toEqual([50, 100]);
  });

  it("caps each delay and the total time, then names step, endpoint, status and last error", async () => {
    const c = clock();
    const err = await withRetry(
      async () => {
        throw httpError(502);
      },
      {
        step: "wait for the process",
        endpoint: "http://cu:6363",
        totalMs: 10_000,
        maxDelayMs: 3_000,
        sleep: c.sleep,
        now: c.now,
        random: () => 1,
      },
    ).catch((e) => e);
    expect(err.name).toBe("RetryError");
    expect(Math.max(...c.delays)).toBe(3_000);
    expect(c.delays.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(err.message).toMatch(
      /^wait for the process failed at http:\/\/cu:6363 after \d+ attempts \(last HTTP status 502\) \(gave up: retry time exhausted\): HTTP 502$/,
    );
    expect(err).toMatchObject({
      step: "wait for the process",
      endpoint: "http://cu:6363",
      status: 502,
      retryable: true,
    });
  });

  it("fails at once on an error that is not retryable", async () => {
    const c = clock();
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw httpError(400);
      },
      { step: "eval", endpoint: "http://mu", sleep: c.sleep, now: c.now },
    ).catch((e) => e);
    expect(calls).toBe(1);
    expect(err.message).toBe(
      "eval failed at http://mu after 1 attempt (last HTTP status 400) (not retryable): HTTP 400",
    );
  });

  it("reports each retry to onRetry with its reason", async () => {
    const c = clock();
    const reasons: string[] = [];
    let n = 0;
    await withRetry(
      async () => {
        if (n++ === 0) throw connError("ECONNREFUSED");
      },
      { step: "s", endpoint: "e", sleep: c.sleep, now: c.now, onRetry: (i) => reasons.push(i.reason) },
    );
    expect(reasons).toEqual(["ECONNREFUSED"]);
  });
});

describe("a refused local network fails within seconds and says how to start it", () => {
  it.each([
    ["ECONNREFUSED", connError("ECONNREFUSED")],
    ["aoconnect's wrapper, the port refusing", new Error("Error while communicating with MU: {}")],
  ])("%s on 127.0.0.1 or localhost: gives up after a few seconds, naming npm run devnet", async (_n, err) => {
    // A port nothing listens on, whatever runs on this machine (a local network on 4000, say).
    const port = await closedPort();
    for (const endpoint of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const c = clock();
      const failure = await withRetry(
        async () => {
          throw err;
        },
        { step: "spawn", endpoint, totalMs: 120_000, now: c.now, sleep: c.sleep, random: () => 0.5 },
      ).catch((e: Error) => e);
      expect((failure as Error).message).toMatch(
        /spawn failed: nothing answers at .*: the local AO network is not running.*npm run devnet/,
      );
      expect(c.now()).toBeLessThanOrEqual(3_000);
    }
  });

  it("a remote unit that refuses keeps the whole backoff budget", async () => {
    const c = clock();
    const failure = await withRetry(
      async () => {
        throw connError("ECONNREFUSED");
      },
      {
        step: "spawn",
        endpoint: "https://mu.example.org",
        totalMs: 120_000,
        now: c.now,
        sleep: c.sleep,
        random: () => 0.5,
      },
    ).catch((e: Error) => e);
    expect((failure as Error).message).toMatch(/gave up: retry time exhausted/);
    expect(c.now()).toBe(120_000);
  });

  it("aoconnect's wrapper of a dropped reply, the port accepting: retried for the whole budget", async () => {
    const c = clock();
    await withRetry(
      async () => {
        throw new Error("Error while communicating with MU: {}");
      },
      {
        step: "spawn",
        endpoint: "http://127.0.0.1:1",
        totalMs: 20_000,
        now: c.now,
        sleep: c.sleep,
        probe: async () => false,
      },
    ).catch(() => {});
    expect(c.now()).toBe(20_000);
  });

  it("the probe tells a closed port from an open one", async () => {
    const { createServer } = await import("node:net");
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    expect(await probeRefused(`http://127.0.0.1:${port}`)).toBe(false);
    await new Promise((r) => server.close(r));
    expect(await probeRefused(`http://127.0.0.1:${port}`)).toBe(true);
  });

  it("a local network answering 503 (up but busy) is still retried for the whole budget", async () => {
    const c = clock();
    await withRetry(
      async () => {
        throw httpError(503);
      },
      {
        step: "eval",
        endpoint: "http://127.0.0.1:1",
        totalMs: 20_000,
        now: c.now,
        sleep: c.sleep,
        random: () => 0.5,
        // An HTTP status says the server is up: nothing to probe (whatever listens on the machine).
        probe: async () => {
          throw new Error("a 503 must not be probed");
        },
      },
    ).catch(() => {});
    expect(c.now()).toBe(20_000);
  });
});
