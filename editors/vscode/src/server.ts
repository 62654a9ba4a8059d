// Finding the elexirion binary: the setting, else PATH, else a message
// saying what to do. Pure, so it is tested without VS Code.

import * as path from "path";

export type Resolution = { command: string } | { error: string };

export interface Environment {
  /** The PATH variable. */
  pathVariable: string | undefined;
  platform: NodeJS.Platform;
  /** Whether a file exists and is executable. */
  isExecutable: (file: string) => boolean;
}

export function resolveServer(configured: string | undefined, env: Environment): Resolution {
  const name = env.platform === "win32" ? "elexirion.exe" : "elexirion";
  if (configured && configured.trim() !== "") {
    return env.isExecutable(configured)
      ? { command: configured }
      : { error: `elexirion.server.path is set to "${configured}", which is not an executable file.` };
  }
  const separator = env.platform === "win32" ? ";" : ":";
  for (const dir of (env.pathVariable ?? "").split(separator).filter((d) => d !== "")) {
    const candidate = path.join(dir, name);
    if (env.isExecutable(candidate)) {
      return { command: candidate };
    }
  }
  return {
    error:
      "The elexirion language server was not found on PATH. Build it with `cargo install --path server` " +
      "in the Elexirion repository, or set elexirion.server.path to the binary.",
  };
}
