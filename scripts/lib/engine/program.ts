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
  onRegister(req: RegisterRequest): Promise<{ id: string; state: Record<string, unknown> }>;
}

export interface ProgramProcess {
  /** Runs the program once in this process (a second call is refused). */
  run(opts: RunProgramOptions): Promise<ProgramRun>;
  /** Ends the process unused. */
  kill(): void;
}

/**
 * Starts a program process, which loads the SDK and waits: the engine starts the update's process as
 * soon as the preview finds a change, so that its start overlaps the rest of the preview.
 */
export function startProgram(cwd: string, onLog: (line: string) => void): ProgramProcess {
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
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once("exit", (code, signal) => {
      process.removeListener("exit", killOnExit);
      resolve([code, signal]);
    }),
  );
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  let used = false;
  return {
    kill: () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
    run({ onRegister, ...start }) {
      if (used) return Promise.reject(new Error("a program process runs the program once"));
      used = true;
      let engineError: unknown;
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
      child.send({ type: "start", ...start } satisfies ProgramStart);
      return Promise.race([
        spawnError.then((e) => Promise.reject(e)),
        exited.then(([code, signal]) => {
          // The first error of a run is the one to report: later ones are the program's echo of it.
          if (engineError) throw engineError;
          if (programError) throw programError;
          if (result && code === 0) return result;
          throw new Error(`the program's process ended (${signal ?? `code ${code}`}) without finishing`);
        }),
      ]);
    },
  };
}
