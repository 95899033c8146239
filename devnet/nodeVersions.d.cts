/** Types of devnet/nodeVersions.cjs (plain CommonJS so that the launcher loads it on Node.js 20). */
export declare const PINNED_NODE: string;
export declare const MEMORY64_FLAG: string;
export declare function parseVersion(version: string): [number, number, number];
export declare function satisfies(version: string, range: string): boolean;
export declare function memory64Flags(version: string): string[];
export declare function missingMemory64Flags(version: string, execArgv: string[]): string[];
export declare function memory64Problem(
  version: string,
  execArgv: string[],
  npmScript: string,
): string | undefined;
export declare function projectRange(): string;
export declare function testsNodeProblem(version: string, range: string): string | undefined;
export declare function chooseNode(
  runningVersion: string,
  range: string,
  pinned?: string,
): { use: "running" | "pinned"; version: string };
