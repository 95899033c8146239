/** Types of scripts/node-launcher.cjs (plain CommonJS so that it runs on Node.js 20). */
export declare function launch(
  args: string[],
  options?: {
    root?: string;
    env?: NodeJS.ProcessEnv;
    log?: (line: string) => void;
    running?: { version: string; execPath: string };
    pinned?: string;
  },
): Promise<{ code: number } | { signal: NodeJS.Signals }>;
