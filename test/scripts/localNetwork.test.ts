import { describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { describeNetwork } from "../../devnet/networkFile";
import {
  choosePort,
  DEFAULT_PORT,
  portTakenMessage,
  recordedPort,
  startCommand,
} from "../../scripts/lib/localNetwork";

const free =
  (...ports: number[]) =>
  (p: number) =>
    ports.includes(p);

describe("the port deploy:dev starts the local network on", () => {
  it("is the one asked for, else the recorded one, else 4000", () => {
    expect(choosePort({ asked: 4100, recorded: 4200, free: free(4100, 4200, DEFAULT_PORT) })).toEqual({
      port: 4100,
      why: "asked",
    });
    expect(choosePort({ recorded: 4200, free: free(4200, DEFAULT_PORT) })).toEqual({
      port: 4200,
      why: "recorded",
    });
    expect(choosePort({ free: free(DEFAULT_PORT) })).toEqual({ port: DEFAULT_PORT, why: "default" });
  });

  it("swaps a taken port for any free one only when nobody asked for it", () => {
    expect(choosePort({ free: free() })).toEqual({ port: 0, why: "taken", taken: DEFAULT_PORT });
    expect(choosePort({ recorded: 4200, free: free(DEFAULT_PORT) })).toEqual({
      port: 0,
      why: "taken",
      taken: 4200,
    });
    expect(choosePort({ asked: 4100, free: free(DEFAULT_PORT) })).toEqual({ taken: 4100, asked: true });
    // 0 asks for any free port: never taken.
    expect(choosePort({ asked: 0, free: free() })).toEqual({ port: 0, why: "asked" });
  });

  it("a taken port's error names options deploy:dev accepts", () => {
    expect(portTakenMessage(4000)).toBe(
      "port 4000 on 127.0.0.1 is in use by another program: run again with --port <another port> (e.g. --port 4001), or leave out --port and deploy:dev picks a free one",
    );
  });

  it("reads the recorded port from network.json, and the start hint names it", () => {
    const info = describeNetwork(
      "http://127.0.0.1:4321",
      [{ id: AOS_MODULE_ID, aosVersion: "2.0.4" }],
      "L".repeat(43),
    );
    expect(recordedPort(info)).toBe(4321);
    expect(recordedPort(undefined)).toBeUndefined();
    expect(startCommand("/data/net", 4321)).toBe("npm run devnet -- --data /data/net --port 4321");
  });
});
