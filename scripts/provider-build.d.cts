/** Types of scripts/provider-build.cjs. */
export declare const STAMP: string;
export declare const PROVIDERS: string;
export declare function buildInputs(root?: string): string[];
export declare function sourcesDigest(root?: string): string;
export declare function staleBuild(root?: string): string | undefined;
export declare function staleBuildMessage(why: string): string;
export declare function writeStamp(root?: string): void;
