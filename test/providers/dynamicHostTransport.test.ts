/**
 * The harness's gRPC side (scripts/lib/dynamicHost.ts) against @pulumi/pulumi's real dynamic-provider
 * host: an init error's details (ID, properties, reasons in the `grpc-status-details-bin` trailer) come
 * back through grpc-js, and a host answer whose trailers exceed the 64 KiB that grpc-js (nghttp2)
 * accepts fails with an error naming that limit. The provider under test is a few lines of module
 * text in `__provider`, as the host loads any serialized provider.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DynamicHost,
  DynamicHostError,
  dynamicUrn,
  startDynamicHost,
} from "../../scripts/lib/dynamicHost";

/** A provider whose create fails after "creating" `id`, with a message of `size` characters. */
const failingProvider = `exports.handler = () => ({
  async create(props) {
    const e = new Error("M".repeat(props.size));
    Object.assign(e, { id: "the-id", properties: { kept: "yes" }, reasons: ["R".repeat(props.size)] });
    throw e;
  },
});`;

let host: DynamicHost;
beforeAll(async () => {
  host = await startDynamicHost();
  await host.configure({});
}, 60_000);
afterAll(() => host?.stop());

const create = (size: number): Promise<DynamicHostError> =>
  host.create(dynamicUrn("t"), { size, __provider: failingProvider }).then(
    () => {
      throw new Error("create succeeded");
    },
    (e) => e as DynamicHostError,
  );

describe("the harness's grpc-js calls to the dynamic-provider host", () => {
  it("receive an init failure whole: message, ID, properties, reasons", async () => {
    const err = await create(20 * 1024);
    expect(err).toBeInstanceOf(DynamicHostError);
    expect(err.message).toBe(`create: ${"M".repeat(20 * 1024)}`);
    expect(err.initFailed).toEqual({
      id: "the-id",
      properties: { kept: "yes" },
      reasons: ["R".repeat(20 * 1024)],
    });
  });

  it("name the 64 KiB trailer limit when the host's error is over it (why providers bound their errors)", async () => {
    const err = await create(100 * 1024);
    expect(err).toBeInstanceOf(DynamicHostError);
    expect(err.initFailed).toBeUndefined();
    expect(err.message).toMatch(/RST_STREAM.*grpc-js resets a stream whose trailers exceed 64 KiB/);
  });
});
