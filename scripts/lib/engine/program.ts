/**
 * Runs the Pulumi program once in a child process (programHost.ts) and serves its registrations:
 * the engine's side of the language host. Each registration goes to `onRegister`, whose answer (or
 * error) resolves the resource in the program. Resolves with the stack outputs.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { ProgramMessage, ProgramStart, RegisterReply, RegisterRequest } from "./programHost";

export interface ProgramRun {
  outputs: Record<string, unknown>;
  /** Exports not known yet (a preview of resources still to be created). */
  unknown: string[];
}

export interface RunProgramOptions extends Omit<ProgramStart, "type"> {
  cwd: string;
  onRegister(req: RegisterRequest): Promise<{ id: string; state: Record<string, unknown> }>;
  /** Each line the program prints (its `pulumi.log` output among them). */
  onLog(line: string): void;
}

/** The first error of a run is the one to report: later ones are the program's echo of it. */
export async function runProgram(opts: RunProgramOptions): Promise<ProgramRun> {
  const { cwd, onRegister, onLog, ...start } = opts;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "programHost.ts")], {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  createInterface({ input: child.stdout! }).on("line", onLog);
  createInterface({ input: child.stderr! }).on("line", onLog);
  let engineError: unknown;
  return new Promise<ProgramRun>((resolve, reject) => {
    let result: ProgramRun | undefined;
    let programError: Error | undefined;
    child.on("message", (m: ProgramMessage) => {
      if (m.type === "register") {
        onRegister(m).then(
          (r) => child.send({ type: "registered", seq: m.seq, ...r } satisfies RegisterReply),
          (e: unknown) => {
            engineError ??= e;
            if (child.connected)
              child.send({ type: "failed", seq: m.seq, message: String((e as Error)?.message ?? e) });
          },
        );
      } else if (m.type === "done") result = { outputs: m.outputs, unknown: m.unknown };
      else {
        programError = new Error(m.message);
        programError.stack = m.stack;
        programError.name = "ProgramError";
      }
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      process.removeListener("exit", killOnExit);
      if (engineError) reject(engineError);
      else if (programError) reject(programError);
      else if (result && code === 0) resolve(result);
      else reject(new Error(`the program's process ended (${signal ?? `code ${code}`}) without finishing`));
    });
    child.send({ type: "start", ...start } satisfies ProgramStart);
  });
}
